//! Database URLs, connections and migrations.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

use crate::db::{Backend, SqlStore};
use crate::{Error, Result, Store};

static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// How long a statement waits for another process's SQLite write lock before failing.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Readers beside the single SQLite writer.
const SQLITE_READERS: u32 = 4;
/// Connections per master to a PostgreSQL server.
const POSTGRES_CONNECTIONS: u32 = 10;

const ACCEPTED_FORMS: &str = "use sqlite:///<file relative to the master directory>, \
     sqlite:////<absolute file>, postgresql://... or postgres://...";

/// Where a database URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Sqlite(PathBuf),
    Postgres(String),
}

/// Opens the database at `db_url` (Buildbot's forms: `sqlite:///state.sqlite` relative to
/// `basedir`, `sqlite:////abs/path.sqlite`, `postgresql://...` or `postgres://...`), runs
/// pending migrations and returns the store. A SQLite file is created if missing.
pub async fn open(db_url: &str, basedir: &Path) -> Result<Arc<dyn Store>> {
    let target = parse_url(db_url, basedir)?;
    check_sqlite_directory(db_url, &target)?;
    migrate(&target).await?;
    let store = connect(&target).await?;
    Ok(Arc::new(store))
}

/// Runs pending migrations only (what `ferrobot upgrade-master` does). Idempotent.
pub async fn upgrade(db_url: &str, basedir: &Path) -> Result<()> {
    let target = parse_url(db_url, basedir)?;
    check_sqlite_directory(db_url, &target)?;
    migrate(&target).await
}

/// Whether the URL names a SQLite database (which admits a single master).
pub fn is_sqlite(db_url: &str) -> bool {
    db_url.starts_with("sqlite:")
}

fn bad_url(url: &str, reason: impl std::fmt::Display) -> Error {
    Error::BadUrl {
        url: url.to_owned(),
        reason: format!("{reason}; {ACCEPTED_FORMS}"),
    }
}

fn parse_url(db_url: &str, basedir: &Path) -> Result<Target> {
    if db_url.starts_with("postgresql://") || db_url.starts_with("postgres://") {
        return Ok(Target::Postgres(db_url.to_owned()));
    }
    let Some(rest) = db_url.strip_prefix("sqlite:///") else {
        let reason = if db_url.starts_with("sqlite:") {
            "a SQLite URL names a file after three slashes (in-memory databases are not supported)"
        } else {
            "unknown database kind"
        };
        return Err(bad_url(db_url, reason));
    };
    // Buildbot's SQLAlchemy options (e.g. `?serialize_access=1`) do not apply: writes are
    // always serialised here.
    let file = rest.split('?').next().unwrap_or_default();
    if file.is_empty() || file == "/" {
        return Err(bad_url(db_url, "no file name"));
    }
    let path = if file.starts_with('/') {
        PathBuf::from(file)
    } else {
        basedir.join(file)
    };
    let path = std::path::absolute(&path).map_err(|e| bad_url(db_url, e))?;
    Ok(Target::Sqlite(path))
}

/// SQLite creates the file but not its directory; saying so beats "unable to open database file".
fn check_sqlite_directory(db_url: &str, target: &Target) -> Result<()> {
    match target {
        Target::Sqlite(path) => match path.parent() {
            Some(dir) if !dir.is_dir() => Err(Error::BadUrl {
                url: db_url.to_owned(),
                reason: format!("the directory {} does not exist", dir.display()),
            }),
            _ => Ok(()),
        },
        Target::Postgres(_) => Ok(()),
    }
}

fn sqlite_options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .foreign_keys(true)
}

async fn migrate(target: &Target) -> Result<()> {
    match target {
        // One-connection pools rather than bare connections: `Migrator::run` on a `&mut`
        // connection makes the future !Send, and the master opens the store inside tasks.
        Target::Sqlite(path) => {
            // The native driver, because only it can create the file and switch it to WAL
            // (which then sticks to the file for every later connection).
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(sqlite_options(path))
                .await?;
            let outcome = SQLITE_MIGRATOR.run(&pool).await;
            pool.close().await;
            outcome?;
        }
        Target::Postgres(url) => {
            // sqlx's PostgreSQL migrator holds an advisory lock, so masters starting together
            // migrate one after the other.
            let pool = PgPoolOptions::new().max_connections(1).connect(url).await?;
            let outcome = POSTGRES_MIGRATOR.run(&pool).await;
            pool.close().await;
            outcome?;
        }
    }
    tracing::debug!(target = ?redacted(target), "database schema is up to date");
    Ok(())
}

