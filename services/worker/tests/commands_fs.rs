//! mkdir, rmdir, stat and listdir against temporary directories.

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
