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
    CreateWorker(Box<CreateArgs>),
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
    /// Seconds between keepalive messages to the master (0 disables them); a master that stops
    /// answering is noticed within about twice this (at most ~50 s).
    #[arg(long, default_value_t = 600)]
    keepalive: u64,
    /// Longest wait, in seconds, between two connection attempts.
    #[arg(long, default_value_t = 300)]
    maxdelay: u64,
    /// Stop after this many consecutive failed connection attempts (default: retry for ever).
    #[arg(long)]
    maxretries: Option<u32>,
    /// Umask for the worker process and its commands, in octal (0o22, 022).
    #[arg(long, value_parser = parse_umask)]
    umask: Option<u32>,
    /// Resolve the master's name with this DNS server (e.g. Consul's, 127.0.0.1:8600) instead
    /// of the system's resolv.conf; every address it returns is tried, in random order.
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_nameserver)]
    nameserver: Option<String>,
    /// Buildbot's master-worker protocol name; Ferrobot always speaks its gRPC protocol, so
    /// both values are accepted and mean the same.
    #[arg(long, default_value = "pb", value_parser = ["pb", "msgpack_experimental_v7"])]
    protocol: String,
    /// Rotate worker.log once it is larger than this many bytes.
    #[arg(long, default_value_t = ferrobot_worker::DEFAULT_LOG_SIZE)]
    log_size: u64,
    /// Rotated logs to keep: a number, or None to keep them all.
    #[arg(long, default_value = "10", value_parser = parse_log_count)]
    log_count: LogCount,
    /// Never rotate worker.log (--log-size and --log-count are ignored).
    #[arg(long)]
    no_logrotate: bool,
    /// Let this host ask for a graceful shutdown: `signal` (SIGHUP) or `file` (touch
    /// DIR/shutdown.stamp). The master finishes running builds, starts no new one, then stops
    /// the worker.
    #[arg(long, value_name = "signal|file", value_parser = parse_allow_shutdown)]
    allow_shutdown: Option<ferrobot_worker::AllowShutdown>,
    /// Connect with TLS and check the master's certificate (system roots plus --ca-certs).
    #[arg(long)]
    use_tls: bool,
    /// A PEM file, or a directory of PEM files, with CA certificates to trust for --use-tls
    /// besides the system's (relative paths are relative to DIR).
    #[arg(long, value_name = "PATH")]
    ca_certs: Option<PathBuf>,
    /// Remove directories of DIR that no builder of this worker uses, on every connection
    /// (otherwise they are only logged).
    #[arg(long)]
    delete_leftover_dirs: bool,
    /// Twisted client endpoint for the master, overriding MASTER and --use-tls:
    /// `tcp:host=H:port=P`, `tcp:H:P`, `tls:H:P[:trustRoots=PATH]`.
    #[arg(long, value_name = "STRING", value_parser = parse_connection_string)]
    connection_string: Option<String>,
    /// Tunnel the connection through this HTTP proxy (CONNECT): `tcp:host=H:port=P`, `tcp:H:P`
    /// or `H:P`.
    #[arg(long, value_name = "STRING", value_parser = parse_proxy_connection_string)]
    proxy_connection_string: Option<String>,
    /// Most builds the master may run on this worker at once (the master's own max_builds for
    /// it, if lower, wins).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    max_builds: Option<u32>,
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

/// `--log-count`: a number, or `None` (keep all).
#[derive(Debug, Clone, Copy)]
struct LogCount(Option<u32>);

fn parse_log_count(text: &str) -> Result<LogCount, String> {
    if text == "None" || text == "none" {
        return Ok(LogCount(None));
    }
    text.parse::<u32>()
        .map(|n| LogCount(Some(n)))
        .map_err(|_| format!("{text:?} is not a number or None"))
}

fn parse_allow_shutdown(text: &str) -> Result<ferrobot_worker::AllowShutdown, String> {
    ferrobot_worker::parse_allow_shutdown(text).map_err(|e| e.to_string())
}

fn parse_connection_string(text: &str) -> Result<String, String> {
    ferrobot_worker::parse_connection_string(text)
        .map(|_| text.to_owned())
        .map_err(|e| e.to_string())
}

fn parse_proxy_connection_string(text: &str) -> Result<String, String> {
    ferrobot_worker::parse_proxy_connection_string(text)
        .map(|_| text.to_owned())
        .map_err(|e| e.to_string())
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
        Sub::CreateWorker(args) => create(*args),
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
    options.log_size = args.log_size;
    options.log_count = args.log_count.0;
    options.no_logrotate = args.no_logrotate;
    options.allow_shutdown = args.allow_shutdown;
    options.use_tls = args.use_tls;
    options.ca_certs = args.ca_certs;
    options.delete_leftover_dirs = args.delete_leftover_dirs;
    options.connection_string = args.connection_string;
    options.proxy_connection_string = args.proxy_connection_string;
    options.max_builds = args.max_builds;
    if args.protocol != "pb" {
        println!(
            "note: --protocol {} means Ferrobot's gRPC protocol too",
            args.protocol
        );
    }
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
    let (max_size, keep) = if options.no_logrotate {
        (None, None)
    } else {
        (Some(options.log_size), options.log_count)
    };
    let log = ferrobot_worker::logfile::RotatingLog::open(&log_file, max_size, keep)?;
    let logging = ferrobot_telemetry::Options {
        filter,
        log_file: Some(log_file.clone()),
        json,
    };
    let _logging = ferrobot_telemetry::init_with_writer(&logging, std::sync::Arc::new(log))
        .with_context(|| format!("cannot set up logging to {}", log_file.display()))?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(service::start(options))?;
    Ok(())
}
