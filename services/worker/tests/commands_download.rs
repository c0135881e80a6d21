//! downloadFile against real files, with the test playing the master's reader.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{Finished, Run, start};
use ferrobot_protocol::v1::{
    DownloadData, DownloadFileCommand, command_update::Update, start_command::Command,
    worker_message::Body,
};
use ferrobot_worker::commands::Batching;

/// Bytes that differ from block to block, so that a reordered or repeated block shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i % 251) as u8 ^ (i / 251) as u8)
        .collect()
}

/// The transfer updates in order (`read_close`, `rc N`).
fn transfer_events(done: &Finished) -> Vec<String> {
    done.all()
        .filter_map(|update| match update {
            Update::ReadFileClose(_) => Some("read_close".to_owned()),
            Update::Rc(rc) => Some(format!("rc {rc}")),
            _ => None,
        })
        .collect()
}

fn download(path: &str, blocksize: u32, maxsize: Option<u64>, mode: Option<u32>) -> Command {
    Command::DownloadFile(DownloadFileCommand {
        path: path.into(),
        maxsize,
        blocksize,
        mode,
    })
}

/// Plays the master's reader: answers each read_file with the next bytes of `source` (or
/// `error` once, when given); returns the requested lengths and the finished command.
async fn serve_download(mut run: Run, source: &[u8], error: Option<&str>) -> (Vec<u32>, Finished) {
    let mut offset = 0;
    let mut lengths = Vec::new();
    let mut updates = Vec::new();
    loop {
        let message = run.recv_raw().await.expect("the command completes");
        match message.body {
            Some(Body::Updates(batch)) => {
                for update in &batch.updates {
                    if let Some(Update::ReadFile(request)) = &update.update {
                        lengths.push(request.length);
                        let end = (offset + request.length as usize).min(source.len());
                        let reply = DownloadData {
                            command_id: "c1".into(),
                            data: source[offset..end].to_vec(),
                            error: error.unwrap_or_default().to_owned(),
                        };
                        offset = end;
                        run.data.send(reply).await.expect("the command listens");
                    }
                }
                updates.push(batch);
            }
            Some(Body::Complete(complete)) => return (lengths, Finished { updates, complete }),
            other => panic!("unexpected message: {other:?}"),
        }
    }
}

#[tokio::test]
async fn download_file_pulls_blocks_and_writes_the_bytes_with_mode() {
    let dir = tempfile::tempdir().expect("temp dir");
    let content = pattern(50_000);
    let running = Run::spawn(
        dir.path(),
        Batching::default(),
        start(download("build/tools/run.sh", 8192, None, Some(0o750))),
    );

    let (lengths, done) = serve_download(running, &content, None).await;

    assert_eq!(done.rc(), 0, "{}", done.stderr());
    assert_eq!(
        lengths.len(),
        50_000 / 8192 + 2,
        "whole blocks, the rest, then end of file"
    );
    assert!(lengths.iter().all(|&l| l == 8192));
    assert_eq!(transfer_events(&done), ["read_close", "rc 0"]);
    let written = dir.path().join("build/tools/run.sh");
    assert_eq!(std::fs::read(&written).expect("written"), content);
    let mode = std::fs::metadata(&written)
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o750);
}

#[tokio::test]
async fn download_over_maxsize_keeps_maxsize_bytes_and_fails() {
    let dir = tempfile::tempdir().expect("temp dir");
    let content = pattern(20_000);
    let running = Run::spawn(
        dir.path(),
        Batching::default(),
        start(download("dl", 4096, Some(10_000), None)),
    );
    let (lengths, done) = serve_download(running, &content, None).await;
    assert_eq!(done.rc(), 1);
    assert_eq!(
        lengths.iter().sum::<u32>(),
        10_001,
        "never asks for more than maxsize + 1"
    );
    assert_eq!(
        std::fs::read(dir.path().join("dl")).expect("kept"),
        &content[..10_000]
    );
    let expected = format!(
        "Maximum filesize reached, truncating file '{}'\n",
        dir.path().join("dl").display()
    );
    assert_eq!(done.stderr(), expected);
}

#[tokio::test]
async fn download_that_the_master_cannot_read_leaves_no_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let running = Run::spawn(
        dir.path(),
        Batching::default(),
        start(download("dl", 0, None, None)),
    );
    let (_, done) = serve_download(running, b"data", Some("source.txt: permission denied")).await;
    assert_eq!(done.rc(), 1);
    assert!(
        done.stderr().contains("source.txt: permission denied"),
        "{}",
        done.stderr()
    );
    assert!(
        !dir.path().join("dl").exists(),
        "the partial file is removed"
    );
    assert_eq!(transfer_events(&done), ["read_close", "rc 1"]);
}

#[tokio::test]
async fn an_interrupted_download_closes_the_reader_and_leaves_no_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut running = Run::spawn(
        dir.path(),
        Batching::default(),
        start(download("dl", 4, None, None)),
    );
    // Answer the first request, then interrupt while the worker waits for the second answer.
    let mut requests = 0;
    let mut updates = Vec::new();
    while requests < 2 {
        let Some(Body::Updates(batch)) = running.recv_raw().await.and_then(|m| m.body) else {
            panic!("the download asks for data first");
        };
        for update in &batch.updates {
            if let Some(Update::ReadFile(_)) = update.update {
                requests += 1;
                if requests == 1 {
                    let reply = DownloadData {
                        command_id: "c1".into(),
                        data: b"abcd".to_vec(),
                        error: String::new(),
                    };
                    running.data.send(reply).await.expect("the command listens");
                }
            }
        }
        updates.push(batch);
    }
    assert!(dir.path().join("dl").exists(), "the download has begun");
    running.interrupt("build stopped").await;
    let mut done = running.finish().await;
    updates.append(&mut done.updates);
    let done = Finished {
        updates,
        complete: done.complete,
    };
    assert_eq!(done.rc(), 1);
    assert_eq!(done.stderr(), "download interrupted (build stopped)\n");
    assert_eq!(transfer_events(&done), ["read_close", "rc 1"]);
    assert!(
        !dir.path().join("dl").exists(),
        "the partial file is removed"
    );
}
