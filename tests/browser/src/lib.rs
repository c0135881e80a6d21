//! Headless Chromium for the dashboard's tests: starts `chromedriver` (Debian's
//! `chromium-driver`) with a fresh profile and drives the page over the W3C WebDriver protocol,
//! with a small client of our own on reqwest.
//!
//! Chromium and chromedriver must be installed (`scripts/test.sh` installs them); without them
//! [`Browser::start`] fails naming the missing program, it never skips. `FERROBOT_CHROMIUM` and
//! `FERROBOT_CHROMEDRIVER` override their paths.
#![warn(missing_docs)]

mod base64;
mod webdriver;

pub use webdriver::{Browser, Element};

/// How long any wait on the page may take before the test fails.
pub const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
