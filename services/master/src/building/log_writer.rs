//! Turns a command's output stream into stored log lines: whole lines, each prefixed with its
//! stream letter (`o` stdout, `e` stderr, `h` header) as Buildbot stores stdio logs.

use std::sync::Arc;

use ferrobot_model::Log;
use ferrobot_protocol::v1::Stream;

use crate::Result;
use crate::context::Context;

/// Buffers output per stream until whole lines are available, then appends them in batches.
pub struct LogWriter {
    ctx: Arc<Context>,
    log: Log,
    partial_stdout: Vec<u8>,
    partial_stderr: Vec<u8>,
    partial_header: Vec<u8>,
    pending: String,
}

impl LogWriter {
    /// Creates the log on a step and announces it.
    pub async fn create(ctx: Arc<Context>, stepid: i64, name: &str) -> Result<LogWriter> {
        let logid = ctx.store.add_log(stepid, name, "s", ctx.claimant()).await?;
        let log = ctx
            .store
            .log(logid)
            .await?
            .ok_or_else(|| crate::Error::Internal(format!("log {logid} vanished")))?;
        ctx.events.log(&log, "new").await;
        Ok(LogWriter {
            ctx,
            log,
            partial_stdout: Vec::new(),
            partial_stderr: Vec::new(),
            partial_header: Vec::new(),
            pending: String::new(),
        })
    }

    /// Adds output of one stream; whole lines are queued for the next flush.
    pub fn push(&mut self, stream: Stream, data: &[u8]) {
        let (letter, partial) = match stream {
            Stream::Stderr => ('e', &mut self.partial_stderr),
            Stream::Header => ('h', &mut self.partial_header),
            Stream::Stdout | Stream::Unspecified => ('o', &mut self.partial_stdout),
        };
        partial.extend_from_slice(data);
        let Some(last_newline) = partial.iter().rposition(|b| *b == b'\n') else {
            return;
        };
        let rest = partial.split_off(last_newline + 1);
        let complete = std::mem::replace(partial, rest);
        for line in String::from_utf8_lossy(&complete).split_inclusive('\n') {
            self.pending.push(letter);
            self.pending.push_str(line);
        }
    }

    /// Adds a header line (the master's own remarks, e.g. what it is about to run).
    pub fn header(&mut self, text: &str) {
        let mut line = text.trim_end_matches('\n').to_owned();
        line.push('\n');
        self.push(Stream::Header, line.as_bytes());
    }

    /// Stores queued lines and announces the append.
    pub async fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let text = std::mem::take(&mut self.pending);
        let appended = self
            .ctx
            .store
            .append_log(self.log.logid, &text, self.ctx.claimant())
            .await?;
        self.log.num_lines = appended.last_line + 1;
        self.ctx.events.log(&self.log, "append").await;
        Ok(())
    }

    /// Ends unterminated lines, stores everything and marks the log complete.
    pub async fn finish(mut self) -> Result<()> {
        for stream in [Stream::Stdout, Stream::Stderr, Stream::Header] {
            let partial = match stream {
                Stream::Stderr => &self.partial_stderr,
                Stream::Header => &self.partial_header,
                _ => &self.partial_stdout,
            };
            if !partial.is_empty() {
                self.push(stream, b"\n");
            }
        }
        self.flush().await?;
        self.ctx
            .store
            .finish_log(self.log.logid, self.ctx.claimant())
            .await?;
        self.log.complete = true;
        self.ctx.events.log(&self.log, "finished").await;
        Ok(())
    }
}
