//! uploadFile and uploadDirectory against real files, with the test playing the master's side;
//! and the path confinement of all three transfers.

mod common;

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, SystemTime};

use common::{Finished, run, start};
use ferrobot_protocol::v1::{
    DownloadFileCommand, UploadDirectoryCommand, UploadFileCommand, command_update::Update,
    start_command::Command,
};

/// Bytes that differ from block to block, so that a reordered or repeated block shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i % 251) as u8 ^ (i / 251) as u8)
        .collect()
}

fn upload_file(path: &str, blocksize: u32, maxsize: Option<u64>, keepstamp: bool) -> Command {
    Command::UploadFile(UploadFileCommand {
        path: path.into(),
        maxsize,
        blocksize,
        keepstamp,
    })
}

/// The names of the transfer updates in order (`chunk`, `utime`, `close`, `rc N`).
fn transfer_events(done: &Finished) -> Vec<String> {
    let mut events: Vec<String> = Vec::new();
    for update in done.all() {
        let event = match update {
            Update::UploadChunk(_) => "chunk".to_owned(),
            Update::UploadUtime(_) => "utime".to_owned(),
            Update::UploadClose(_) => "close".to_owned(),
            Update::ReadFileClose(_) => "read_close".to_owned(),
            Update::Rc(rc) => format!("rc {rc}"),
            _ => continue,
        };
        if event == "chunk" && events.last().is_some_and(|e| e == "chunk") {
            continue;
        }
        events.push(event);
    }
    events
}

#[tokio::test]
async fn upload_file_streams_identical_bytes_in_blocksize_chunks() {
    let dir = tempfile::tempdir().expect("temp dir");
    let content = pattern(100_000);
    std::fs::create_dir(dir.path().join("build")).expect("mkdir");
    std::fs::write(dir.path().join("build/out.bin"), &content).expect("write");

    let done = run(
        dir.path(),
        start(upload_file("build/out.bin", 4096, None, false)),
    )
    .await;

    assert_eq!(done.rc(), 0, "{}", done.stderr());
    assert_eq!(done.complete.error, "");
    let chunks = done.upload_chunks();
    let sizes: Vec<usize> = chunks.iter().map(Vec::len).collect();
    let mut expected = vec![4096; 100_000 / 4096];
    expected.push(100_000 % 4096);
    assert_eq!(sizes, expected, "every block but the last is whole");
    assert_eq!(chunks.concat(), content, "the bytes arrive unchanged");
    assert_eq!(transfer_events(&done), ["chunk", "close", "rc 0"]);
}

#[tokio::test]
async fn upload_file_with_keepstamp_sends_the_file_times_before_close() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("stamped");
    std::fs::write(&path, b"old file").expect("write");
    let mtime = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_modified(mtime))
        .expect("set mtime");

    let done = run(dir.path(), start(upload_file("stamped", 0, None, true))).await;

    assert_eq!(done.rc(), 0, "{}", done.stderr());
    assert_eq!(transfer_events(&done), ["chunk", "utime", "close", "rc 0"]);
    let times = done
        .all()
        .find_map(|u| match u {
            Update::UploadUtime(t) => Some(*t),
            _ => None,
        })
        .expect("utime");
    assert_eq!(times.mtime_s, 1_000_000_000.0);
    assert_eq!(done.upload_chunks().concat(), b"old file");
}

#[tokio::test]
async fn upload_file_over_maxsize_sends_maxsize_bytes_then_fails_as_buildbot() {
    let dir = tempfile::tempdir().expect("temp dir");
    let content = pattern(10_000);
    std::fs::write(dir.path().join("big"), &content).expect("write");

    let done = run(
        dir.path(),
        start(upload_file("big", 1024, Some(5000), false)),
    )
    .await;

    assert_eq!(done.rc(), 1);
    assert_eq!(done.upload_chunks().concat(), &content[..5000]);
    assert_eq!(transfer_events(&done), ["chunk", "close", "rc 1"]);
    let expected = format!(
        "Maximum filesize reached, truncating file '{}'\n",
        dir.path().join("big").display()
    );
    assert_eq!(done.stderr(), expected);

    // Exactly maxsize bytes is not "over".
    let exact = run(
        dir.path(),
        start(upload_file("big", 1024, Some(10_000), false)),
    )
    .await;
    assert_eq!(exact.rc(), 0, "{}", exact.stderr());
    assert_eq!(exact.upload_chunks().concat(), content);
}

#[tokio::test]
async fn upload_of_a_missing_file_fails_on_stderr_without_close() {
    let dir = tempfile::tempdir().expect("temp dir");
    let done = run(dir.path(), start(upload_file("nope", 0, None, false))).await;
    assert_eq!(done.rc(), 1);
    let expected = format!(
        "Cannot open file '{}' for upload: No such file or directory\n",
        dir.path().join("nope").display()
    );
    assert_eq!(done.stderr(), expected);
    assert_eq!(
        transfer_events(&done),
        ["rc 1"],
        "no close: nothing was sent"
    );
}

