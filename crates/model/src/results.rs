//! Buildbot's result codes and the rules that combine them.

use serde::{Deserialize, Serialize};

/// The outcome of a step, a build, a build request or a buildset (Buildbot's integer codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "i32", try_from = "i32")]
pub enum Results {
    /// Everything went well (0).
    Success,
    /// Passed with warnings (1).
    Warnings,
    /// Failed (2).
    Failure,
    /// Not run (3).
    Skipped,
    /// An internal error (4).
    Exception,
    /// Interrupted by a lost worker or master; the request runs again (5).
    Retry,
    /// Stopped by a user (6).
    Cancelled,
}

impl Results {
    /// Every result, in code order.
    pub const ALL: [Results; 7] = [
        Results::Success,
        Results::Warnings,
        Results::Failure,
        Results::Skipped,
        Results::Exception,
        Results::Retry,
        Results::Cancelled,
    ];

    /// Buildbot's integer code.
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The result for an integer code, if it is one.
    pub fn from_code(code: i64) -> Option<Results> {
        Results::ALL.get(usize::try_from(code).ok()?).copied()
    }

    /// Buildbot's lowercase name ("success", "failure", ...).
    pub fn name(self) -> &'static str {
        match self {
            Results::Success => "success",
            Results::Warnings => "warnings",
            Results::Failure => "failure",
            Results::Skipped => "skipped",
            Results::Exception => "exception",
            Results::Retry => "retry",
            Results::Cancelled => "cancelled",
        }
    }

    /// Rank used by [`Results::worst`]: higher is worse.
    fn severity(self) -> u8 {
        match self {
            Results::Skipped => 0,
            Results::Success => 1,
            Results::Warnings => 2,
            Results::Failure => 3,
            Results::Exception => 4,
            Results::Retry => 5,
            Results::Cancelled => 6,
        }
    }

    /// Buildbot's `worst_status`: CANCELLED > RETRY > EXCEPTION > FAILURE > WARNINGS > SUCCESS > SKIPPED.
    pub fn worst(self, other: Results) -> Results {
        if other.severity() > self.severity() {
            other
        } else {
            self
        }
    }
}

impl From<Results> for i32 {
    fn from(r: Results) -> i32 {
        r.code()
    }
}

impl TryFrom<i32> for Results {
    type Error = String;
    fn try_from(code: i32) -> Result<Self, Self::Error> {
        Results::from_code(i64::from(code)).ok_or_else(|| format!("unknown result code {code}"))
    }
}

impl std::fmt::Display for Results {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How a step's result counts towards its build (Buildbot's `ResultComputingConfigMixin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultFlags {
    /// Stop the build after this step fails.
    pub halt_on_failure: bool,
    /// A failed step fails the build.
    pub flunk_on_failure: bool,
    /// A step with warnings fails the build.
    pub flunk_on_warnings: bool,
    /// A failed step makes the build WARNINGS.
    pub warn_on_failure: bool,
    /// A step with warnings makes the build WARNINGS.
    pub warn_on_warnings: bool,
}

impl Default for ResultFlags {
    fn default() -> Self {
        ResultFlags {
            halt_on_failure: false,
            flunk_on_failure: true,
            flunk_on_warnings: false,
            warn_on_failure: false,
            warn_on_warnings: false,
        }
    }
}

impl ResultFlags {
    /// Buildbot's `computeResultAndTermination`: the build result after a step, and whether the
    /// build stops running ordinary steps.
    pub fn apply(self, build_so_far: Results, step: Results) -> (Results, bool) {
        let (contribution, terminate) = match step {
            Results::Failure => {
                let c = if self.flunk_on_failure {
                    Results::Failure
                } else if self.warn_on_failure {
                    Results::Warnings
                } else {
                    Results::Success
                };
                (c, self.halt_on_failure)
            }
            Results::Warnings => {
                let c = if self.flunk_on_warnings {
                    Results::Failure
                } else if self.warn_on_warnings {
                    Results::Warnings
                } else {
                    Results::Success
                };
                (c, false)
            }
            Results::Exception | Results::Retry | Results::Cancelled => (step, true),
            Results::Success | Results::Skipped => (step, false),
        };
        (build_so_far.worst(contribution), terminate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_follows_buildbot_precedence() {
        assert_eq!(Results::Success.worst(Results::Skipped), Results::Success);
        assert_eq!(Results::Skipped.worst(Results::Warnings), Results::Warnings);
        assert_eq!(
            Results::Failure.worst(Results::Exception),
            Results::Exception
        );
        assert_eq!(Results::Cancelled.worst(Results::Retry), Results::Cancelled);
    }

    #[test]
    fn failure_flunks_by_default_and_halts_only_when_asked() {
        let flags = ResultFlags::default();
        assert_eq!(
            flags.apply(Results::Success, Results::Failure),
            (Results::Failure, false)
        );
        let halting = ResultFlags {
            halt_on_failure: true,
            ..flags
        };
        assert_eq!(
            halting.apply(Results::Success, Results::Failure),
            (Results::Failure, true)
        );
        let lenient = ResultFlags {
            flunk_on_failure: false,
            warn_on_failure: true,
            ..flags
        };
        assert_eq!(
            lenient.apply(Results::Success, Results::Failure),
            (Results::Warnings, false)
        );
    }

    #[test]
    fn exceptions_terminate() {
        let flags = ResultFlags::default();
        assert_eq!(
            flags.apply(Results::Success, Results::Exception),
            (Results::Exception, true)
        );
        assert_eq!(
            flags.apply(Results::Warnings, Results::Retry),
            (Results::Retry, true)
        );
    }

    #[test]
    fn serializes_as_integer() {
        assert_eq!(
            serde_json::to_string(&Results::Failure).expect("serialize"),
            "2"
        );
        let r: Results = serde_json::from_str("6").expect("deserialize");
        assert_eq!(r, Results::Cancelled);
    }
}
