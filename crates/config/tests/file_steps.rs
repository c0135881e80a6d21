//! The file steps: every argument given, Buildbot's defaults, and argument errors.

mod common;

use std::collections::BTreeMap;

use common::{error, single_step};
use ferrobot_config::{Command, Compression, StepConfig};

#[test]
fn directory_steps_take_dir_positionally_and_halt_by_default() {
    let StepConfig::RemoveDirectory(r) = single_step("steps.RemoveDirectory('build/out')") else {
        panic!("RemoveDirectory expected");
    };
    assert_eq!(r.dir, "build/out");
    assert_eq!(r.common.name, "RemoveDirectory");
    assert!(r.common.halt_on_failure && r.common.flunk_on_failure);
    let StepConfig::MakeDirectory(m) =
        single_step("steps.MakeDirectory(dir='x/y', name='mk', haltOnFailure=False)")
    else {
        panic!("MakeDirectory expected");
    };
    assert_eq!((m.dir.as_str(), m.common.name.as_str()), ("x/y", "mk"));
    assert!(!m.common.halt_on_failure);
}

#[test]
fn set_property_from_command_and_master_shell_command_take_their_arguments() {
    let StepConfig::SetPropertyFromCommand(s) = single_step(
        "steps.SetPropertyFromCommand(command=['git', 'describe'], property='version', \
         strip=False, env={'A': 'b'}, timeout=None, maxTime=5, workdir='src', alwaysRun=True)",
    ) else {
        panic!("SetPropertyFromCommand expected");
    };
    assert_eq!(
        s.command,
        Command::Argv(vec!["git".into(), "describe".into()])
    );
    assert_eq!(s.property, "version");
    assert!(!s.strip);
    assert_eq!(s.env, BTreeMap::from([("A".into(), Some("b".into()))]));
    assert_eq!((s.timeout_s, s.max_time_s), (None, Some(5.0)));
    assert_eq!(s.common.workdir.as_deref(), Some("src"));
    assert!(s.common.always_run && !s.common.halt_on_failure);
    assert_eq!(s.common.name, "setproperty");
    let StepConfig::SetPropertyFromCommand(d) =
        single_step("steps.SetPropertyFromCommand(command='date', property='now')")
    else {
        panic!("SetPropertyFromCommand expected");
    };
    assert!(d.strip);
    assert_eq!(d.timeout_s, Some(1200.0));

    let StepConfig::MasterShellCommand(m) =
        single_step("steps.MasterShellCommand('make docs', workdir='site', env={'X': None})")
    else {
        panic!("MasterShellCommand expected");
    };
    assert_eq!(m.command, Command::Shell("make docs".into()));
    assert_eq!(m.common.workdir.as_deref(), Some("site"));
    assert_eq!(m.env, BTreeMap::from([("X".into(), None)]));
    assert_eq!(m.common.name, "MasterShellCommand");
    assert!(m.common.halt_on_failure);
}

#[test]
fn transfers_take_buildbot_arguments_and_defaults() {
    let StepConfig::StringDownload(s) =
        single_step("steps.StringDownload('', 'out/empty', mode=0o755)")
    else {
        panic!("StringDownload expected");
    };
    assert_eq!((s.s.as_str(), s.workerdest.as_str()), ("", "out/empty"));
    assert_eq!((s.mode, s.maxsize, s.blocksize), (Some(0o755), None, 16384));
    assert_eq!(s.common.name, "string_download");

    let StepConfig::FileDownload(d) = single_step(
        "steps.FileDownload(mastersrc='a.txt', workerdest='b.txt', maxsize=100, blocksize=10)",
    ) else {
        panic!("FileDownload expected");
    };
    assert_eq!(
        (d.mastersrc.as_str(), d.workerdest.as_str()),
        ("a.txt", "b.txt")
    );
    assert_eq!((d.maxsize, d.blocksize, d.mode), (Some(100), 10, None));
    assert_eq!(d.common.name, "download");

    let StepConfig::FileUpload(u) =
        single_step("steps.FileUpload('dist/x.tgz', 'public/x.tgz', mode=0o644, keepstamp=True)")
    else {
        panic!("FileUpload expected");
    };
    assert_eq!(
        (u.workersrc.as_str(), u.masterdest.as_str()),
        ("dist/x.tgz", "public/x.tgz")
    );
    assert_eq!((u.mode, u.keepstamp, u.maxsize), (Some(0o644), true, None));
    assert_eq!(u.blocksize, 256 * 1024, "Buildbot's FileUpload default");
    assert_eq!(u.common.name, "upload");
    assert!(u.common.halt_on_failure);

    for (arg, expected) in [
        ("", Compression::None),
        (", compress=None", Compression::None),
        (", compress='gz'", Compression::Gz),
        (", compress='bz2'", Compression::Bz2),
    ] {
        let StepConfig::DirectoryUpload(u) =
            single_step(&format!("steps.DirectoryUpload('docs', 'www/docs'{arg})"))
        else {
            panic!("DirectoryUpload expected");
        };
        assert_eq!(u.compress, expected, "{arg}");
        assert_eq!(
            (u.workersrc.as_str(), u.masterdest.as_str()),
            ("docs", "www/docs")
        );
    }
}

#[test]
fn bad_file_step_arguments_name_the_step_and_the_argument() {
    for (call, expected) in [
        (
            "steps.RemoveDirectory()",
            "steps.RemoveDirectory() missing required argument 'dir'",
        ),
        (
            "steps.MakeDirectory(dir='')",
            "steps.MakeDirectory() argument 'dir' must not be empty",
        ),
        (
            "steps.SetPropertyFromCommand(command='x')",
            "steps.SetPropertyFromCommand() missing required argument 'property'",
        ),
        (
            "steps.SetPropertyFromCommand(command='x', extract_fn=len)",
            "steps.SetPropertyFromCommand() argument 'extract_fn' is not supported yet",
        ),
        (
            "steps.MasterShellCommand()",
            "steps.MasterShellCommand() missing required argument 'command'",
        ),
        (
            "steps.StringDownload(s=1, workerdest='x')",
            "steps.StringDownload() argument 's' must be a string",
        ),
        (
            "steps.FileDownload('a', 'b', mode=0o17777)",
            "steps.FileDownload() argument 'mode' must be permission bits",
        ),
        (
            "steps.FileDownload('a', 'b', maxsize=-1)",
            "steps.FileDownload() argument 'maxsize' must not be negative",
        ),
        (
            "steps.FileUpload('a', 'b', blocksize=0)",
            "steps.FileUpload() argument 'blocksize' must be between 1 and 1048576",
        ),
        (
            "steps.FileUpload('a')",
            "steps.FileUpload() missing required argument 'masterdest'",
        ),
        (
            "steps.FileUpload('a', 'b', url='http://x')",
            "steps.FileUpload() argument 'url' is not supported yet",
        ),
        (
            "steps.DirectoryUpload('a', 'b', compress='xz')",
            "steps.DirectoryUpload() argument 'compress' must be None, 'gz' or 'bz2', got \"xz\"",
        ),
    ] {
        let message = error(&format!("x = {call}\n"));
        assert!(
            message.contains(expected),
            "{call}: expected {expected:?} in {message}"
        );
    }
}
