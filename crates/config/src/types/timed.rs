//! `schedulers.Periodic` and `schedulers.Nightly` (reference/buildbot.md §7.5).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A scheduler that starts its builders at times of its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimedSchedulerConfig {
    /// Unique name; also the `scheduler` build property.
    pub name: String,
    /// Builders to start.
    pub builder_names: Vec<String>,
    /// When.
    pub schedule: TimedSchedule,
    /// Reason shown on the buildset.
    pub reason: String,
    /// Buildset properties (source "Scheduler").
    pub properties: BTreeMap<String, Value>,
    /// Priority of the requests.
    pub priority: i64,
    /// Branch of the source stamp (Nightly's deprecated `branch=`; None: the default branch).
    pub branch: Option<String>,
}

impl TimedSchedulerConfig {
    /// Buildbot's class name (the `object_state` class of its `last_build`).
    pub fn class_name(&self) -> &'static str {
        match self.schedule {
            TimedSchedule::Every { .. } => "Periodic",
            TimedSchedule::Cron(_) => "Nightly",
        }
    }
}

/// When a timed scheduler fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TimedSchedule {
    /// `Periodic(periodicBuildTimer=seconds)`.
    Every {
        /// Seconds between builds.
        seconds: u64,
    },
    /// `Nightly(minute=..., hour=..., dayOfMonth=..., month=..., dayOfWeek=...)`.
    Cron(CronSchedule),
}

/// The allowed values of each cron field, in the master's local time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CronSchedule {
    /// 0–59.
    pub minutes: Vec<u32>,
    /// 0–23.
    pub hours: Vec<u32>,
    /// 1–31.
    pub days_of_month: Vec<u32>,
    /// 1–12.
    pub months: Vec<u32>,
    /// 0–6, Monday = 0 (Buildbot's numbering).
    pub days_of_week: Vec<u32>,
    /// `dayOfMonth` was `*`.
    pub any_day_of_month: bool,
    /// `dayOfWeek` was `*`.
    pub any_day_of_week: bool,
}

impl CronSchedule {
    /// Whether a local time (month 1–12, day of week Monday = 0) is one of the schedule's. As
    /// in cron, when both day fields are restricted a day matching either one counts.
    pub fn matches(&self, minute: u32, hour: u32, day: u32, month: u32, weekday: u32) -> bool {
        let day_matches = match (self.any_day_of_month, self.any_day_of_week) {
            (true, true) => true,
            (true, false) => self.days_of_week.contains(&weekday),
            (false, true) => self.days_of_month.contains(&day),
            (false, false) => {
                self.days_of_month.contains(&day) || self.days_of_week.contains(&weekday)
            }
        };
        day_matches
            && self.minutes.contains(&minute)
            && self.hours.contains(&hour)
            && self.months.contains(&month)
    }
}
