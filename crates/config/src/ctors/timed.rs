//! `schedulers.Periodic(name, builderNames, periodicBuildTimer)` and
//! `schedulers.Nightly(name, builderNames, minute=0, hour='*', dayOfMonth='*', month='*',
//! dayOfWeek='*')`.
//!
//! Cron fields take an int, a list of ints or a cron string (`'*'`, `'*/15'`, `'1-5'`,
//! `'mon-fri'`, `'1,15'`). As in Buildbot, `dayOfWeek` ints count from Monday = 0 while a cron
//! string counts from Sunday = 0 (7 is Sunday too).

use starlark::values::Value;

use crate::args::{Args, Spec, seq};
use crate::types::{CronSchedule, SchedulerConfig, TimedSchedule, TimedSchedulerConfig};
use crate::values::Item;

/// Arguments of the timed schedulers Buildbot has that Ferrobot does not implement.
const TIMED_UNSUPPORTED: &[&str] = &[
    "onlyIfChanged",
    "fileIsImportant",
    "change_filter",
    "onlyImportant",
    "codebases",
    "createAbsoluteSourceStamps",
];

/// `schedulers.Periodic(name, builderNames, periodicBuildTimer, ...)`.
pub(crate) static PERIODIC: Spec = Spec {
    qualname: "schedulers.Periodic",
    params: &[
        "name",
        "builderNames",
        "periodicBuildTimer",
        "reason",
        "properties",
        "priority",
    ],
    positional: 3,
    unsupported: TIMED_UNSUPPORTED,
    ignored: &[],
};

/// `schedulers.Nightly(name, builderNames, minute=0, hour='*', ...)`.
pub(crate) static NIGHTLY: Spec = Spec {
    qualname: "schedulers.Nightly",
    params: &[
        "name",
        "builderNames",
        "minute",
        "hour",
        "dayOfMonth",
        "month",
        "dayOfWeek",
        "reason",
        "properties",
        "priority",
        "branch",
    ],
    positional: 2,
    unsupported: &[
        "onlyIfChanged",
        "fileIsImportant",
        "change_filter",
        "onlyImportant",
        "codebases",
        "createAbsoluteSourceStamps",
        "force_at_minute",
        "force_at_hour",
        "force_at_day_of_month",
        "force_at_month",
        "force_at_day_of_week",
    ],
    ignored: &[],
};

pub(crate) fn periodic(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    let seconds = match a.seconds("periodicBuildTimer")? {
        None => return Err(a.missing("periodicBuildTimer")),
        Some(s) if s <= 0.0 => {
            return Err(a.invalid("periodicBuildTimer", "must be more than 0 seconds"));
        }
        Some(s) => s.ceil() as u64,
    };
    timed(a, TimedSchedule::Every { seconds }, "Periodic", None)
}

pub(crate) fn nightly(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    let field = |name: &str, default: &str, range: Field| -> starlark::Result<(Vec<u32>, bool)> {
        match a.given(name) {
            None => parse_cron(default, range).map_err(|why| a.invalid(name, why)),
            Some(v) => parse_value(v, range).map_err(|why| a.invalid(name, why)),
        }
    };
    let (minutes, _) = field("minute", "0", Field::Minute)?;
    let (hours, _) = field("hour", "*", Field::Hour)?;
    let (days_of_month, any_day_of_month) = field("dayOfMonth", "*", Field::DayOfMonth)?;
    let (months, _) = field("month", "*", Field::Month)?;
    let (days_of_week, any_day_of_week) = field("dayOfWeek", "*", Field::DayOfWeek)?;
    let schedule = TimedSchedule::Cron(CronSchedule {
        minutes,
        hours,
        days_of_month,
        months,
        days_of_week,
        any_day_of_month,
        any_day_of_week,
    });
    let branch = a.str("branch")?;
    timed(a, schedule, "Nightly", branch)
}

fn timed(
    a: &Args,
    schedule: TimedSchedule,
    class: &str,
    branch: Option<String>,
) -> starlark::Result<Item> {
    let name = a.req_str("name")?;
    if name.is_empty() {
        return Err(a.invalid("name", "must not be empty"));
    }
    if a.given("builderNames").is_none() {
        return Err(a.missing("builderNames"));
    }
    let reason = a
        .str("reason")?
        .unwrap_or_else(|| format!("The {class} scheduler named '{name}' triggered this build"));
    let config = TimedSchedulerConfig {
        builder_names: a.str_list("builderNames")?,
        schedule,
        reason,
        properties: a.json_dict("properties")?,
        priority: a.int("priority")?.unwrap_or(0),
        branch,
        name,
    };
    Ok(Item::Scheduler(match config.schedule {
        TimedSchedule::Every { .. } => SchedulerConfig::Periodic(config),
        TimedSchedule::Cron(_) => SchedulerConfig::Nightly(config),
    }))
}

