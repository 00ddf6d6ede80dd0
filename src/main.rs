use std::io::IsTerminal;
use std::time::Duration;

use appstream_local::Config;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// A local emulator of the Amazon AppStream 2.0 API. Point AWS SDKs, the AWS CLI or
/// Terraform at it with AWS_ENDPOINT_URL_APPSTREAM=http://HOST:PORT.
#[derive(Parser, Debug)]
#[command(name = "appstream-local", version, about)]
struct Cli {
    /// Address to listen on (0.0.0.0 to accept connections from other hosts); for
    /// `healthcheck`, the address of the server to probe.
    #[arg(
        long,
        global = true,
        env = "APPSTREAM_LOCAL_HOST",
        default_value = "127.0.0.1"
    )]
    host: String,

    /// Port to listen on; 0 picks a free port and logs it. For `healthcheck`, the port
    /// of the server to probe.
    #[arg(
        long,
        global = true,
        env = "APPSTREAM_LOCAL_PORT",
        default_value_t = 4599
    )]
    port: u16,

    /// Enforce AWS's default quotas (LimitExceededException): 10 stacks, 10 fleets, 10
    /// image builders, 10 app block builders per Region, 2 image copies under way into a
    /// Region, 50 user-pool users. Off by default, because real accounts usually have them
    /// raised.
    #[arg(long, env = "APPSTREAM_LOCAL_ENFORCE_QUOTAS")]
    enforce_quotas: bool,

    /// Largest request body accepted, in bytes; larger ones get HTTP 413.
    #[arg(long, env = "APPSTREAM_LOCAL_MAX_BODY_BYTES", default_value_t = Config::default().max_body_bytes)]
    max_body_bytes: usize,

    /// Seconds a fleet, image builder or image takes to finish a state change
    /// (STARTING -> RUNNING, STOPPING -> STOPPED, PENDING -> RUNNING, ...); 0 = instant.
    #[arg(long, env = "APPSTREAM_LOCAL_TRANSITION_SECONDS", default_value_t = 1.0, value_parser = parse_seconds)]
    transition_seconds: f64,

    /// Seconds a client may take to send a request's headers; also how long an idle
    /// keep-alive connection stays open. 0 = no deadline.
    #[arg(long, env = "APPSTREAM_LOCAL_HEADER_TIMEOUT_SECONDS", default_value_t = 60.0, value_parser = parse_seconds)]
    header_timeout_seconds: f64,

    /// Seconds a client may take to send a request's body (HTTP 408 after that).
    /// 0 = no deadline.
    #[arg(long, env = "APPSTREAM_LOCAL_BODY_TIMEOUT_SECONDS", default_value_t = 30.0, value_parser = parse_seconds)]
    body_timeout_seconds: f64,

    /// Keep state in DIR: every acknowledged write is journaled and fsynced before it is
    /// answered, and survives restarts, crashes and kill -9. Without it, state is in memory.
    #[arg(long, env = "APPSTREAM_LOCAL_STATE_DIR", value_name = "DIR")]
    state_dir: Option<std::path::PathBuf>,

    /// With --state-dir, compact the journal into a snapshot after this many writes (and
    /// once the journal is half the snapshot's size, so a large state is not rewritten often).
    #[arg(long, env = "APPSTREAM_LOCAL_COMPACT_AFTER", default_value_t = Config::default().compact_after_records, value_parser = clap::value_parser!(usize))]
    compact_after: usize,

    /// With --state-dir, also compact the journal once it holds this many bytes.
    #[arg(long, env = "APPSTREAM_LOCAL_COMPACT_AFTER_BYTES", default_value_t = Config::default().compact_after_bytes)]
    compact_after_bytes: u64,

    /// Seconds a stop (SIGTERM, SIGINT) waits for open requests before it closes their
    /// connections and compacts the state; 0 = wait for as long as they take.
    #[arg(long, env = "APPSTREAM_LOCAL_SHUTDOWN_TIMEOUT_SECONDS", default_value_t = 5.0, value_parser = parse_seconds)]
    shutdown_timeout_seconds: f64,

    /// Most connections open at once; when full, the connection idle for longest is
    /// closed to make room. 0 = the file-descriptor limit (raised to its maximum at
    /// start) less a reserve for the state files.
    #[arg(long, env = "APPSTREAM_LOCAL_MAX_CONNECTIONS", default_value_t = 0)]
    max_connections: usize,

    /// Fault rules in force from the start: a JSON file `{"rules": [...]}` of the shape
    /// `POST /_faults` takes.
    #[arg(long, env = "APPSTREAM_LOCAL_FAULTS", value_name = "FILE")]
    faults: Option<std::path::PathBuf>,

    /// Public images besides AWS's catalogue, for the names a team's configurations pin:
    /// a JSON file, an array of `{"name", "platform", "description"?, "released"?
    /// (YYYY-MM-DD), "instance_families"?}`.
    #[arg(long, env = "APPSTREAM_LOCAL_PUBLIC_IMAGES", value_name = "FILE")]
    public_images: Option<std::path::PathBuf>,

    /// Seed state at start: a JSON file, an array of `{"operation", "input", "account",
    /// "region"}` applied in order like requests. With --state-dir, only when the
    /// directory holds no state yet.
    #[arg(long, env = "APPSTREAM_LOCAL_INIT", value_name = "FILE")]
    init: Option<std::path::PathBuf>,

    /// Require a valid SigV4 signature (service `appstream`) on every API request, made
    /// with a key from --credentials or APPSTREAM_LOCAL_CREDENTIALS.
    #[arg(long, env = "APPSTREAM_LOCAL_VERIFY_SIGNATURES")]
    verify_signatures: bool,

    /// The keys for --verify-signatures: lines of `ACCESS_KEY_ID SECRET_ACCESS_KEY
    /// [ACCOUNT_ID]`. APPSTREAM_LOCAL_CREDENTIALS gives them inline as
    /// `AKID:SECRET[:ACCOUNT],...` instead.
    #[arg(long, value_name = "FILE")]
    credentials: Option<std::path::PathBuf>,

    /// Require `Authorization: Bearer TOKEN` on the /_ controls (all but /_health).
    #[arg(long, env = "APPSTREAM_LOCAL_CONTROL_TOKEN", value_name = "TOKEN")]
    control_token: Option<String>,

    /// Host names this server answers to besides localhost, IP addresses and its own
    /// (comma-separated; `*` for any): the names a container is reached under, e.g.
    /// `appstream` in Docker Compose. Other names are refused against DNS rebinding.
    #[arg(
        long,
        env = "APPSTREAM_LOCAL_ALLOWED_HOSTS",
        value_name = "NAMES",
        value_delimiter = ','
    )]
    allowed_hosts: Vec<String>,

    /// Streaming URLs start with this (`http://host:port`) instead of the address the
    /// client used: for a container that browsers reach under another name.
    #[arg(long, env = "APPSTREAM_LOCAL_STREAMING_URL_BASE", value_name = "URL")]
    streaming_url_base: Option<String>,

    /// `emulator`: streaming URLs open a session page here. `aws`: they point at AWS's
    /// sign-in host, as the real service's do, for clients that parse them.
    #[arg(long, env = "APPSTREAM_LOCAL_STREAMING_URL_STYLE", value_enum, default_value_t = UrlStyleFlag::Emulator)]
    streaming_url_style: UrlStyleFlag,

    /// How many of the latest requests `GET /_requests` keeps; 0 keeps none.
    #[arg(long, env = "APPSTREAM_LOCAL_REQUEST_HISTORY", default_value_t = 1000)]
    request_history: usize,

    /// Log lines as `text` (for people) or `json` (one JSON object a line, for log
    /// collectors). RUST_LOG sets what is logged: `info` one line per request, `debug`
    /// also each decoded input, with values the model marks sensitive redacted.
    #[arg(long, env = "APPSTREAM_LOCAL_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,

    /// Write the address the server listens on (HOST:PORT) to FILE once it listens, and
    /// remove it at a clean stop; `healthcheck` probes the address in FILE when there is
    /// one, so it finds a server however its port was given (the image sets this).
    #[arg(
        long,
        global = true,
        env = "APPSTREAM_LOCAL_ADDR_FILE",
        value_name = "FILE"
    )]
    addr_file: Option<std::path::PathBuf>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum UrlStyleFlag {
    Emulator,
    Aws,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Exit 0 if a server on --host/--port (or APPSTREAM_LOCAL_HOST/PORT, or the address
    /// in --addr-file when it exists) answers GET /_health with 200 within 3 s, 1
    /// otherwise; for container health checks. The flags may come before or after the
    /// subcommand.
    Healthcheck,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Healthcheck) = cli.command {
        // A server bound to every interface is reachable on loopback.
        let host = match cli.host.as_str() {
            "0.0.0.0" => "127.0.0.1",
            "::" | "[::]" => "[::1]",
            other => other,
        };
        let written = cli
            .addr_file
            .as_ref()
            .and_then(|file| std::fs::read_to_string(file).ok())
            .map(|addr| addr.trim().to_string())
            .filter(|addr| !addr.is_empty());
        let addr = written.unwrap_or_else(|| format!("{host}:{}", cli.port));
        return match appstream_local::http::healthcheck::probe(&addr, Duration::from_secs(3)).await
        {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("unhealthy: {e}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match cli.log_format {
        LogFormat::Text => logs.with_ansi(std::io::stdout().is_terminal()).init(),
        LogFormat::Json => logs.json().init(),
    }

    let mut builder = appstream_local::Server::builder()
        .host(&cli.host)
        .port(cli.port)
        .enforce_quotas(cli.enforce_quotas)
        .max_body_bytes(cli.max_body_bytes)
        .transition_seconds(cli.transition_seconds)
        .header_timeout_seconds(cli.header_timeout_seconds)
        .body_timeout_seconds(cli.body_timeout_seconds)
        .compact_after(cli.compact_after)
        .compact_after_bytes(cli.compact_after_bytes)
        .shutdown_timeout_seconds(cli.shutdown_timeout_seconds)
        .max_connections(cli.max_connections)
        .request_history(cli.request_history);
    if let Some(dir) = &cli.state_dir {
        builder = builder.state_dir(dir);
    }
    if let Some(file) = &cli.faults {
        builder = builder.faults(file);
    }
    if let Some(file) = &cli.init {
        builder = builder.init(file);
    }
    if let Some(file) = &cli.public_images {
        builder = builder.public_images(file);
    }
    builder = builder.verify_signatures(cli.verify_signatures);
    if let Some(file) = &cli.credentials {
        builder = builder.credentials_file(file);
    } else if let Ok(list) = std::env::var("APPSTREAM_LOCAL_CREDENTIALS") {
        builder = builder.credentials(list);
    }
    if let Some(token) = &cli.control_token {
        builder = builder.control_token(token);
    }
    builder = builder.allowed_hosts(cli.allowed_hosts.iter().cloned());
    if let Some(base) = &cli.streaming_url_base {
        builder = builder.streaming_url_base(base);
    }
    builder = builder.streaming_url_style(match cli.streaming_url_style {
        UrlStyleFlag::Emulator => appstream_local::identity::streaming::UrlStyle::Emulator,
        UrlStyleFlag::Aws => appstream_local::identity::streaming::UrlStyle::Aws,
    });
    // Handlers go in before the address is announced: a supervisor that signals as soon as
    // it sees the address must get a clean stop, not the default action of SIGTERM.
    let shutdown = shutdown_signal();
    let server = match builder.start().await {
        Ok(server) => server,
        Err(e) => {
            tracing::error!("{e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    if let Some(file) = &cli.addr_file {
        // Without it `healthcheck` probes --host/--port, which still works when they name
        // the server's port; so a read-only filesystem is no reason to stop.
        let addr = match server.addr() {
            std::net::SocketAddr::V4(a) if a.ip().is_unspecified() => {
                format!("127.0.0.1:{}", a.port())
            }
            std::net::SocketAddr::V6(a) if a.ip().is_unspecified() => format!("[::1]:{}", a.port()),
            other => other.to_string(),
        };
        // Written beside it and renamed into place, so a reader (healthcheck) finds no
        // file or the whole address, never an empty or half-written one.
        let mut partial = file.clone().into_os_string();
        partial.push(format!(".{}.partial", std::process::id()));
        let written = std::fs::write(&partial, format!("{addr}\n"))
            .and_then(|()| std::fs::rename(&partial, file));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&partial);
            tracing::warn!("cannot write the address to {}: {e}", file.display());
        }
    }
    shutdown.await;
    server.shutdown().await;
    if let Some(file) = &cli.addr_file {
        let _ = std::fs::remove_file(file);
    }
    std::process::ExitCode::SUCCESS
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    let seconds: f64 = text.parse().map_err(|e| format!("{e}"))?;
    if seconds.is_finite() && (0.0..=86_400.0).contains(&seconds) {
        Ok(seconds)
    } else {
        Err("expected a number of seconds from 0 to 86400".into())
    }
}

/// Resolves on SIGINT or SIGTERM; axum then stops accepting and drains in-flight requests.
/// The handlers are registered when this is called, not when the future is first polled.
#[cfg(unix)]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let interrupt = signal(SignalKind::interrupt());
    let terminate = signal(SignalKind::terminate());
    async move {
        match (interrupt, terminate) {
            (Ok(mut interrupt), Ok(mut terminate)) => {
                tokio::select! {
                    _ = interrupt.recv() => {},
                    _ = terminate.recv() => {},
                }
            }
            _ => {
                tracing::warn!("cannot install signal handlers; stop with SIGKILL");
                std::future::pending::<()>().await
            }
        }
        tracing::info!("shutdown signal received; finishing in-flight requests");
    }
}

#[cfg(not(unix))]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown signal received; finishing in-flight requests");
    }
}
