//! Logs of steps and their text, stored in compressed chunks of whole lines.

use std::collections::BTreeSet;

use ferrobot_model::{Log, LogId, StepId};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::db::{SqlStore, flag};
use crate::fence::{Claimant, FenceOn};
use crate::logtext::{
    MAX_CHUNK_BYTES, MAX_CHUNK_LINES, SMALL_CHUNK_BYTES, decode_chunk, encode_chunk, pack_chunks,
    split_lines,
};
use crate::{AppendedLines, Error, Result};

/// Buildbot's limit on slugs (identifiers of 50 characters).
const SLUG_LENGTH: usize = 50;
/// Attempts before giving up when concurrent inserts keep taking the chosen slug.
const LOG_ATTEMPTS: usize = 20;

const LOG_COLUMNS: &str = "id, name, slug, stepid, complete, num_lines, type";

fn log_from_row(row: &AnyRow) -> Result<Log> {
    Ok(Log {
        logid: row.try_get("id")?,
        name: row.try_get("name")?,
        slug: row.try_get("slug")?,
        stepid: row.try_get("stepid")?,
        complete: flag(row, "complete")?,
        num_lines: row.try_get("num_lines")?,
        log_type: row.try_get("type")?,
    })
}

/// Buildbot's `forceIdentifier(50, name)`: at most 50 characters, each outside
/// `[a-zA-Z0-9_-]` replaced by `_`, and no leading digit.
pub(crate) fn slug_for(name: &str) -> String {
    let mut slug: String = name
        .chars()
        .take(SLUG_LENGTH)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if slug.starts_with(|c: char| c.is_ascii_digit()) {
        slug.replace_range(..1, "_");
    }
    if slug.is_empty() {
        slug.push('_');
    }
    slug
}

/// Buildbot's `incrementIdentifier`: `stdio` → `stdio_2`, `stdio_2` → `stdio_3`, cut on the
/// right to stay within 50 characters.
pub(crate) fn next_slug(slug: &str) -> String {
    let (stem, number) = match slug.rsplit_once('_') {
        Some((stem, digits))
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) =>
        {
            (stem, digits.parse::<u64>().unwrap_or(1))
        }
        _ => (slug, 1),
    };
    let suffix = format!("_{}", number.saturating_add(1));
    let keep = SLUG_LENGTH.saturating_sub(suffix.len());
    let stem: String = stem.chars().take(keep).collect();
    format!("{stem}{suffix}")
}

impl SqlStore {
    pub(crate) async fn add_log_impl(
        &self,
        stepid: StepId,
        name: &str,
        log_type: &str,
        claimant: Claimant,
    ) -> Result<LogId> {
        if !matches!(log_type, "s" | "t" | "h") {
            return Err(Error::Invalid(format!(
                "log type {log_type:?} is not one of \"s\" (stdio), \"t\" (text), \"h\" (html)"
            )));
        }
        for _ in 0..LOG_ATTEMPTS {
            let mut tx = self.write().await?;
            self.hold_fence(&mut tx, FenceOn::Step(stepid), claimant)
                .await?;
            let taken: BTreeSet<String> =
                sqlx::query_scalar("SELECT slug FROM logs WHERE stepid = $1")
                    .bind(stepid)
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .collect();
            let mut slug = slug_for(name);
            while taken.contains(&slug) {
                slug = next_slug(&slug);
            }
            let logid: Option<LogId> = sqlx::query_scalar(
                "INSERT INTO logs (name, slug, stepid, complete, num_lines, type) \
                 VALUES ($1, $2, $3, 0, 0, $4) ON CONFLICT DO NOTHING RETURNING id",
            )
            .bind(name)
            .bind(&slug)
            .bind(stepid)
            .bind(log_type)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(logid) = logid {
                tx.commit().await?;
                return Ok(logid);
            }
        }
        Err(Error::Conflict(format!(
            "could not add log {name:?} to step {stepid}"
        )))
    }

    pub(crate) async fn append_log_impl(
        &self,
        logid: LogId,
        content: &str,
        claimant: Claimant,
    ) -> Result<AppendedLines> {
        let mut tx = self.write().await?;
        self.hold_fence(&mut tx, FenceOn::Log(logid), claimant)
            .await?;
        // The no-op update locks the log row (PostgreSQL), so appends are numbered one after
        // the other even if two writers race.
        let row = sqlx::query(
            "UPDATE logs SET num_lines = num_lines WHERE id = $1 RETURNING num_lines, type",
        )
        .bind(logid)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| Error::not_found(format!("log {logid}")))?;
        let num_lines: i64 = row.try_get("num_lines")?;
        let log_type: String = row.try_get("type")?;
        let lines = split_lines(content, log_type == "s");
        if lines.is_empty() {
            return Ok(AppendedLines {
                first_line: num_lines,
                last_line: num_lines - 1,
            });
        }

        let merged = fill_last_chunk(&mut tx, logid, num_lines, &lines).await?;
        let mut next_line = num_lines + merged as i64;
        for chunk in pack_chunks(&lines[merged..]) {
            let last_line = next_line + chunk.len() as i64 - 1;
            let (content, compression) = encode_chunk(&chunk.concat());
            sqlx::query(
                "INSERT INTO logchunks (logid, first_line, last_line, content, compressed) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(logid)
            .bind(next_line)
            .bind(last_line)
            .bind(content)
            .bind(compression)
            .execute(&mut *tx)
            .await?;
            next_line = last_line + 1;
        }
        sqlx::query("UPDATE logs SET num_lines = $2 WHERE id = $1")
            .bind(logid)
            .bind(next_line)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(AppendedLines {
            first_line: num_lines,
            last_line: next_line - 1,
        })
    }