/// Which cron field a value is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Minute,
    Hour,
    DayOfMonth,
    Month,
    /// Stored Monday = 0.
    DayOfWeek,
}

impl Field {
    /// The range of a cron string's numbers (day of week: Sunday = 0 or 7).
    fn cron_range(self) -> (u32, u32) {
        match self {
            Field::Minute => (0, 59),
            Field::Hour => (0, 23),
            Field::DayOfMonth => (1, 31),
            Field::Month => (1, 12),
            Field::DayOfWeek => (0, 7),
        }
    }
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
/// Cron's order: Sunday = 0.
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// An int or list of ints in Buildbot's numbering, or a cron string. Returns the sorted values
/// and whether the field was `*`.
fn parse_value(v: Value, field: Field) -> Result<(Vec<u32>, bool), String> {
    if let Some(text) = v.unpack_str() {
        return parse_cron(text, field);
    }
    let items = match seq(v) {
        Some(items) => items,
        None => vec![v],
    };
    let (low, high) = match field {
        Field::DayOfWeek => (0, 6),
        other => other.cron_range(),
    };
    let mut values = Vec::new();
    for item in items {
        let number = item
            .unpack_i32()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| (low..=high).contains(n))
            .ok_or_else(|| format!("must be an int from {low} to {high}, a list of them or a cron string, got {item}"))?;
        values.push(number);
    }
    if values.is_empty() {
        return Err("must not be an empty list".into());
    }
    values.sort_unstable();
    values.dedup();
    Ok((values, false))
}

/// A cron field string.
pub(crate) fn parse_cron(text: &str, field: Field) -> Result<(Vec<u32>, bool), String> {
    let (low, high) = field.cron_range();
    let number = |s: &str| -> Result<u32, String> {
        let lower = s.trim().to_ascii_lowercase();
        let named = match field {
            Field::Month => MONTHS
                .iter()
                .position(|m| *m == lower)
                .map(|i| i as u32 + 1),
            Field::DayOfWeek => DAYS.iter().position(|d| *d == lower).map(|i| i as u32),
            _ => None,
        };
        let n = match named {
            Some(n) => n,
            None => lower
                .parse::<u32>()
                .map_err(|_| format!("{s:?} in {text:?} is not a number"))?,
        };
        if (low..=high).contains(&n) {
            Ok(n)
        } else {
            Err(format!("{n} in {text:?} is outside {low}-{high}"))
        }
    };
    let mut values = Vec::new();
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => {
                let step: u32 =
                    step.trim().parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                        format!("step {step:?} in {text:?} is not a positive number")
                    })?;
                (range.trim(), step)
            }
            None => (item.trim(), 1),
        };
        let (from, to) = if range == "*" {
            (low, if field == Field::DayOfWeek { 6 } else { high })
        } else if let Some((a, b)) = range.split_once('-') {
            (number(a)?, number(b)?)
        } else {
            let start = number(range)?;
            // `5/10` means from 5 to the end, every 10.
            (start, if step > 1 { high } else { start })
        };
        if from > to {
            return Err(format!("range {range:?} in {text:?} runs backwards"));
        }
        values.extend((from..=to).step_by(step as usize));
    }
    if field == Field::DayOfWeek {
        // Cron's Sunday = 0 (or 7) to Buildbot's Monday = 0.
        for value in &mut values {
            *value = (*value + 6) % 7;
        }
    }
    values.sort_unstable();
    values.dedup();
    Ok((values, text.trim() == "*"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_strings_expand_like_cron() {
        assert_eq!(
            parse_cron("*/15", Field::Minute),
            Ok((vec![0, 15, 30, 45], false))
        );
        assert_eq!(
            parse_cron("1-3,10", Field::Hour),
            Ok((vec![1, 2, 3, 10], false))
        );
        assert_eq!(
            parse_cron("5/20", Field::Minute),
            Ok((vec![5, 25, 45], false))
        );
        assert_eq!(
            parse_cron("jan,jun-aug", Field::Month),
            Ok((vec![1, 6, 7, 8], false))
        );
        assert_eq!(
            parse_cron("*", Field::DayOfMonth).map(|(v, any)| (v.len(), any)),
            Ok((31, true))
        );
        // Cron's Sunday = 0 and 7; stored Monday = 0.
        assert_eq!(
            parse_cron("mon-fri", Field::DayOfWeek),
            Ok((vec![0, 1, 2, 3, 4], false))
        );
        assert_eq!(parse_cron("0,7", Field::DayOfWeek), Ok((vec![6], false)));
        assert!(parse_cron("61", Field::Minute).is_err());
        assert!(parse_cron("5-1", Field::Hour).is_err());
        assert!(parse_cron("*/0", Field::Minute).is_err());
        assert!(parse_cron("noon", Field::Hour).is_err());
    }
}
