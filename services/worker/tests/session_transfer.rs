//! File transfers through a real session with the fake master: the master's download data is
//! routed to the command that asked for it, and an upload's chunks arrive over gRPC intact.

mod fake_master;

use std::time::Duration;

use fake_master::{FakeMaster, Session};
use ferrobot_protocol::COMMANDS;
use ferrobot_protocol::v1::{
    DownloadData, DownloadFileCommand, StartCommand, UploadFileCommand, command_update::Update,
    master_message::Body as FromMaster, start_command::Command, worker_message::Body as ToMaster,
};
use ferrobot_worker::WorkerOptions;
use tokio_util::sync::CancellationToken;

fn start(id: &str, command: Command) -> FromMaster {
    FromMaster::StartCommand(StartCommand {
        command_id: id.into(),
        builder_name: "b".into(),
        command: Some(command),
    })
}

/// Collects `id`'s updates until it completes, answering its read requests from `source`.
async fn serve(session: &mut Session, id: &str, source: &[u8]) -> (Vec<Update>, String) {
    let mut offset = 0;
    let mut updates = Vec::new();
    loop {
        match session.recv().await.expect("the session stays open") {
            ToMaster::Updates(batch) if batch.command_id == id => {
                for update in batch.updates.into_iter().filter_map(|u| u.update) {
                    if let Update::ReadFile(request) = &update {
                        let end = (offset + request.length as usize).min(source.len());
                        session.send(FromMaster::DownloadData(DownloadData {
                            command_id: id.into(),
                            data: source[offset..end].to_vec(),
                            error: String::new(),
                        }));
                        offset = end;
                    }
                    updates.push(update);
                }
            }
            ToMaster::Complete(complete) if complete.command_id == id => {
                return (updates, complete.error);
            }
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_goes_down_to_the_worker_and_back_up_over_the_session() {
    let mut master = FakeMaster::start("pass");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut options = WorkerOptions::new(dir.path(), master.addr.to_string(), "w1", "pass");
    options.maxdelay = Duration::from_millis(100);
    ferrobot_worker::create_worker(&options, false).expect("create worker");
    let shutdown = CancellationToken::new();
    let worker = tokio::spawn(ferrobot_worker::run(options, shutdown.clone()));
    let mut session = master.session().await;
    for command in [
        "cpdir",
        "rmfile",
        "glob",
        "uploadFile",
        "uploadDirectory",
        "downloadFile",
    ] {
        assert!(COMMANDS.contains(&command));
        assert!(
            session.hello.commands.contains_key(command),
            "{command} announced"
        );
    }

    let content: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 256) as u8).collect();
    session.send(start(
        "down",
        Command::DownloadFile(DownloadFileCommand {
            path: "build/artifact.bin".into(),
            blocksize: 32 * 1024,
            mode: Some(0o644),
            ..DownloadFileCommand::default()
        }),
    ));
    let (updates, error) = serve(&mut session, "down", &content).await;
    assert_eq!(error, "");
    assert!(updates.contains(&Update::Rc(0)), "{updates:?}");
    let written = dir.path().join("build/artifact.bin");
    assert_eq!(std::fs::read(&written).expect("downloaded"), content);

    session.send(start(
        "up",
        Command::UploadFile(UploadFileCommand {
            path: "build/artifact.bin".into(),
            blocksize: 50_000,
            ..UploadFileCommand::default()
        }),
    ));
    let (updates, error) = serve(&mut session, "up", &[]).await;
    assert_eq!(error, "");
    let chunks: Vec<Vec<u8>> = updates
        .iter()
        .filter_map(|u| match u {
            Update::UploadChunk(chunk) => Some(chunk.data.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(chunks.len(), 4, "200000 bytes in blocks of 50000");
    assert_eq!(chunks.concat(), content, "the round trip is lossless");
    assert!(updates.contains(&Update::Rc(0)));

    shutdown.cancel();
    let ended = tokio::time::timeout(fake_master::WAIT, worker)
        .await
        .expect("run() returns in time")
        .expect("run() does not panic");
    assert!(ended.is_ok(), "{ended:?}");
}
