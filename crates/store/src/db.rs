//! The SQL store shared by SQLite and PostgreSQL. Both are reached through sqlx's `Any` driver,
//! so every statement is written once, in the dialect both accept (`$n` placeholders,
//! `ON CONFLICT`, `RETURNING`), and one conformance suite proves them alike.

use ferrobot_model::{Properties, Results};
use serde_json::Value;
use sqlx::AnyPool;
use sqlx::any::AnyRow;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AssertSqlSafe, Row, Transaction};

use crate::{Error, Result};

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    /// One file, one master.
    Sqlite,
    /// A server shared by the cluster.
    Postgres,
}

/// The [`crate::Store`] implementation over SQLite or PostgreSQL.
pub(crate) struct SqlStore {
    backend: Backend,
    /// Every write goes through this pool. For SQLite it holds ONE connection: SQLite admits one
    /// writer at a time, and queueing for the connection is cheaper and more predictable than
    /// retrying on SQLITE_BUSY when several builds write at once.
    writer: AnyPool,
    /// Reads go here; with WAL they run beside the writer. For PostgreSQL it is `writer`.
    reader: AnyPool,
}

impl SqlStore {
    /// A store over these pools (see the fields for why there are two).
    pub(crate) fn new(backend: Backend, writer: AnyPool, reader: AnyPool) -> SqlStore {
        SqlStore {
            backend,
            writer,
            reader,
        }
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so a transaction that reads before it writes cannot fail half-way with
    /// SQLITE_BUSY because another process wrote in between.
    pub(crate) async fn write(&self) -> Result<Transaction<'static, Any>> {
        let tx = match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        };
        Ok(tx)
    }

    /// The pool for single-statement writes (autocommit).
    pub(crate) fn writer(&self) -> &AnyPool {
        &self.writer
    }

    /// Which database this is.
    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection for reads.
    pub(crate) async fn read(&self) -> Result<PoolConnection<Any>> {
        Ok(self.reader.acquire().await?)
    }
}

/// SQL assembled at run time from this crate's own fixed fragments (never from input, which is
/// always bound as a parameter).
pub(crate) fn assembled(sql: String) -> AssertSqlSafe<String> {
    AssertSqlSafe(sql)
}

/// Buildbot's `name_hash`: SHA-1 hex of the UTF-8 name.
pub(crate) fn name_hash(name: &str) -> String {
    hash_columns(&[Some(name)])
}

/// Buildbot's `hash_columns`: SHA-1 hex of the values joined with NUL bytes, `None` as 0xF5 (a
/// byte that never occurs in UTF-8, so `None` and `""` differ).
pub(crate) fn hash_columns(values: &[Option<&str>]) -> String {
    use sha1::{Digest, Sha1};
    let mut hasher = Sha1::new();
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            hasher.update([0u8]);
        }
        match value {
            Some(text) => hasher.update(text.as_bytes()),
            None => hasher.update([0xF5u8]),
        }
    }
    format!("{:x}", hasher.finalize())
}

/// A 0/1 column as a bool (NULL counts as 0, as Buildbot's nullable flags default to 0).
pub(crate) fn flag(row: &AnyRow, column: &str) -> Result<bool> {
    Ok(row.try_get::<Option<i64>, _>(column)?.unwrap_or(0) != 0)
}

/// 0/1 for a bool, the way flags are stored.
pub(crate) fn as_flag(value: bool) -> i64 {
    i64::from(value)
}

/// A results column: NULL or -1 (Buildbot's "not yet") is `None`.
pub(crate) fn results(row: &AnyRow, column: &str) -> Result<Option<Results>> {
    match row.try_get::<Option<i64>, _>(column)? {
        None | Some(-1) => Ok(None),
        Some(code) => Results::from_code(code)
            .map(Some)
            .ok_or_else(|| Error::Corrupt(format!("{column} holds unknown result code {code}"))),
    }
}

/// Parses stored JSON text.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| Error::Corrupt(format!("{what}: {e}")))
}

/// Serialises a value for a JSON text column.
pub(crate) fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Invalid(format!("not serialisable: {e}")))
}

/// Decodes a property stored as Buildbot does, the JSON array `[value, source]`.
pub(crate) fn parse_property(text: &str, name: &str) -> Result<(Value, String)> {
    parse_json(text, &format!("property {name}"))
}

/// Encodes a property as the JSON array `[value, source]`.
pub(crate) fn property_json(value: &Value, source: &str) -> Result<String> {
    to_json(&(value, source))
}

/// Collects `(name, [value, source])` rows into properties.
pub(crate) fn properties_from_rows(
    rows: &[AnyRow],
    name_column: &str,
    value_column: &str,
) -> Result<Properties> {
    let mut properties = Properties::new();
    for row in rows {
        let name: String = row.try_get(name_column)?;
        let text: String = row.try_get(value_column)?;
        let property = parse_property(&text, &name)?;
        properties.insert(name, property);
    }
    Ok(properties)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_hash_is_sha1_hex_of_the_name() {
        // sha1("") and sha1("abc"), the standard test vectors.
        assert_eq!(name_hash(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(name_hash("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }

    #[test]
    fn hash_columns_tells_none_from_empty_and_keeps_column_boundaries() {
        assert_ne!(
            hash_columns(&[None, Some("")]),
            hash_columns(&[Some(""), Some("")])
        );
        assert_ne!(
            hash_columns(&[Some("ab"), Some("c")]),
            hash_columns(&[Some("a"), Some("bc")])
        );
        assert_eq!(
            hash_columns(&[Some("a"), None]),
            hash_columns(&[Some("a"), None])
        );
    }
}
