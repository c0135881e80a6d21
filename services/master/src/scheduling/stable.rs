//! treeStableTimer bookkeeping: one deadline per timer key, restarted by every accepted change
//! (reference/buildbot.md §7.2).

use std::collections::BTreeMap;
use std::time::Duration;

use ferrobot_model::Change;
use tokio::time::Instant;

/// Which timer a change restarts. A SingleBranchScheduler has one timer (every change maps
/// to the default key); an AnyBranchScheduler has one per codebase, project, repository and
/// branch, so a busy branch does not hold back a quiet one.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimerKey {
    /// Codebase of the change.
    pub codebase: String,
    /// Project of the change.
    pub project: String,
    /// Repository of the change.
    pub repository: String,
    /// Branch of the change (None = default branch).
    pub branch: Option<String>,
}

impl TimerKey {
    /// The key of an AnyBranchScheduler timer for this change.
    pub fn of_change(change: &Change) -> TimerKey {
        TimerKey {
            codebase: change.codebase.clone(),
            project: change.project.clone(),
            repository: change.repository.clone(),
            branch: change.branch.clone(),
        }
    }
}

/// Running timers and their deadlines.
#[derive(Debug)]
pub struct StableTimers {
    stable_for: Duration,
    deadlines: BTreeMap<TimerKey, Instant>,
}

impl StableTimers {
    /// No timers yet; each one, once started, fires `stable_for` after its last restart.
    pub fn new(stable_for: Duration) -> StableTimers {
        StableTimers {
            stable_for,
            deadlines: BTreeMap::new(),
        }
    }

    /// Starts the key's timer, or pushes its deadline back if it is running.
    pub fn restart(&mut self, key: TimerKey, now: Instant) {
        self.deadlines.insert(key, now + self.stable_for);
    }

    /// The earliest deadline, if any timer runs.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.values().min().copied()
    }

    /// Removes and returns the keys whose deadline has passed, in key order.
    pub fn take_due(&mut self, now: Instant) -> Vec<TimerKey> {
        let due: Vec<TimerKey> = self
            .deadlines
            .iter()
            .filter(|(_, deadline)| **deadline <= now)
            .map(|(key, _)| key.clone())
            .collect();
        for key in &due {
            self.deadlines.remove(key);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn branch(name: &str) -> TimerKey {
        TimerKey {
            branch: Some(name.into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_timer_fires_once_after_the_stable_time() {
        let start = Instant::now();
        let mut timers = StableTimers::new(Duration::from_secs(10));
        timers.restart(branch("main"), start);
        assert_eq!(
            timers.next_deadline(),
            Some(start + Duration::from_secs(10))
        );
        assert!(timers.take_due(start + Duration::from_secs(9)).is_empty());
        assert_eq!(
            timers.take_due(start + Duration::from_secs(10)),
            vec![branch("main")]
        );
        assert!(timers.take_due(start + Duration::from_secs(60)).is_empty());
        assert_eq!(timers.next_deadline(), None);
    }

    #[test]
    fn a_restart_pushes_the_deadline_back() {
        let start = Instant::now();
        let mut timers = StableTimers::new(Duration::from_secs(10));
        timers.restart(branch("main"), start);
        timers.restart(branch("main"), start + Duration::from_secs(5));
        assert!(timers.take_due(start + Duration::from_secs(12)).is_empty());
        assert_eq!(
            timers.take_due(start + Duration::from_secs(15)),
            vec![branch("main")]
        );
    }

    #[test]
    fn keys_run_independently() {
        let start = Instant::now();
        let mut timers = StableTimers::new(Duration::from_secs(10));
        timers.restart(branch("a"), start);
        timers.restart(branch("b"), start + Duration::from_secs(5));
        assert_eq!(
            timers.next_deadline(),
            Some(start + Duration::from_secs(10))
        );
        assert_eq!(
            timers.take_due(start + Duration::from_secs(10)),
            vec![branch("a")]
        );
        assert_eq!(
            timers.take_due(start + Duration::from_secs(15)),
            vec![branch("b")]
        );
    }
}
