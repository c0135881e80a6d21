//! Signals sent to a command's process group.

use std::str::FromStr;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// Parses Buildbot's `interruptSignal`: "KILL", "SIGTERM", "int" or a number; empty is KILL.
pub(super) fn parse(name: &str) -> Option<Signal> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Some(Signal::SIGKILL);
    }
    if let Ok(number) = trimmed.parse::<i32>() {
        return Signal::try_from(number).ok();
    }
    let upper = trimmed.to_ascii_uppercase();
    let full = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    Signal::from_str(&full).ok()
}

/// Signals every process of the group; false when none is left.
pub(super) fn signal_group(pgid: i32, signal: Signal) -> bool {
    match killpg(Pid::from_raw(pgid), signal) {
        Ok(()) => {
            tracing::debug!(pgid, signal = %signal, "signalled process group");
            true
        }
        Err(errno) => {
            tracing::debug!(pgid, signal = %signal, %errno, "process group not signalled");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names_are_read_like_buildbot() {
        assert_eq!(parse(""), Some(Signal::SIGKILL));
        assert_eq!(parse("KILL"), Some(Signal::SIGKILL));
        assert_eq!(parse("TERM"), Some(Signal::SIGTERM));
        assert_eq!(parse("sigint"), Some(Signal::SIGINT));
        assert_eq!(parse("15"), Some(Signal::SIGTERM));
        assert_eq!(parse("NOPE"), None);
    }
}
