//! Schedulers against a real SQLite store and the in-process bus.

mod change;
mod force;
