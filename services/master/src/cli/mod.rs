//! The `ferrobot` command line, shaped like Buildbot's `buildbot` command.

mod master_dir;
mod quickstart;
mod start;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::Result;

/// Ferrobot: Buildbot's continuous-integration model in Rust.
#[derive(Debug, Parser)]
#[command(name = "ferrobot", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: CliCommand,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Create a master directory with a sample master.cfg and an empty database.
    CreateMaster {
        /// The master directory.
        dir: PathBuf,
        /// Write master.cfg.sample even if the directory already holds a master.
        #[arg(long)]
        force: bool,
    },
    /// Run the master in the foreground (logs to stdout and DIR/ferrobot.log, or
    /// DIR/ferrobot-NAME.log with --name, so several masters can share DIR).
    Start {
        /// The master directory.
        dir: PathBuf,
        /// The master's name (default hostname:directory).
        #[arg(long, env = "FERROBOT_MASTER_NAME")]
        name: Option<String>,
        /// The roles of this master: www, scheduler, builder, comma-separated (default all).
        #[arg(long, env = "FERROBOT_ROLES", default_value = "www,scheduler,builder")]
        roles: String,
        /// Web port, overriding c['www']['port'].
        #[arg(long, env = "FERROBOT_WWW_PORT")]
        www_port: Option<u16>,
        /// Worker port, overriding c['protocols'].
        #[arg(long, env = "FERROBOT_WORKER_PORT")]
        worker_port: Option<u16>,
        /// Listen for workers on this one address only (e.g. 127.0.0.2:9989), overriding
        /// c['protocols'] and --worker-port; lets several builder masters share a port on
        /// different addresses behind one DNS name.
        #[arg(
            long,
            env = "FERROBOT_WORKER_LISTEN",
            value_name = "ADDR:PORT",
            conflicts_with = "worker_port"
        )]
        worker_listen: Option<std::net::SocketAddr>,
    },
    /// Stop the master running in DIR (SIGTERM; running builds end RETRY and run again later).
    Stop {
        /// The master directory.
        dir: PathBuf,
        /// The name the master was started with (`start --name`), when several run from DIR.
        #[arg(long, env = "FERROBOT_MASTER_NAME")]
        name: Option<String>,
    },
    /// Reload master.cfg in the running master (SIGHUP) without dropping running builds.
    Reconfig {
        /// The master directory.
        dir: PathBuf,
        /// The name the master was started with (`start --name`), when several run from DIR.
        #[arg(long, env = "FERROBOT_MASTER_NAME")]
        name: Option<String>,
    },
    /// Check DIR/master.cfg (or a file) and report the first error with file:line:col.
    Checkconfig {
        /// The master directory or a configuration file.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Print the typed configuration as JSON.
        #[arg(long)]
        dump: bool,
    },
    /// Create or upgrade the database schema of the master in DIR.
    UpgradeMaster {
        /// The master directory.
        dir: PathBuf,
    },
    /// Set up a sample git repository, a master and a worker in DIR, and run them.
    Quickstart {
        /// Where to put everything.
        #[arg(default_value = "ferrobot-quickstart")]
        dir: PathBuf,
        /// Web port.
        #[arg(long, default_value_t = 8010)]
        www_port: u16,
        /// Worker port.
        #[arg(long, default_value_t = 9989)]
        worker_port: u16,
    },
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        CliCommand::CreateMaster { dir, force } => master_dir::create_master(&dir, force).await,
        CliCommand::Start {
            dir,
            name,
            roles,
            www_port,
            worker_port,
            worker_listen,
        } => {
            let overrides = start::StartOverrides {
                name,
                roles: crate::roles::Roles::parse(&roles)?,
                www_port,
                worker_port,
                worker_listen,
            };
            start::start(&dir, overrides).await
        }
        CliCommand::Stop { dir, name } => master_dir::stop(&dir, name.as_deref()).await,
        CliCommand::Reconfig { dir, name } => master_dir::reconfig(&dir, name.as_deref()).await,
        CliCommand::Checkconfig { dir, dump } => master_dir::checkconfig(&dir, dump),
        CliCommand::UpgradeMaster { dir } => master_dir::upgrade_master(&dir).await,
        CliCommand::Quickstart {
            dir,
            www_port,
            worker_port,
        } => quickstart::quickstart(&dir, www_port, worker_port).await,
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::{Cli, CliCommand};

    #[test]
    fn worker_listen_takes_one_address_and_excludes_worker_port() {
        let cli = Cli::try_parse_from([
            "ferrobot",
            "start",
            "m",
            "--worker-listen",
            "127.0.0.2:9989",
        ])
        .expect("parsed");
        let CliCommand::Start { worker_listen, .. } = cli.command else {
            panic!("not start: {cli:?}");
        };
        assert_eq!(worker_listen, Some("127.0.0.2:9989".parse().expect("addr")));
        let error =
            Cli::try_parse_from(["ferrobot", "start", "m", "--worker-listen", "builders:9989"])
                .expect_err("a name is not an address");
        assert!(error.to_string().contains("--worker-listen"), "{error}");
        let both = [
            "ferrobot",
            "start",
            "m",
            "--worker-listen",
            "127.0.0.2:9989",
            "--worker-port",
            "1",
        ];
        let error = Cli::try_parse_from(both).expect_err("both");
        assert!(error.to_string().contains("cannot be used with"), "{error}");
    }
}
