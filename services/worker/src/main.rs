//! `ferrobot-worker`: create, start and stop a worker.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use ferrobot_worker::{WorkerOptions, service};

#[derive(Debug, Parser)]
#[command(
    name = "ferrobot-worker",
    version,
    about = "The Ferrobot worker: runs build commands for a Ferrobot master"
)]
struct Cli {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, Subcommand)]
enum Sub {
    /// Create a worker directory holding the master address, name and password.
    CreateWorker(CreateArgs),
    /// Run the worker in the foreground (logs to stdout and DIR/worker.log).
    Start {
        /// The worker directory.
        dir: PathBuf,
        /// Log filter (`info`, `debug`, `ferrobot_worker=debug`); RUST_LOG wins when set.
        #[arg(long, default_value = "info")]
        log_filter: String,
        /// Log JSON objects instead of text lines.
        #[arg(long)]
        log_json: bool,
        /// Resolve the master's name with this DNS server (HOST:PORT) for this run, instead
        /// of the one stored by create-worker.
        #[arg(long, value_name = "HOST:PORT", value_parser = parse_nameserver)]
        nameserver: Option<String>,
    },
    /// Stop the worker running in DIR (SIGTERM, then wait for it to exit).
    Stop {
        /// The worker directory.
        dir: PathBuf,
        /// Seconds to wait for the worker to exit.
        #[arg(long, default_value_t = service::STOP_TIMEOUT.as_secs())]
        timeout: u64,
    },
}

#[derive(Debug, clap::Args)]
struct CreateArgs {
    /// Seconds between keepalive messages to the master (0 disables them).
    #[arg(long, default_value_t = 600)]
    keepalive: u64,
    /// Longest wait, in seconds, between two connection attempts.
    #[arg(long, default_value_t = 300)]
    maxdelay: u64,
    /// Stop after this many consecutive failed connection attempts (default: retry for ever).
    #[arg(long)]
    maxretries: Option<u32>,
    /// Umask for the worker process, in octal (0o22, 022).
    #[arg(long, value_parser = parse_umask)]
    umask: Option<u32>,
    /// Resolve the master's name with this DNS server (e.g. Consul's, 127.0.0.1:8600) instead
    /// of the system resolver; every address it returns is tried, in random order.
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_nameserver)]
    nameserver: Option<String>,
    /// Overwrite the settings of an existing worker directory.
    #[arg(long, short)]
    force: bool,
    /// The worker directory to create.
    dir: PathBuf,
    /// The master, as HOST:PORT.
    master: String,
    /// The worker's name, as configured on the master.
    name: String,
    /// The worker's password, as configured on the master.
    password: String,
}

fn parse_umask(text: &str) -> Result<u32, String> {
    ferrobot_worker::parse_umask(text).map_err(|e| e.to_string())
}

fn parse_nameserver(text: &str) -> Result<String, String> {
    ferrobot_worker::validate_nameserver(text)
        .map(|()| text.to_owned())
        .map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ferrobot-worker: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Sub::CreateWorker(args) => create(args),
        Sub::Start {
            dir,
            log_filter,
            log_json,
            nameserver,
        } => start(&dir, log_filter, log_json, nameserver),
        Sub::Stop { dir, timeout } => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let pid = runtime.block_on(service::stop(&dir, Duration::from_secs(timeout)))?;
            println!("worker (pid {pid}) stopped");
            Ok(())
        }
    }
}

fn create(args: CreateArgs) -> anyhow::Result<()> {
    let mut options = WorkerOptions::new(&args.dir, args.master, args.name, args.password);
    options.keepalive = Duration::from_secs(args.keepalive);
    options.maxdelay = Duration::from_secs(args.maxdelay);
    options.maxretries = args.maxretries;
    options.umask = args.umask;
    options.nameserver = args.nameserver;
    ferrobot_worker::create_worker(&options, args.force)?;
    println!("worker configured in {}", args.dir.display());
    println!(
        "edit {} and {} to describe this host",
        args.dir.join("info/admin").display(),
        args.dir.join("info/host").display()
    );
    Ok(())
}

fn start(
    dir: &std::path::Path,
    filter: String,
    json: bool,
    nameserver: Option<String>,
) -> anyhow::Result<()> {
    let mut options = WorkerOptions::load(dir)?;
    if nameserver.is_some() {
        options.nameserver = nameserver;
    }
    let log_file = options.basedir.join(service::LOG_FILE);
    let _logging = ferrobot_telemetry::init(&ferrobot_telemetry::Options {
        filter,
        log_file: Some(log_file.clone()),
        json,
    })
    .with_context(|| format!("cannot set up logging to {}", log_file.display()))?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(service::start(options))?;
    Ok(())
}
