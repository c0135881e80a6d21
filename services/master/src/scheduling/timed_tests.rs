use super::*;

fn all(low: u32, high: u32) -> Vec<u32> {
    (low..=high).collect()
}

fn cron(minutes: &[u32], hours: &[u32]) -> CronSchedule {
    CronSchedule {
        minutes: minutes.to_vec(),
        hours: hours.to_vec(),
        days_of_month: all(1, 31),
        months: all(1, 12),
        days_of_week: all(0, 6),
        any_day_of_month: true,
        any_day_of_week: true,
    }
}

fn matches_at(cron: &CronSchedule, at: i64) -> bool {
    let local = Local.timestamp_opt(at, 0).single().expect("local time");
    cron.matches(
        local.minute(),
        local.hour(),
        local.day(),
        local.month(),
        local.weekday().num_days_from_monday(),
    )
}

/// The answer matches, and no minute between `after` and it does (checked one by one).
fn assert_next(cron: &CronSchedule, after: i64) -> i64 {
    let next = next_cron_time(cron, after).expect("a next time");
    assert!(next > after && next % 60 == 0, "{next} after {after}");
    assert!(matches_at(cron, next), "{next} matches");
    let mut minute = after.div_euclid(60) + 1;
    while minute * 60 < next {
        assert!(
            !matches_at(cron, minute * 60),
            "{} was skipped",
            minute * 60
        );
        minute += 1;
    }
    next
}

/// 2026-03-01 00:00:00 UTC, a Sunday.
const START: i64 = 1_772_323_200;

#[test]
fn the_next_time_is_the_first_matching_minute() {
    let daily = cron(&[15], &[3]);
    let first = assert_next(&daily, START);
    assert_eq!(
        assert_next(&daily, first) - first,
        24 * 3600,
        "one day later"
    );
    assert_next(&cron(&[0, 30], &all(0, 23)), START + 17);

    let mut weekdays = cron(&[0], &[9]);
    weekdays.days_of_week = vec![0, 1, 2, 3, 4];
    weekdays.any_day_of_week = false;
    let mut at = START;
    for _ in 0..7 {
        at = assert_next(&weekdays, at);
        let local = Local.timestamp_opt(at, 0).single().expect("local");
        assert!(local.weekday().num_days_from_monday() < 5, "{local}");
    }
}

#[test]
fn restricted_day_of_month_and_day_of_week_match_either_as_in_cron() {
    let mut either = cron(&[0], &[0]);
    either.days_of_month = vec![13];
    either.any_day_of_month = false;
    either.days_of_week = vec![4];
    either.any_day_of_week = false;
    let mut at = START;
    for _ in 0..10 {
        at = assert_next(&either, at);
        let local = Local.timestamp_opt(at, 0).single().expect("local");
        assert!(
            local.day() == 13 || local.weekday().num_days_from_monday() == 4,
            "{local}"
        );
    }
}

#[test]
fn a_rare_date_is_found_years_ahead_and_an_impossible_one_is_none() {
    let mut leap = cron(&[0], &[12]);
    leap.days_of_month = vec![29];
    leap.any_day_of_month = false;
    leap.months = vec![2];
    let next = next_cron_time(&leap, START).expect("29 February comes");
    let local = Local.timestamp_opt(next, 0).single().expect("local");
    assert_eq!((local.month(), local.day(), local.hour()), (2, 29, 12));
    assert_eq!(local.year(), 2028);

    let mut never = leap;
    never.days_of_month = vec![31];
    assert_eq!(
        next_cron_time(&never, START),
        None,
        "31 February never comes"
    );
}
