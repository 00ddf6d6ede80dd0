//! Starting and stopping a server. The binary and Rust tests that embed the emulator go
//! through the same builder, which has a method for every command-line option:
//!
//! ```no_run
//! # async fn example() -> Result<(), appstream_local::launch::StartError> {
//! let server = appstream_local::Server::builder()
//!     .port(0)
//!     .transition_seconds(0.0)
//!     .start()
//!     .await?;
//! println!("serving on {}", server.url());
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```

pub mod seed;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::controls::faults::Faults;
use crate::durability::{spawn_compactor, Durable};
use crate::http::listener::{serve, ConnectionLimits};
use crate::identity::signatures::KeyStore;

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: String,
        source: std::io::Error,
    },
    #[error("cannot load state: {0}")]
    State(#[from] crate::durability::PersistenceError),
    #[error("cannot load fault rules from {path}: {reason}")]
    Faults { path: PathBuf, reason: String },
    #[error("cannot load public images from {path}: {reason}")]
    PublicImages { path: PathBuf, reason: String },
    #[error("cannot seed state from {path}: {reason}")]
    Seed { path: PathBuf, reason: String },
    #[error("cannot read credentials: {0}")]
    Credentials(String),
    #[error("invalid --streaming-url-base: {0}")]
    StreamingUrlBase(String),
}

/// The emulator as a library: `Server::builder()...start().await`.
pub struct Server;

impl Server {
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }
}

/// A server's settings, with the command line's defaults (port 4599, 1-second
/// transitions, in-memory state).
#[derive(Debug, Clone)]
pub struct ServerBuilder {
    host: String,
    port: u16,
    config: Config,
    state_dir: Option<PathBuf>,
    faults: Option<PathBuf>,
    public_images: Option<PathBuf>,
    init: Option<PathBuf>,
    verify_signatures: bool,
    credentials_file: Option<PathBuf>,
    credentials: Option<String>,
}

impl Default for ServerBuilder {
    fn default() -> Self {
        ServerBuilder {
            host: "127.0.0.1".into(),
            port: 4599,
            config: Config::default(),
            state_dir: None,
            faults: None,
            public_images: None,
            init: None,
            verify_signatures: false,
            credentials_file: None,
            credentials: None,
        }
    }
}

impl ServerBuilder {
    /// The address to listen on (`--host`).
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    /// The port (`--port`); 0 picks a free one, which `RunningServer::url` tells.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// AWS's default quotas (`--enforce-quotas`).
    pub fn enforce_quotas(mut self, enforce: bool) -> Self {
        self.config.enforce_quotas = enforce;
        self
    }

    /// `--max-body-bytes`.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.config.max_body_bytes = bytes;
        self
    }

    /// How long state changes take (`--transition-seconds`); 0 makes them instant.
    pub fn transition_seconds(mut self, seconds: f64) -> Self {
        self.config.transition_delay = Duration::from_secs_f64(seconds.max(0.0));
        self
    }

    /// `--header-timeout-seconds`; 0 = no deadline.
    pub fn header_timeout_seconds(mut self, seconds: f64) -> Self {
        self.config.header_timeout = Duration::from_secs_f64(seconds.max(0.0));
        self
    }

    /// `--body-timeout-seconds`; 0 = no deadline.
    pub fn body_timeout_seconds(mut self, seconds: f64) -> Self {
        self.config.body_timeout = Duration::from_secs_f64(seconds.max(0.0));
        self
    }

    /// Durable state in `dir` (`--state-dir`).
    pub fn state_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.state_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// `--compact-after`.
    pub fn compact_after(mut self, records: usize) -> Self {
        self.config.compact_after_records = records.max(1);
        self
    }

    /// `--compact-after-bytes`.
    pub fn compact_after_bytes(mut self, bytes: u64) -> Self {
        self.config.compact_after_bytes = bytes.max(1);
        self
    }

    /// `--shutdown-timeout-seconds`; 0 = wait for as long as requests take.
    pub fn shutdown_timeout_seconds(mut self, seconds: f64) -> Self {
        self.config.shutdown_timeout = Duration::from_secs_f64(seconds.max(0.0));
        self
    }

    /// `--max-connections`; 0 = derived from the file-descriptor limit, which is raised.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.config.max_connections = connections;
        self
    }

    /// Fault rules from a `{"rules": [...]}` file (`--faults`).
    pub fn faults(mut self, file: impl AsRef<Path>) -> Self {
        self.faults = Some(file.as_ref().to_path_buf());
        self
    }

    /// Adds the public images of a file to AWS's catalogue (`--public-images`).
    pub fn public_images(mut self, file: impl AsRef<Path>) -> Self {
        self.public_images = Some(file.as_ref().to_path_buf());
        self
    }

    /// Seeds state from a file of operations (`--init`).
    pub fn init(mut self, file: impl AsRef<Path>) -> Self {
        self.init = Some(file.as_ref().to_path_buf());
        self
    }

    /// How many requests `GET /_requests` keeps (`--request-history`); 0 keeps none.
    pub fn request_history(mut self, requests: usize) -> Self {
        self.config.request_history = requests;
        self
    }

    /// Requires a valid SigV4 signature on every API request (`--verify-signatures`),
    /// with keys from `credentials_file` or `credentials`.
    pub fn verify_signatures(mut self, verify: bool) -> Self {
        self.verify_signatures = verify;
        self
    }

    /// Keys from a file of `ACCESS_KEY_ID SECRET_ACCESS_KEY [ACCOUNT_ID]` lines
    /// (`--credentials`).
    pub fn credentials_file(mut self, file: impl AsRef<Path>) -> Self {
        self.credentials_file = Some(file.as_ref().to_path_buf());
        self
    }

    /// Keys as `AKID:SECRET[:ACCOUNT],...` (`APPSTREAM_LOCAL_CREDENTIALS`).
    pub fn credentials(mut self, list: impl Into<String>) -> Self {
        self.credentials = Some(list.into());
        self
    }

    /// Requires `Authorization: Bearer TOKEN` on the `/_` controls (`--control-token`).
    pub fn control_token(mut self, token: impl Into<String>) -> Self {
        self.config.control_token = Some(crate::config::ControlToken(token.into()));
        self
    }

    /// Streaming URLs start with `base` (`http://host:port`) instead of the address the
    /// client used (`--streaming-url-base`).
    pub fn streaming_url_base(mut self, base: impl Into<String>) -> Self {
        self.config.streaming.base = Some(base.into());
        self
    }

    /// Streaming URLs point at AWS's host, as the real service's do
    /// (`--streaming-url-style aws`); their query still opens here at `/authenticate`.
    pub fn streaming_url_style(mut self, style: crate::identity::streaming::UrlStyle) -> Self {
        self.config.streaming.style = style;
        self
    }

    /// Host names the server answers to besides its own (`--allowed-hosts`): the names
    /// a container is reached under; `*` is any name.
    pub fn allowed_hosts<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.config
            .allowed_hosts
            .extend(names.into_iter().map(Into::into));
        self
    }

    /// Every setting at once, for settings the command line does not offer (such as a
    /// clock shared with the test).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Binds, loads state, seeds it, and serves until `RunningServer::shutdown`.
    pub async fn start(self) -> Result<RunningServer, StartError> {
        let mut config = self.config;
        if let Some(path) = &self.faults {
            let rules = std::fs::read(path)
                .map_err(|e| e.to_string())
                .and_then(|bytes| Faults::parse(&bytes));
            config.faults = rules.map_err(|reason| StartError::Faults {
                path: path.clone(),
                reason,
            })?;
        }
        if let Some(path) = &self.public_images {
            let images = std::fs::read(path)
                .map_err(|e| e.to_string())
                .and_then(|bytes| crate::model::public_images::parse_file(&bytes));
            config.public_images = Arc::new(images.map_err(|reason| StartError::PublicImages {
                path: path.clone(),
                reason,
            })?);
        }
        if self.verify_signatures {
            let keys = match (&self.credentials_file, &self.credentials) {
                (Some(path), _) => std::fs::read_to_string(path)
                    .map_err(|e| format!("{}: {e}", path.display()))
                    .and_then(|text| {
                        KeyStore::from_file_text(&text)
                            .map_err(|e| format!("{}: {e}", path.display()))
                    }),
                (None, Some(list)) => KeyStore::from_list(list),
                (None, None) => Err(
                    "--verify-signatures needs --credentials FILE or APPSTREAM_LOCAL_CREDENTIALS"
                        .into(),
                ),
            };
            config.credentials = Some(Arc::new(keys.map_err(StartError::Credentials)?));
        }
        if let Some(base) = &config.streaming.base {
            let checked = crate::identity::streaming::checked_base(base)
                .map_err(StartError::StreamingUrlBase)?;
            config.streaming.base = Some(checked);
        }
        if config.max_connections == 0 {
            config.max_connections = connections_allowed_by_descriptors();
        }
        // The name it listens on is its own (an address is allowed anyway).
        config.allowed_hosts.push(self.host.clone());
        let address = format!("{}:{}", self.host, self.port);
        let listener = tokio::net::TcpListener::bind(&address)
            .await
            .map_err(|source| StartError::Listen {
                address: address.clone(),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Listen {
            address: address.clone(),
            source,
        })?;
        let durable = match &self.state_dir {
            Some(dir) => Some(Durable::open(dir, &config)?),
            None => None,
        };
        let (store, journal) = match &durable {
            Some(d) => (d.store.clone(), Some(d.journal.clone())),
            None => (Arc::default(), None),
        };
        let seeding = self
            .init
            .filter(|_| durable.as_ref().is_none_or(|d| d.fresh));
        if let Some(path) = seeding {
            // All or nothing: a seed that fails part-way leaves nothing in the state
            // directory, and the next start seeds again (and fails the same way).
            if let Some(durable) = &durable {
                durable.seeding()?;
            }
            let seeded = match std::fs::read(&path) {
                Ok(document) => {
                    crate::launch::seed::apply(&document, &store, journal.as_deref(), &config).await
                }
                Err(e) => Err(e.to_string()),
            };
            match &durable {
                Some(durable) => durable.seeded(seeded.is_ok())?,
                None => store.set_baseline(store.export()),
            }
            let count = seeded.map_err(|reason| StartError::Seed {
                path: path.clone(),
                reason,
            })?;
            tracing::info!("seeded {count} operations from {}", path.display());
        }
        let compactor = durable
            .clone()
            .map(|d| spawn_compactor(d, config.compact_after_records, config.compact_after_bytes));
        let limits = ConnectionLimits::from_config(&config);
        let app = crate::http::server::router(store, journal, config);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(serve(listener, app, limits, async {
            let _ = stopped.await;
        }));
        tracing::info!(
            "appstream-local {} listening on http://{addr} (state browser: http://{addr}/_ui)",
            env!("CARGO_PKG_VERSION")
        );
        Ok(RunningServer {
            addr,
            url: format!("http://{addr}"),
            stop,
            serving,
            compactor,
            durable,
        })
    }
}

/// A server that is serving; `shutdown` stops it gracefully.
pub struct RunningServer {
    addr: SocketAddr,
    url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<()>,
    compactor: Option<tokio::task::JoinHandle<()>>,
    durable: Option<Durable>,
}

impl RunningServer {
    /// The address it listens on, with the port it was given.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`, for a client's endpoint URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops accepting, lets in-flight requests finish within the shutdown timeout, and
    /// with durable state compacts it.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.serving.await;
        if let Some(compactor) = self.compactor {
            compactor.abort();
        }
        if let Some(durable) = &self.durable {
            if let Err(e) = durable.journal.compact(&durable.store) {
                tracing::error!(
                    "could not compact state at shutdown (the journal still holds it): {e}"
                );
            }
        }
        tracing::info!("stopped");
    }
}

/// Raises the soft file-descriptor limit to the hard one and leaves room under it for
/// the listener, the state files and the runtime, so that a full server closes idle
/// connections instead of failing to accept.
fn connections_allowed_by_descriptors() -> usize {
    const RESERVED: u64 = 32;
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            tracing::warn!("cannot read the file-descriptor limit: {e}");
            1024
        }
    };
    limit.saturating_sub(RESERVED).clamp(1, 1 << 20) as usize
}