fn make_tree(root: &Path) {
    std::fs::create_dir_all(root.join("sub/deeper")).expect("mkdir");
    std::fs::create_dir_all(root.join("empty")).expect("mkdir");
    std::fs::write(root.join("top.txt"), b"top").expect("write");
    std::fs::write(root.join("sub/deeper/data.bin"), pattern(70_000)).expect("write");
    std::fs::set_permissions(root.join("top.txt"), std::fs::Permissions::from_mode(0o640))
        .expect("chmod");
    std::os::unix::fs::symlink("top.txt", root.join("link")).expect("symlink");
}

fn upload_dir(path: &str, compress: &str, blocksize: u32) -> Command {
    Command::UploadDirectory(UploadDirectoryCommand {
        path: path.into(),
        maxsize: None,
        blocksize,
        compress: compress.into(),
    })
}

#[tokio::test]
async fn upload_directory_round_trips_through_tar_gz() {
    let dir = tempfile::tempdir().expect("temp dir");
    make_tree(&dir.path().join("build/dist"));

    let done = run(dir.path(), start(upload_dir("build/dist", "gz", 1000))).await;

    assert_eq!(done.rc(), 0, "{}", done.stderr());
    assert_eq!(transfer_events(&done), ["chunk", "close", "rc 0"]);
    let chunks = done.upload_chunks();
    assert!(chunks[..chunks.len() - 1].iter().all(|c| c.len() == 1000));
    let gz = chunks.concat();
    assert_eq!(&gz[..2], &[0x1f, 0x8b], "a gzip stream");

    let unpacked = tempfile::tempdir().expect("temp dir");
    tar::Archive::new(flate2::read::GzDecoder::new(&gz[..]))
        .unpack(unpacked.path())
        .expect("the stream unpacks");
    let root = unpacked.path();
    assert_eq!(std::fs::read(root.join("top.txt")).expect("top"), b"top");
    assert_eq!(
        std::fs::read(root.join("sub/deeper/data.bin")).expect("data"),
        pattern(70_000)
    );
    assert!(root.join("empty").is_dir());
    let mode = std::fs::metadata(root.join("top.txt"))
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640, "modes travel");
    assert_eq!(
        std::fs::read_link(root.join("link")).expect("a symlink"),
        Path::new("top.txt")
    );
}

#[tokio::test]
async fn upload_directory_without_compression_is_a_plain_tar() {
    let dir = tempfile::tempdir().expect("temp dir");
    make_tree(&dir.path().join("dist"));
    let done = run(dir.path(), start(upload_dir("dist", "", 0))).await;
    assert_eq!(done.rc(), 0, "{}", done.stderr());
    let tarball = done.upload_chunks().concat();
    let mut archive = tar::Archive::new(&tarball[..]);
    let mut names = Vec::new();
    for entry in archive.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let name = entry.path().expect("path").to_string_lossy().into_owned();
        if name == "top.txt" {
            let mut text = String::new();
            entry.read_to_string(&mut text).expect("read");
            assert_eq!(text, "top");
        }
        names.push(name.trim_end_matches('/').to_owned());
    }
    names.sort();
    assert_eq!(
        names,
        [
            "empty",
            "link",
            "sub",
            "sub/deeper",
            "sub/deeper/data.bin",
            "top.txt"
        ]
    );
}

#[tokio::test]
async fn upload_directory_with_bz2_unpacks_and_unknown_compression_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    make_tree(&dir.path().join("dist"));
    let bz2 = run(dir.path(), start(upload_dir("dist", "bz2", 0))).await;
    assert_eq!(bz2.rc(), 0, "{}", bz2.stderr());
    let stream = bz2.upload_chunks().concat();
    assert_eq!(&stream[..3], b"BZh", "a bzip2 stream");
    let unpacked = tempfile::tempdir().expect("temp dir");
    tar::Archive::new(bzip2::read::BzDecoder::new(&stream[..]))
        .unpack(unpacked.path())
        .expect("the stream unpacks");
    assert_eq!(
        std::fs::read(unpacked.path().join("sub/deeper/data.bin")).expect("data"),
        pattern(70_000)
    );

    let odd = run(dir.path(), start(upload_dir("dist", "xz", 0))).await;
    assert_eq!(odd.rc(), 1);
    assert!(
        odd.complete.error.contains("unknown compress \"xz\""),
        "{}",
        odd.complete.error
    );
    assert!(odd.upload_chunks().is_empty());
}

fn download(path: &str) -> Command {
    Command::DownloadFile(DownloadFileCommand {
        path: path.into(),
        ..DownloadFileCommand::default()
    })
}

#[tokio::test]
async fn transfers_refuse_paths_outside_the_base_directory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let base = dir.path().join("worker");
    std::fs::create_dir(&base).expect("mkdir");
    std::fs::write(dir.path().join("secret"), b"s").expect("write");
    for command in [
        upload_file("../secret", 0, None, false),
        upload_dir("/etc", "", 0),
        download("../../evil"),
    ] {
        let done = run(&base, start(command)).await;
        assert_eq!(done.rc(), 1);
        assert!(
            done.complete
                .error
                .contains("outside the worker's base directory"),
            "{}",
            done.complete.error
        );
        assert!(done.upload_chunks().is_empty());
    }
    assert!(!dir.path().join("../evil").exists());
}
