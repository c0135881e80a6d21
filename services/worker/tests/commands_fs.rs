//! mkdir, rmdir, rmfile, cpdir, stat, glob and listdir against temporary directories.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{listdir, mkdir, rmdir, run, start, stat};
use ferrobot_protocol::v1::StartCommand;

fn basedir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

#[tokio::test]
async fn mkdir_creates_every_path_with_its_parents() {
    let dir = basedir();
    let done = run(dir.path(), mkdir(&["a/b/c", "d"])).await;
    assert_eq!(done.rc(), 0);
    assert_eq!(done.complete.error, "");
    assert!(dir.path().join("a/b/c").is_dir());
    assert!(dir.path().join("d").is_dir());
    let again = run(dir.path(), mkdir(&["a/b/c"])).await;
    assert_eq!(again.rc(), 0, "an existing directory is fine");
}

#[tokio::test]
async fn mkdir_over_a_file_fails_with_a_header() {
    let dir = basedir();
    std::fs::write(dir.path().join("file"), "x").expect("write");
    let done = run(dir.path(), mkdir(&["file/sub"])).await;
    assert_eq!(done.rc(), 1);
    let expected = format!(
        "mkdir: Not a directory: {}\n",
        dir.path().join("file/sub").display()
    );
    assert_eq!(done.header(), expected);
}

#[tokio::test]
async fn rmdir_removes_trees_files_and_missing_paths() {
    let dir = basedir();
    std::fs::create_dir_all(dir.path().join("build/src/deep")).expect("mkdir");
    std::fs::write(dir.path().join("build/src/deep/f"), "x").expect("write");
    std::fs::write(dir.path().join("lone-file"), "x").expect("write");
    let done = run(dir.path(), rmdir(&["build", "lone-file", "never-existed"])).await;
    assert_eq!(done.rc(), 0, "{}", done.header());
    assert!(!dir.path().join("build").exists());
    assert!(!dir.path().join("lone-file").exists());
    assert!(dir.path().exists(), "the base directory stays");
}

#[tokio::test]
async fn rmdir_removes_a_tree_with_unwritable_directories() {
    let dir = basedir();
    let locked = dir.path().join("build/locked");
    std::fs::create_dir_all(&locked).expect("mkdir");
    std::fs::write(locked.join("f"), "x").expect("write");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o500)).expect("chmod");
    let done = run(dir.path(), rmdir(&["build"])).await;
    assert_eq!(done.rc(), 0, "{}", done.header());
    assert!(!dir.path().join("build").exists());
}

#[tokio::test]
async fn stat_reports_buildbots_tuple() {
    let dir = basedir();
    let file = dir.path().join("f.txt");
    std::fs::write(&file, "hello").expect("write");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let done = run(dir.path(), stat("f.txt")).await;
    assert_eq!(done.rc(), 0);
    let result = done.stat().expect("a stat update");
    assert_eq!(result.size, 5);
    assert_eq!(result.mode & 0o777, 0o640);
    assert_eq!(result.mode & 0o170000, 0o100000, "a regular file");
    assert_eq!(result.nlink, 1);
    assert!(result.mtime > 0 && result.ino > 0);
}

#[tokio::test]
async fn stat_of_a_missing_file_is_rc_1_with_a_header() {
    let dir = basedir();
    let done = run(dir.path(), stat("missing")).await;
    assert_eq!(done.rc(), 1);
    assert!(done.stat().is_none());
    let expected = format!(
        "stat: No such file or directory: {}\n",
        dir.path().join("missing").display()
    );
    assert_eq!(done.header(), expected);
    assert_eq!(
        done.complete.error, "",
        "the command ran; the step decides what rc 1 means"
    );
}

#[tokio::test]
async fn listdir_lists_names_sorted() {
    let dir = basedir();
    std::fs::create_dir_all(dir.path().join("wb/sub")).expect("mkdir");
    std::fs::write(dir.path().join("wb/b.txt"), "").expect("write");
    std::fs::write(dir.path().join("wb/a.txt"), "").expect("write");
    let done = run(dir.path(), listdir("wb")).await;
    assert_eq!(done.rc(), 0);
    assert_eq!(
        done.files().expect("a files update").files,
        ["a.txt", "b.txt", "sub"]
    );

    let missing = run(dir.path(), listdir("nope")).await;
    assert_eq!(missing.rc(), 1);
    assert!(
        missing
            .header()
            .starts_with("listdir: No such file or directory: "),
        "{}",
        missing.header()
    );
}

#[tokio::test]
async fn paths_outside_basedir_are_refused_and_untouched() {
    let outer = basedir();
    let base = outer.path().join("worker");
    std::fs::create_dir(&base).expect("mkdir");
    std::fs::create_dir(outer.path().join("victim")).expect("mkdir");
    let cases: Vec<(&str, StartCommand)> = vec![
        ("mkdir", mkdir(&["ok", "../escaped"])),
        ("rmdir", rmdir(&["../victim"])),
        ("rmdir", rmdir(&[base.to_str().expect("utf-8 path")])),
        ("stat", stat("/etc/passwd")),
        ("listdir", listdir("sub/../../victim")),
    ];
    for (name, command) in cases {
        let done = run(&base, command).await;
        assert_eq!(done.rc(), 1, "{name}");
        let error = &done.complete.error;
        assert!(error.starts_with(&format!("{name}: ")), "{error}");
        assert!(
            error.contains("outside the worker's base directory")
                || error.contains("refusing to remove the worker's base directory"),
            "{error}"
        );
        assert!(
            done.header().contains(error.as_str()),
            "the header explains too: {}",
            done.header()
        );
        assert!(done.files().is_none() && done.stat().is_none());
    }
    assert!(!outer.path().join("escaped").exists());
    assert!(
        !base.join("ok").exists(),
        "a refused mkdir creates none of its paths"
    );
    assert!(outer.path().join("victim").is_dir());
    assert!(base.is_dir());
}

