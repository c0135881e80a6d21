//! `worker.log` with Buildbot's rotation (`--log-size`, `--log-count`, `--no-logrotate`): once
//! the file would grow past the size, `worker.log.N` become `worker.log.N+1`, `worker.log`
//! becomes `worker.log.1`, the oldest beyond the count are removed, and a new file is started.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// A log file that rotates itself; write through `&RotatingLog` (no buffering, so nothing is
/// lost when the process ends).
#[derive(Debug)]
pub struct RotatingLog {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    path: PathBuf,
    file: File,
    size: u64,
    /// `None`: never rotate.
    max_size: Option<u64>,
    /// `None`: keep every rotated file.
    keep: Option<u32>,
}

impl RotatingLog {
    /// Opens (appends to) `path`; rotates past `max_size` bytes keeping `keep` old files.
    pub fn open(path: &Path, max_size: Option<u64>, keep: Option<u32>) -> Result<Self> {
        let file = open_append(path)?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(Self {
            state: Mutex::new(State {
                path: path.to_path_buf(),
                file,
                size,
                max_size,
                keep,
            }),
        })
    }
}

fn open_append(path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io("open", path, e))
}

fn numbered(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

impl State {
    fn rotate(&mut self) -> io::Result<()> {
        // The highest existing number, so that with no count nothing is ever overwritten.
        let mut highest = 0;
        while numbered(&self.path, highest + 1).exists() {
            highest += 1;
        }
        if let Some(keep) = self.keep {
            while highest >= keep.max(1) {
                std::fs::remove_file(numbered(&self.path, highest))?;
                highest -= 1;
            }
        }
        for n in (1..=highest).rev() {
            std::fs::rename(numbered(&self.path, n), numbered(&self.path, n + 1))?;
        }
        if self.keep == Some(0) {
            std::fs::remove_file(&self.path)?;
        } else {
            std::fs::rename(&self.path, numbered(&self.path, 1))?;
        }
        self.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

impl Write for &RotatingLog {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(max) = state.max_size
            && state.size > 0
            && state.size + buf.len() as u64 > max
        {
            // Logging must go on even if rotating failed (a full disk); the file just grows.
            let _ = state.rotate();
        }
        state.file.write_all(buf)?;
        state.size += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_lines(log: &RotatingLog, n: usize) {
        for i in 0..n {
            let mut writer: &RotatingLog = log;
            writeln!(writer, "line {i:04} of the worker log").expect("write");
        }
    }

    #[test]
    fn the_log_rotates_past_the_size_and_keeps_count_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("worker.log");
        let log = RotatingLog::open(&path, Some(300), Some(3)).expect("open");
        write_lines(&log, 100);
        let size = std::fs::metadata(&path).expect("log").len();
        assert!(size <= 300, "{size}");
        for n in 1..=3 {
            let rotated = std::fs::metadata(numbered(&path, n))
                .expect("rotated file")
                .len();
            assert!(rotated <= 300 && rotated > 0, "{n}: {rotated}");
        }
        assert!(
            !numbered(&path, 4).exists(),
            "only 3 rotated files are kept"
        );
        let newest = std::fs::read_to_string(&path).expect("log");
        assert!(
            newest.ends_with("line 0099 of the worker log\n"),
            "{newest}"
        );
    }

    #[test]
    fn without_a_count_every_rotated_file_is_kept_and_without_a_size_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("worker.log");
        write_lines(
            &RotatingLog::open(&path, Some(300), None).expect("open"),
            100,
        );
        assert!(numbered(&path, 8).exists());
        let other = dir.path().join("other.log");
        write_lines(
            &RotatingLog::open(&other, None, Some(3)).expect("open"),
            100,
        );
        assert!(!numbered(&other, 1).exists());
    }
}