    pub(crate) async fn finish_log_impl(&self, logid: LogId, claimant: Claimant) -> Result<()> {
        let mut tx = self.write().await?;
        self.hold_fence(&mut tx, FenceOn::Log(logid), claimant)
            .await?;
        sqlx::query("UPDATE logs SET complete = 1 WHERE id = $1")
            .bind(logid)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn log_impl(&self, logid: LogId) -> Result<Option<Log>> {
        let mut conn = self.read().await?;
        load_log(&mut conn, logid).await
    }

    pub(crate) async fn logs_impl(&self, stepid: StepId) -> Result<Vec<Log>> {
        let mut conn = self.read().await?;
        let sql = format!("SELECT {LOG_COLUMNS} FROM logs WHERE stepid = $1 ORDER BY id");
        let rows = sqlx::query(crate::db::assembled(sql))
            .bind(stepid)
            .fetch_all(&mut *conn)
            .await?;
        rows.iter().map(log_from_row).collect()
    }

    pub(crate) async fn log_lines_impl(
        &self,
        logid: LogId,
        first: i64,
        last: i64,
    ) -> Result<String> {
        let mut conn = self.read().await?;
        if load_log(&mut conn, logid).await?.is_none() {
            return Err(Error::not_found(format!("log {logid}")));
        }
        let first = first.max(0);
        if last < first {
            return Ok(String::new());
        }
        let rows = sqlx::query(
            "SELECT first_line, content, compressed FROM logchunks \
             WHERE logid = $1 AND last_line >= $2 AND first_line <= $3 ORDER BY first_line",
        )
        .bind(logid)
        .bind(first)
        .bind(last)
        .fetch_all(&mut *conn)
        .await?;
        let mut out = String::new();
        for row in &rows {
            let chunk_first: i64 = row.try_get("first_line")?;
            let content: Option<Vec<u8>> = row.try_get("content")?;
            let text = decode_chunk(&content.unwrap_or_default(), row.try_get("compressed")?)?;
            for (line_number, line) in (chunk_first..).zip(text.split_inclusive('\n')) {
                if (first..=last).contains(&line_number) {
                    out.push_str(line);
                }
            }
        }
        Ok(out)
    }
}

async fn load_log(conn: &mut AnyConnection, logid: LogId) -> Result<Option<Log>> {
    let sql = format!("SELECT {LOG_COLUMNS} FROM logs WHERE id = $1");
    let row = sqlx::query(crate::db::assembled(sql))
        .bind(logid)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(log_from_row).transpose()
}

/// Moves the first of `lines` into the log's last chunk while it is small and has room;
/// returns how many lines it took.
async fn fill_last_chunk(
    tx: &mut Transaction<'static, Any>,
    logid: LogId,
    num_lines: i64,
    lines: &[String],
) -> Result<usize> {
    let last = sqlx::query(
        "SELECT first_line, last_line, content, compressed FROM logchunks WHERE logid = $1 \
         ORDER BY first_line DESC LIMIT 1",
    )
    .bind(logid)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(last) = last else { return Ok(0) };
    let first_line: i64 = last.try_get("first_line")?;
    let last_line: i64 = last.try_get("last_line")?;
    if last_line != num_lines - 1 {
        return Err(Error::Corrupt(format!(
            "log {logid} counts {num_lines} lines but its last chunk ends at line {last_line}"
        )));
    }
    let content: Option<Vec<u8>> = last.try_get("content")?;
    let mut text = decode_chunk(&content.unwrap_or_default(), last.try_get("compressed")?)?;
    if text.len() >= SMALL_CHUNK_BYTES {
        return Ok(0);
    }
    let held = usize::try_from(last_line - first_line + 1).unwrap_or(MAX_CHUNK_LINES);
    let mut taken = 0;
    for line in lines {
        if held + taken >= MAX_CHUNK_LINES || text.len() + line.len() > MAX_CHUNK_BYTES {
            break;
        }
        text.push_str(line);
        taken += 1;
    }
    if taken > 0 {
        let (content, compression) = encode_chunk(&text);
        sqlx::query(
            "UPDATE logchunks SET last_line = $3, content = $4, compressed = $5 \
             WHERE logid = $1 AND first_line = $2",
        )
        .bind(logid)
        .bind(first_line)
        .bind(last_line + taken as i64)
        .bind(content)
        .bind(compression)
        .execute(&mut **tx)
        .await?;
    }
    Ok(taken)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_buildbot_identifiers() {
        assert_eq!(slug_for("stdio"), "stdio");
        assert_eq!(slug_for("test results (xml)"), "test_results__xml_");
        assert_eq!(slug_for("2nd log"), "_nd_log");
        assert_eq!(slug_for(&"a".repeat(80)).len(), 50);
        assert_eq!(slug_for(""), "_");
    }

    #[test]
    fn slug_increments_follow_buildbot() {
        assert_eq!(next_slug("stdio"), "stdio_2");
        assert_eq!(next_slug("stdio_2"), "stdio_3");
        assert_eq!(next_slug("log_9"), "log_10");
        let long = next_slug(&"z".repeat(50));
        assert_eq!(long.len(), 50);
        assert!(long.ends_with("_2"));
    }
}