#[tokio::test]
async fn an_unknown_command_completes_with_an_error() {
    let dir = basedir();
    let mut command = start(ferrobot_protocol::v1::start_command::Command::Mkdir(
        Default::default(),
    ));
    command.command = None;
    let done = run(dir.path(), command).await;
    assert_ne!(done.rc(), 0);
    assert!(
        done.complete.error.contains("unknown command"),
        "{}",
        done.complete.error
    );
}

fn rmfile(path: &str) -> StartCommand {
    start(ferrobot_protocol::v1::start_command::Command::Rmfile(
        ferrobot_protocol::v1::PathCommand { path: path.into() },
    ))
}

fn glob(pattern: &str) -> StartCommand {
    start(ferrobot_protocol::v1::start_command::Command::Glob(
        ferrobot_protocol::v1::PathCommand {
            path: pattern.into(),
        },
    ))
}

#[tokio::test]
async fn rmfile_removes_a_file_and_reports_a_missing_one() {
    let dir = basedir();
    std::fs::write(dir.path().join("f"), "x").expect("write");
    let done = run(dir.path(), rmfile("f")).await;
    assert_eq!(done.rc(), 0, "{}", done.header());
    assert!(!dir.path().join("f").exists());
    let again = run(dir.path(), rmfile("f")).await;
    assert_eq!(again.rc(), 1);
    let expected = format!(
        "rmfile: No such file or directory: {}\n",
        dir.path().join("f").display()
    );
    assert_eq!(again.header(), expected);
}

#[tokio::test]
async fn glob_matches_like_python_with_recursive_stars() {
    let dir = basedir();
    let base = dir.path();
    for file in [
        "a.txt",
        "b.txt",
        ".hidden.txt",
        "c.log",
        "src/x.c",
        "src/deep/y.c",
    ] {
        let path = base.join(file);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, "x").expect("write");
    }
    let abs = |names: &[&str]| -> Vec<String> {
        names
            .iter()
            .map(|n| base.join(n).to_string_lossy().into_owned())
            .collect()
    };
    let done = run(base, glob("*.txt")).await;
    assert_eq!(done.rc(), 0, "{}", done.header());
    assert_eq!(done.files().expect("files").files, abs(&["a.txt", "b.txt"]));
    let recursive = run(base, glob("src/**/*.c")).await;
    assert_eq!(
        recursive.files().expect("files").files,
        abs(&["src/deep/y.c", "src/x.c"])
    );
    let absolute = run(base, glob(&format!("{}/*.log", base.display()))).await;
    assert_eq!(absolute.files().expect("files").files, abs(&["c.log"]));
    let none = run(base, glob("*.none")).await;
    assert_eq!(none.rc(), 0);
    assert!(none.files().expect("files").files.is_empty());
}

fn cpdir(from: &str, to: &str) -> StartCommand {
    start(ferrobot_protocol::v1::start_command::Command::Cpdir(
        ferrobot_protocol::v1::CopyDirCommand {
            from_path: from.into(),
            to_path: to.into(),
            timeout_s: 120.0,
            ..Default::default()
        },
    ))
}

#[tokio::test]
async fn cpdir_copies_a_tree_with_modes_and_symlinks() {
    let dir = basedir();
    let src = dir.path().join("build/src");
    std::fs::create_dir_all(src.join("sub")).expect("mkdir");
    std::fs::write(src.join("sub/tool"), "#!/bin/sh\n").expect("write");
    std::fs::set_permissions(src.join("sub/tool"), std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
    std::os::unix::fs::symlink("sub/tool", src.join("link")).expect("symlink");

    let done = run(dir.path(), cpdir("build/src", "copies/one")).await;

    assert_eq!(done.rc(), 0, "{}{}", done.header(), done.stderr());
    let copy = dir.path().join("copies/one");
    assert_eq!(
        std::fs::read_to_string(copy.join("sub/tool")).expect("copied"),
        "#!/bin/sh\n"
    );
    let mode = std::fs::metadata(copy.join("sub/tool"))
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);
    assert_eq!(
        std::fs::read_link(copy.join("link")).expect("still a link"),
        std::path::Path::new("sub/tool")
    );
    assert!(
        done.stdout().contains("sub/tool"),
        "cp -v lists what it copied: {}",
        done.stdout()
    );
    assert!(src.join("sub/tool").exists(), "the source stays");
}

#[tokio::test]
async fn cpdir_of_a_missing_directory_fails_with_cps_message() {
    let dir = basedir();
    let done = run(dir.path(), cpdir("nope", "copy")).await;
    assert_ne!(done.rc(), 0);
    assert!(done.stderr().contains("nope"), "{}", done.stderr());
}

#[tokio::test]
async fn new_commands_refuse_paths_outside_the_base_directory() {
    let outer = basedir();
    let base = outer.path().join("worker");
    std::fs::create_dir(&base).expect("mkdir");
    std::fs::write(outer.path().join("victim"), "x").expect("write");
    for command in [
        rmfile("../victim"),
        glob("../*"),
        glob("/etc/*"),
        cpdir("../", "stolen"),
        cpdir("build", "../../escaped"),
    ] {
        let done = run(&base, command).await;
        assert_eq!(done.rc(), 1);
        assert!(
            done.complete
                .error
                .contains("outside the worker's base directory"),
            "{}",
            done.complete.error
        );
        assert!(done.files().is_none(), "nothing is listed");
    }
    assert!(outer.path().join("victim").exists());
    assert!(!base.join("stolen").exists());
}
