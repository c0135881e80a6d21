//! `steps.StringDownload` and `steps.FileDownload`: the worker pulls the bytes with `read_file`
//! requests and the master answers each from its side (see DownloadFileCommand in worker.proto).

use std::io::Read;

use ferrobot_config::{CommonStepConfig, FileDownloadConfig, StringDownloadConfig};
use ferrobot_model::Results;
use ferrobot_protocol::v1::{DownloadFileCommand, command_update, start_command};

use super::{StepContext, UpdateSink, result_suffix, run_remote_with};
use crate::Result;
use crate::building::log_writer::LogWriter;

/// The worker never asks for more than this per request; a larger ask is not trusted.
const MAX_REQUEST: u32 = 1024 * 1024;

/// Answers `read_file` requests from a reader on the master.
struct DownloadSink {
    source: Box<dyn Read + Send>,
}

impl UpdateSink for DownloadSink {
    fn on_update(&mut self, update: command_update::Update) -> Option<Result<Vec<u8>, String>> {
        let command_update::Update::ReadFile(request) = update else {
            return None;
        };
        let mut data = Vec::new();
        let length = u64::from(request.length.min(MAX_REQUEST));
        Some(
            (&mut self.source)
                .take(length)
                .read_to_end(&mut data)
                .map(|_| data)
                .map_err(|error| format!("the master could not read the file: {error}")),
        )
    }
}

/// What a download writes where.
struct Download<'a> {
    common: &'a CommonStepConfig,
    workerdest: &'a str,
    maxsize: Option<u64>,
    blocksize: u32,
    mode: Option<u32>,
}

/// Writes the configured string to a file on the worker.
pub async fn string_download(
    sc: &mut StepContext<'_>,
    config: &StringDownloadConfig,
) -> Result<(Results, String)> {
    let mut log = LogWriter::create(sc.ctx.clone(), sc.stepid, "stdio").await?;
    let source = Box::new(std::io::Cursor::new(config.s.clone().into_bytes()));
    let download = Download {
        common: &config.common,
        workerdest: &config.workerdest,
        maxsize: config.maxsize,
        blocksize: config.blocksize,
        mode: config.mode,
    };
    let results = run(sc, &mut log, &download, source).await?;
    log.finish().await?;
    Ok(state(&config.common, results, &config.workerdest))
}

/// Copies a file of the master to the worker.
pub async fn file_download(
    sc: &mut StepContext<'_>,
    config: &FileDownloadConfig,
) -> Result<(Results, String)> {
    let mut log = LogWriter::create(sc.ctx.clone(), sc.stepid, "stdio").await?;
    let path = sc.master_path(&config.mastersrc);
    let results = match std::fs::File::open(&path) {
        Ok(file) => {
            let download = Download {
                common: &config.common,
                workerdest: &config.workerdest,
                maxsize: config.maxsize,
                blocksize: config.blocksize,
                mode: config.mode,
            };
            run(sc, &mut log, &download, Box::new(file)).await?
        }
        Err(error) => {
            // Buildbot's wording, so a user searching for it finds the cause.
            log.header(&format!(
                "File '{}' not available at master: {error}",
                path.display()
            ));
            Results::Failure
        }
    };
    log.finish().await?;
    Ok(state(&config.common, results, &config.workerdest))
}

async fn run(
    sc: &StepContext<'_>,
    log: &mut LogWriter,
    download: &Download<'_>,
    source: Box<dyn Read + Send>,
) -> Result<Results> {
    let workdir = sc.workdir(download.common.workdir.as_deref());
    let path = StepContext::worker_path(&workdir, download.workerdest);
    log.header(&format!("downloading to {path}"));
    let command = start_command::Command::DownloadFile(DownloadFileCommand {
        path,
        maxsize: download.maxsize,
        blocksize: download.blocksize,
        mode: download.mode,
    });
    let mut sink = DownloadSink { source };
    let outcome = run_remote_with(sc, log, command, false, Some(&mut sink)).await?;
    Ok(outcome.results())
}

fn state(common: &CommonStepConfig, results: Results, workerdest: &str) -> (Results, String) {
    let done = common
        .description_done
        .clone()
        .unwrap_or_else(|| format!("downloading to {workerdest}"));
    (results, format!("{done}{}", result_suffix(results)))
}
