//! `util.ChangeFilter` matching (reference/buildbot.md §7.3): every configured condition must
//! hold; an unset condition does not filter.

use ferrobot_config::ChangeFilter;
use ferrobot_model::Change;
use regex::Regex;

/// A [`ChangeFilter`] with its regular expression compiled once, for a scheduler's lifetime.
#[derive(Debug, Clone)]
pub struct CompiledFilter {
    filter: ChangeFilter,
    branch_re: BranchRe,
}

#[derive(Debug, Clone)]
enum BranchRe {
    Unset,
    Valid(Regex),
    // Kept rather than dropped: ignoring a broken pattern would let every branch through.
    Invalid,
}

impl CompiledFilter {
    /// Compiles the filter. An invalid `branch_re` is logged and then matches no change, so a
    /// typo never builds every branch.
    pub fn new(filter: &ChangeFilter) -> CompiledFilter {
        let branch_re = match &filter.branch_re {
            None => BranchRe::Unset,
            // Python's re.match anchors at the start only, so `rel` matches `release-1`.
            Some(pattern) => match Regex::new(&format!("^(?:{pattern})")) {
                Ok(regex) => BranchRe::Valid(regex),
                Err(error) => {
                    tracing::warn!(pattern = %pattern, %error, "invalid branch_re; it matches no change");
                    BranchRe::Invalid
                }
            },
        };
        CompiledFilter {
            filter: filter.clone(),
            branch_re,
        }
    }

    /// Whether the change passes every condition of the filter.
    pub fn matches(&self, change: &Change) -> bool {
        let filter = &self.filter;
        if let Some(branches) = &filter.branch
            && !branches.contains(&change.branch)
        {
            return false;
        }
        let branch_re_ok = match (&self.branch_re, &change.branch) {
            (BranchRe::Unset, _) => true,
            (BranchRe::Valid(regex), Some(branch)) => regex.is_match(branch),
            // A change on the default branch has no name for a pattern to match.
            (BranchRe::Valid(_), None) | (BranchRe::Invalid, _) => false,
        };
        branch_re_ok
            && one_of(&filter.project, &change.project)
            && one_of(&filter.repository, &change.repository)
            && category_ok(&filter.category, change.category.as_deref())
            && one_of(&filter.codebase, &change.codebase)
    }
}

fn one_of(allowed: &Option<Vec<String>>, value: &str) -> bool {
    allowed
        .as_ref()
        .is_none_or(|values| values.iter().any(|v| v == value))
}

fn category_ok(allowed: &Option<Vec<String>>, category: Option<&str>) -> bool {
    match (allowed, category) {
        (None, _) => true,
        (Some(values), Some(category)) => values.iter().any(|v| v == category),
        (Some(_), None) => false,
    }
}

#[cfg(test)]
mod tests {
    use ferrobot_model::SourceStamp;

    use super::*;

    fn change(branch: Option<&str>) -> Change {
        Change {
            changeid: 1,
            parent_changeids: vec![],
            author: "A U Thor <author@example.com>".into(),
            committer: None,
            files: vec![],
            comments: "fix".into(),
            revision: Some("abc".into()),
            when_timestamp: 0,
            branch: branch.map(str::to_owned),
            category: Some("ci".into()),
            revlink: None,
            properties: Default::default(),
            repository: "https://example.com/repo.git".into(),
            project: "proj".into(),
            codebase: "".into(),
            sourcestamp: SourceStamp {
                ssid: 1,
                revision: Some("abc".into()),
                branch: branch.map(str::to_owned),
                repository: "https://example.com/repo.git".into(),
                project: "proj".into(),
                codebase: "".into(),
                patch: None,
                created_at: 0,
            },
        }
    }

    fn matches(filter: ChangeFilter, change: &Change) -> bool {
        CompiledFilter::new(&filter).matches(change)
    }

    #[test]
    fn an_empty_filter_accepts_every_change() {
        assert!(matches(ChangeFilter::default(), &change(Some("main"))));
        assert!(matches(ChangeFilter::default(), &change(None)));
    }

    #[test]
    fn branch_none_means_the_default_branch_only() {
        let filter = ChangeFilter {
            branch: Some(vec![None]),
            ..Default::default()
        };
        assert!(matches(filter.clone(), &change(None)));
        assert!(!matches(filter, &change(Some("main"))));
    }

    #[test]
    fn a_branch_list_accepts_any_of_its_branches() {
        let filter = ChangeFilter {
            branch: Some(vec![Some("main".into()), Some("release".into())]),
            ..Default::default()
        };
        assert!(matches(filter.clone(), &change(Some("main"))));
        assert!(matches(filter.clone(), &change(Some("release"))));
        assert!(!matches(filter.clone(), &change(Some("feature"))));
        assert!(!matches(filter, &change(None)));
    }

    #[test]
    fn branch_re_is_anchored_at_the_start_only() {
        let filter = ChangeFilter {
            branch_re: Some("rel".into()),
            ..Default::default()
        };
        assert!(matches(filter.clone(), &change(Some("release-1.0"))));
        assert!(!matches(filter.clone(), &change(Some("prerelease"))));
        assert!(
            !matches(filter, &change(None)),
            "the default branch never matches a pattern"
        );
    }

    #[test]
    fn branch_re_alternatives_are_all_anchored() {
        let filter = ChangeFilter {
            branch_re: Some("a|b".into()),
            ..Default::default()
        };
        assert!(matches(filter.clone(), &change(Some("bugfix"))));
        assert!(!matches(filter, &change(Some("xb"))));
    }

    #[test]
    fn an_invalid_branch_re_matches_nothing() {
        let filter = ChangeFilter {
            branch_re: Some("(".into()),
            ..Default::default()
        };
        assert!(!matches(filter, &change(Some("main"))));
    }

    #[test]
    fn project_repository_category_and_codebase_are_anded() {
        let all = ChangeFilter {
            branch: Some(vec![Some("main".into())]),
            project: Some(vec!["other".into(), "proj".into()]),
            repository: Some(vec!["https://example.com/repo.git".into()]),
            category: Some(vec!["ci".into()]),
            codebase: Some(vec!["".into()]),
            ..Default::default()
        };
        let main = change(Some("main"));
        assert!(matches(all.clone(), &main));
        let wrong_project = ChangeFilter {
            project: Some(vec!["other".into()]),
            ..all.clone()
        };
        assert!(!matches(wrong_project, &main));
        let wrong_repository = ChangeFilter {
            repository: Some(vec!["https://example.com/x.git".into()]),
            ..all.clone()
        };
        assert!(!matches(wrong_repository, &main));
        let wrong_category = ChangeFilter {
            category: Some(vec!["docs".into()]),
            ..all.clone()
        };
        assert!(!matches(wrong_category, &main));
        let wrong_codebase = ChangeFilter {
            codebase: Some(vec!["lib".into()]),
            ..all.clone()
        };
        assert!(!matches(wrong_codebase, &main));
        assert!(!matches(all, &change(Some("feature"))));
    }

    #[test]
    fn a_category_filter_rejects_changes_without_a_category() {
        let mut uncategorised = change(Some("main"));
        uncategorised.category = None;
        let filter = ChangeFilter {
            category: Some(vec!["ci".into()]),
            ..Default::default()
        };
        assert!(!matches(filter, &uncategorised));
    }
}
