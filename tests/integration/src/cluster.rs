//! A PostgreSQL database and a NATS prefix per cluster test.

use anyhow::{Result, anyhow};

/// A PostgreSQL database and a NATS subject prefix of their own, for one cluster test.
pub struct ClusterServices {
    /// `postgresql://.../ferrobot_it_<id>`.
    pub db_url: String,
    /// `nats://...`.
    pub nats_url: String,
    /// A subject prefix no other test uses.
    pub prefix: String,
    server_url: String,
    database: String,
}

impl ClusterServices {
    /// Creates the database on `FERROBOT_TEST_DATABASE_URL`'s server; fails when the variables
    /// that `scripts/test.sh` exports are missing.
    pub async fn create() -> Result<ClusterServices> {
        use sqlx::Connection as _;
        let server_url = std::env::var("FERROBOT_TEST_DATABASE_URL").map_err(|_| {
            anyhow!("FERROBOT_TEST_DATABASE_URL is not set: run scripts/test.sh, which starts PostgreSQL")
        })?;
        let nats_url = std::env::var("FERROBOT_TEST_NATS_URL").map_err(|_| {
            anyhow!("FERROBOT_TEST_NATS_URL is not set: run scripts/test.sh, which starts NATS")
        })?;
        let id = uuid::Uuid::new_v4().simple().to_string();
        let database = format!("ferrobot_it_{id}");
        let mut connection = sqlx::PgConnection::connect(&server_url).await?;
        // The name is our own uuid, never input.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
            .execute(&mut connection)
            .await?;
        let base = server_url
            .rsplit_once('/')
            .map_or(server_url.as_str(), |(base, _)| base);
        Ok(ClusterServices {
            db_url: format!("{base}/{database}"),
            nats_url,
            prefix: format!("it{}", &id[..12]),
            server_url,
            database,
        })
    }

    /// The `c[...]` lines that put a master on this database and bus.
    pub fn config_lines(&self) -> String {
        format!(
            "c['multiMaster'] = True\nc['db'] = {{'db_url': {:?}}}\nc['mq'] = {{'type': 'nats', 'url': {:?}, 'prefix': {:?}}}\n",
            self.db_url, self.nats_url, self.prefix
        )
    }

    /// Drops the database.
    pub async fn drop_database(self) -> Result<()> {
        use sqlx::Connection as _;
        let mut connection = sqlx::PgConnection::connect(&self.server_url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.database
        )))
        .execute(&mut connection)
        .await?;
        Ok(())
    }
}
