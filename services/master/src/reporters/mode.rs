//! Whether a finished build is worth a mail, and the words Buildbot uses about it
//! (`reporters/generators/utils.py` and `reporters/message.py`).

use ferrobot_config::{GeneratorConfig, MailMode};
use ferrobot_model::{Properties, Results};

/// Buildbot's `is_message_needed_by_results`: any mode that matches is enough. `change` and
/// `problem` need a previous build of the same builder (`previous`, RETRY builds skipped).
pub fn is_message_needed(modes: &[MailMode], results: Results, previous: Option<Results>) -> bool {
    modes.iter().any(|mode| match mode {
        MailMode::Change => previous.is_some_and(|p| p != results),
        MailMode::Failing => results == Results::Failure,
        MailMode::Passing => results == Results::Success,
        MailMode::Problem => {
            results == Results::Failure && previous.is_some_and(|p| p != Results::Failure)
        }
        MailMode::Warnings => results == Results::Warnings,
        MailMode::Exception => results == Results::Exception,
        MailMode::Cancelled => results == Results::Cancelled,
    })
}

/// A generator's `builders`, `tags`, `schedulers` and `branches` filters (each empty = no
/// filter).
pub fn is_build_wanted(
    config: &GeneratorConfig,
    builder_name: &str,
    builder_tags: &[String],
    properties: &Properties,
) -> bool {
    let property = |name: &str| properties.get(name).and_then(|(v, _)| v.as_str());
    let listed = |list: &[String], value: Option<&str>| {
        list.is_empty() || value.is_some_and(|v| list.iter().any(|l| l == v))
    };
    listed(&config.builders, Some(builder_name))
        && (config.tags.is_empty() || builder_tags.iter().any(|t| config.tags.contains(t)))
        && listed(&config.schedulers, property("scheduler"))
        && listed(&config.branches, property("branch"))
}

/// Buildbot's `get_message_summary_text`.
pub fn summary(results: Results, state_string: &str) -> String {
    let detail = if state_string.is_empty() {
        String::new()
    } else {
        format!(": {state_string}")
    };
    match results {
        Results::Success => "Build succeeded!".to_owned(),
        Results::Warnings => format!("Build Had Warnings{detail}"),
        Results::Cancelled => "Build was cancelled".to_owned(),
        _ => format!("BUILD FAILED{detail}"),
    }
}

/// Buildbot's `get_detected_status_text`.
pub fn status_detected(modes: &[MailMode], results: Results, previous: Option<Results>) -> String {
    let watches = |m: MailMode| modes.contains(&m);
    match results {
        Results::Failure
            if (watches(MailMode::Change) || watches(MailMode::Problem))
                && previous.is_some_and(|p| p != Results::Failure) =>
        {
            "new failure".to_owned()
        }
        Results::Failure => "failed build".to_owned(),
        Results::Warnings => "problem in the build".to_owned(),
        Results::Success if watches(MailMode::Change) && previous.is_some_and(|p| p != results) => {
            "restored build".to_owned()
        }
        Results::Success => "passing build".to_owned(),
        Results::Exception => "build exception".to_owned(),
        other => format!("{} build", other.name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MailMode::*;
    use Results::{Cancelled as C, Exception as E, Failure as F, Success as S, Warnings as W};

    #[test]
    fn simple_modes_match_their_result_only() {
        assert!(is_message_needed(&[Failing], F, None));
        assert!(!is_message_needed(&[Failing], S, Some(F)));
        assert!(is_message_needed(&[Passing], S, None));
        assert!(is_message_needed(&[Warnings], W, None));
        assert!(!is_message_needed(&[Warnings], F, None));
        assert!(is_message_needed(&[Exception], E, None));
        assert!(is_message_needed(&[Cancelled], C, None));
        assert!(!is_message_needed(&[Failing, Passing, Warnings], E, None));
    }

    #[test]
    fn change_and_problem_compare_with_the_previous_build() {
        assert!(!is_message_needed(&[Change], F, None), "no previous build");
        assert!(!is_message_needed(&[Change], F, Some(F)));
        assert!(is_message_needed(&[Change], S, Some(F)));
        assert!(is_message_needed(&[Change], W, Some(S)));
        assert!(!is_message_needed(&[Problem], F, None), "no previous build");
        assert!(!is_message_needed(&[Problem], F, Some(F)), "still failing");
        assert!(is_message_needed(&[Problem], F, Some(S)));
        assert!(is_message_needed(&[Problem], F, Some(W)));
        assert!(!is_message_needed(&[Problem], W, Some(S)));
    }

    #[test]
    fn words_are_buildbots() {
        assert_eq!(summary(S, "build successful"), "Build succeeded!");
        assert_eq!(summary(F, "failed shell"), "BUILD FAILED: failed shell");
        assert_eq!(summary(W, ""), "Build Had Warnings");
        assert_eq!(status_detected(&[Problem], F, Some(S)), "new failure");
        assert_eq!(status_detected(&[Failing], F, Some(S)), "failed build");
        assert_eq!(status_detected(&[Change], S, Some(F)), "restored build");
        assert_eq!(status_detected(&[Passing], S, Some(F)), "passing build");
        assert_eq!(status_detected(&[Cancelled], C, None), "cancelled build");
    }
}
