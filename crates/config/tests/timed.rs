//! `schedulers.Periodic` and `schedulers.Nightly`: their arguments, Buildbot's defaults and
//! numbering, and the errors of bad ones.

mod common;

use common::{BASE, assert_mentions, error, load_with_base};
use ferrobot_config::{SchedulerConfig, TimedSchedule};

#[test]
fn periodic_and_nightly_keep_their_schedules() {
    let config = load_with_base(
        "c['schedulers'] = [\n\
         schedulers.Periodic('hourly', ['b1'], 3600, properties={'a': 1}),\n\
         schedulers.Nightly(name='nightly', builderNames=['b1'], hour=[1, 13], minute='*/30', \
             dayOfWeek=0, branch='main'),\n\
         ]\n",
    );
    let SchedulerConfig::Periodic(periodic) = &config.schedulers[0] else {
        panic!("Periodic expected");
    };
    assert_eq!(periodic.schedule, TimedSchedule::Every { seconds: 3600 });
    assert_eq!(
        periodic.reason,
        "The Periodic scheduler named 'hourly' triggered this build"
    );
    assert_eq!(periodic.properties["a"], serde_json::json!(1));
    let SchedulerConfig::Nightly(nightly) = &config.schedulers[1] else {
        panic!("Nightly expected");
    };
    let TimedSchedule::Cron(cron) = &nightly.schedule else {
        panic!("a cron schedule expected");
    };
    assert_eq!(cron.minutes, [0, 30]);
    assert_eq!(cron.hours, [1, 13]);
    // An int day of week counts from Monday = 0, as Buildbot's.
    assert_eq!(cron.days_of_week, [0]);
    assert!(cron.any_day_of_month && !cron.any_day_of_week);
    assert_eq!(cron.months.len(), 12);
    assert_eq!(nightly.branch.as_deref(), Some("main"));
}

#[test]
fn bad_timed_schedulers_are_refused_naming_the_argument() {
    let refused = |scheduler: &str| error(&format!("{BASE}c['schedulers'] = [{scheduler}]\n"));
    assert_mentions(
        &refused("schedulers.Periodic(name='p', builderNames=['b1'])"),
        &["schedulers.Periodic", "periodicBuildTimer"],
    );
    assert_mentions(
        &refused("schedulers.Periodic(name='p', builderNames=['b1'], periodicBuildTimer=0)"),
        &["periodicBuildTimer", "more than 0"],
    );
    assert_mentions(
        &refused("schedulers.Nightly(name='n', builderNames=['b1'], hour=24)"),
        &["schedulers.Nightly", "'hour'", "0 to 23"],
    );
    assert_mentions(
        &refused("schedulers.Nightly(name='n', builderNames=['b1'], minute='5-1')"),
        &["'minute'", "backwards"],
    );
    assert_mentions(
        &refused("schedulers.Nightly(name='n', builderNames=['b1'], onlyIfChanged=True)"),
        &["onlyIfChanged", "not supported yet"],
    );
}
