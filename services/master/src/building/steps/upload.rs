//! `steps.FileUpload` and `steps.DirectoryUpload`: the worker streams `upload_chunk` updates
//! (a file, or a tar of a directory) that the master writes to a temporary file beside the
//! destination; only after `upload_close` and rc 0 is it renamed into place (or unpacked).

use std::io::{Seek, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use ferrobot_config::{Compression, DirectoryUploadConfig, FileUploadConfig};
use ferrobot_model::Results;
use ferrobot_protocol::v1::{
    FileTimes, UploadDirectoryCommand, UploadFileCommand, command_update, start_command,
};
use tempfile::NamedTempFile;

use super::{StepContext, UpdateSink, result_suffix, run_remote_with};
use crate::Result;
use crate::building::log_writer::LogWriter;

/// Writes the streamed bytes to a temporary file.
struct UploadSink {
    file: NamedTempFile,
    written: u64,
    maxsize: Option<u64>,
    closed: bool,
    times: Option<FileTimes>,
    error: Option<String>,
}

impl UpdateSink for UploadSink {
    fn on_update(&mut self, update: command_update::Update) -> Option<Result<Vec<u8>, String>> {
        match update {
            command_update::Update::UploadChunk(chunk) if self.error.is_none() => {
                self.written += chunk.data.len() as u64;
                if self.maxsize.is_some_and(|max| self.written > max) {
                    // The worker stops at maxsize; more means it is not to be trusted.
                    self.error = Some("the worker sent more than maxsize bytes".into());
                } else if let Err(error) = self.file.write_all(&chunk.data) {
                    self.error = Some(format!("could not write on the master: {error}"));
                }
            }
            command_update::Update::UploadUtime(times) => self.times = Some(times),
            command_update::Update::UploadClose(_) => self.closed = true,
            _ => {}
        }
        None
    }
}

/// Creates the temporary file beside `dest` (so the final rename stays on one filesystem),
/// with the permissions a plain create would have.
fn temp_beside(dest: &Path) -> std::io::Result<NamedTempFile> {
    let parent = dest.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(parent)?;
    tempfile::Builder::new()
        .prefix(".ferrobot-upload-")
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(parent)
}

/// Runs the upload command; Ok(sink) when every byte arrived, else the step's result.
async fn receive(
    sc: &StepContext<'_>,
    log: &mut LogWriter,
    command: start_command::Command,
    temp: NamedTempFile,
    maxsize: Option<u64>,
) -> Result<Result<UploadSink, Results>> {
    let mut sink = UploadSink {
        file: temp,
        written: 0,
        maxsize,
        closed: false,
        times: None,
        error: None,
    };
    let outcome = run_remote_with(sc, log, command, false, Some(&mut sink)).await?;
    let results = outcome.results();
    if results != Results::Success {
        return Ok(Err(results));
    }
    if let Some(error) = &sink.error {
        log.header(error);
        return Ok(Err(Results::Failure));
    }
    if !sink.closed {
        log.header("the worker ended the upload without closing it");
        return Ok(Err(Results::Failure));
    }
    if let Err(error) = sink.file.flush() {
        log.header(&format!("could not write on the master: {error}"));
        return Ok(Err(Results::Failure));
    }
    Ok(Ok(sink))
}

fn system_time(seconds: f64) -> Option<SystemTime> {
    (seconds.is_finite() && seconds >= 0.0)
        .then(|| SystemTime::UNIX_EPOCH + Duration::from_secs_f64(seconds))
}

/// Copies a worker file to the master.
pub async fn file(
    sc: &mut StepContext<'_>,
    config: &FileUploadConfig,
) -> Result<(Results, String)> {
    let mut log = LogWriter::create(sc.ctx.clone(), sc.stepid, "stdio").await?;
    let dest = sc.master_path(&config.masterdest);
    let results = upload_file(sc, &mut log, config, &dest).await?;
    log.finish().await?;
    let done = config
        .common
        .description_done
        .clone()
        .unwrap_or_else(|| format!("uploading {}", config.workersrc));
    Ok((results, format!("{done}{}", result_suffix(results))))
}

async fn upload_file(
    sc: &StepContext<'_>,
    log: &mut LogWriter,
    config: &FileUploadConfig,
    dest: &Path,
) -> Result<Results> {
    let workdir = sc.workdir(config.common.workdir.as_deref());
    let source = StepContext::worker_path(&workdir, &config.workersrc);
    log.header(&format!("uploading {source} to {}", dest.display()));
    let temp = match temp_beside(dest) {
        Ok(temp) => temp,
        Err(error) => {
            log.header(&format!("cannot write {}: {error}", dest.display()));
            return Ok(Results::Failure);
        }
    };
    let command = start_command::Command::UploadFile(UploadFileCommand {
        path: source,
        maxsize: config.maxsize,
        blocksize: config.blocksize,
        keepstamp: config.keepstamp,
    });
    let sink = match receive(sc, log, command, temp, config.maxsize).await? {
        Ok(sink) => sink,
        Err(results) => return Ok(results),
    };
    if let Err(error) = finish_file(sink, config, dest) {
        log.header(&format!("cannot write {}: {error}", dest.display()));
        return Ok(Results::Failure);
    }
    Ok(Results::Success)
}

/// Applies mode and times, then renames the file into place.
fn finish_file(sink: UploadSink, config: &FileUploadConfig, dest: &Path) -> std::io::Result<()> {
    if let Some(mode) = config.mode {
        std::fs::set_permissions(sink.file.path(), std::fs::Permissions::from_mode(mode))?;
    }
    if let Some(times) = &sink.times {
        let mut file_times = std::fs::FileTimes::new();
        if let Some(atime) = system_time(times.atime_s) {
            file_times = file_times.set_accessed(atime);
        }
        if let Some(mtime) = system_time(times.mtime_s) {
            file_times = file_times.set_modified(mtime);
        }
        sink.file.as_file().set_times(file_times)?;
    }
    sink.file.persist(dest).map_err(|e| e.error)?;
    Ok(())
}

/// Copies a worker directory to the master as a tar stream, unpacked into `masterdest`.
pub async fn directory(
    sc: &mut StepContext<'_>,
    config: &DirectoryUploadConfig,
) -> Result<(Results, String)> {
    let mut log = LogWriter::create(sc.ctx.clone(), sc.stepid, "stdio").await?;
    let dest = sc.master_path(&config.masterdest);
    let results = upload_directory(sc, &mut log, config, dest).await?;
    log.finish().await?;
    let done = config
        .common
        .description_done
        .clone()
        .unwrap_or_else(|| format!("uploading {}", config.workersrc));
    Ok((results, format!("{done}{}", result_suffix(results))))
}

async fn upload_directory(
    sc: &StepContext<'_>,
    log: &mut LogWriter,
    config: &DirectoryUploadConfig,
    dest: PathBuf,
) -> Result<Results> {
    let workdir = sc.workdir(config.common.workdir.as_deref());
    let source = StepContext::worker_path(&workdir, &config.workersrc);
    log.header(&format!("uploading {source} to {}", dest.display()));
    let temp = match temp_beside(&dest) {
        Ok(temp) => temp,
        Err(error) => {
            log.header(&format!("cannot write {}: {error}", dest.display()));
            return Ok(Results::Failure);
        }
    };
    let compress = match config.compress {
        Compression::None => "",
        Compression::Gz => "gz",
        Compression::Bz2 => "bz2",
    };
    let command = start_command::Command::UploadDirectory(UploadDirectoryCommand {
        path: source,
        maxsize: config.maxsize,
        blocksize: config.blocksize,
        compress: compress.to_owned(),
    });
    let sink = match receive(sc, log, command, temp, config.maxsize).await? {
        Ok(sink) => sink,
        Err(results) => return Ok(results),
    };
    let compression = config.compress;
    let target = dest.clone();
    // Unpacking can be large; keep it off the async threads.
    let unpacked = tokio::task::spawn_blocking(move || unpack(sink.file, compression, &target))
        .await
        .map_err(|e| crate::Error::Internal(format!("unpack task failed: {e}")))?;
    if let Err(error) = unpacked {
        log.header(&format!("cannot unpack into {}: {error}", dest.display()));
        return Ok(Results::Failure);
    }
    Ok(Results::Success)
}

/// Buildbot's `unpack`: extracts the tar into `dest`, creating it. The tar crate refuses
/// entries that would land outside `dest` (`..`, absolute names).
fn unpack(mut temp: NamedTempFile, compression: Compression, dest: &Path) -> std::io::Result<()> {
    temp.rewind()?;
    std::fs::create_dir_all(dest)?;
    let file = temp.as_file();
    match compression {
        Compression::None => tar::Archive::new(file).unpack(dest),
        Compression::Gz => tar::Archive::new(flate2::read::GzDecoder::new(file)).unpack(dest),
        Compression::Bz2 => tar::Archive::new(bzip2::read::BzDecoder::new(file)).unpack(dest),
    }
}