async fn connect(target: &Target) -> Result<SqlStore> {
    sqlx::any::install_default_drivers();
    match target {
        Target::Sqlite(path) => {
            let url = sqlite_any_url(path)?;
            let writer = AnyPoolOptions::new()
                .max_connections(1)
                .connect(&url)
                .await?;
            let reader = AnyPoolOptions::new()
                .max_connections(SQLITE_READERS)
                .connect(&url)
                .await?;
            tracing::info!(path = %path.display(), "opened sqlite store");
            Ok(SqlStore::new(Backend::Sqlite, writer, reader))
        }
        Target::Postgres(url) => {
            let pool = AnyPoolOptions::new()
                .max_connections(POSTGRES_CONNECTIONS)
                .connect(url)
                .await?;
            tracing::info!("opened postgresql store");
            Ok(SqlStore::new(Backend::Postgres, pool.clone(), pool))
        }
    }
}

/// The `Any` driver's URL for a SQLite file. The file exists by now (migrations created it);
/// sqlx applies its defaults (foreign keys on, 5 s busy timeout) to every connection.
fn sqlite_any_url(path: &Path) -> Result<String> {
    let text = path.to_str().ok_or_else(|| Error::BadUrl {
        url: path.display().to_string(),
        reason: "the SQLite file's path is not valid UTF-8".into(),
    })?;
    let mut url = String::from("sqlite://");
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"/._~-".contains(&byte) {
            url.push(char::from(byte));
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    url.push_str("?mode=rw");
    Ok(url)
}

/// A target for logs, without a password.
fn redacted(target: &Target) -> String {
    match target {
        Target::Sqlite(path) => path.display().to_string(),
        Target::Postgres(url) => match (url.find("://"), url.rfind('@')) {
            (Some(scheme_end), Some(at)) if at > scheme_end => {
                format!("{}://***{}", &url[..scheme_end], &url[at..])
            }
            _ => url.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_follow_buildbot_relative_and_absolute_forms() {
        let base = Path::new("/srv/master");
        assert_eq!(
            parse_url("sqlite:///state.sqlite", base).ok(),
            Some(Target::Sqlite(PathBuf::from("/srv/master/state.sqlite")))
        );
        assert_eq!(
            parse_url("sqlite:////var/lib/ferrobot/db.sqlite", base).ok(),
            Some(Target::Sqlite(PathBuf::from("/var/lib/ferrobot/db.sqlite")))
        );
        assert_eq!(
            parse_url("sqlite:///state.sqlite?serialize_access=1", base).ok(),
            Some(Target::Sqlite(PathBuf::from("/srv/master/state.sqlite")))
        );
    }

    #[test]
    fn other_urls_are_refused_with_the_accepted_forms() {
        for url in [
            "mysql://root@localhost/bb",
            "sqlite://",
            "sqlite:///",
            "state.sqlite",
            "",
        ] {
            match parse_url(url, Path::new("/m")) {
                Err(Error::BadUrl { url: named, reason }) => {
                    assert_eq!(named, url);
                    assert!(reason.contains("sqlite:///"), "{reason}");
                    assert!(reason.contains("postgresql://"), "{reason}");
                }
                other => panic!("{url:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn any_url_escapes_unusual_path_characters() {
        let url = sqlite_any_url(Path::new("/tmp/a b?#/state.sqlite")).expect("utf-8 path");
        assert_eq!(url, "sqlite:///tmp/a%20b%3F%23/state.sqlite?mode=rw");
    }

    #[test]
    fn opening_can_run_in_a_spawned_task() {
        fn assert_send<T: Send>(_: &T) {}
        let base = Path::new("/m");
        assert_send(&open("sqlite:///state.sqlite", base));
        assert_send(&upgrade("sqlite:///state.sqlite", base));
    }

    #[test]
    fn passwords_stay_out_of_logs() {
        let target = Target::Postgres("postgresql://bb:secret@db:5432/bb".into());
        assert_eq!(redacted(&target), "postgresql://***@db:5432/bb");
    }
}
