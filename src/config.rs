//! Settings the server runs with; the CLI fills them from flags and the environment.

#[derive(Debug, Clone)]
pub struct Config {
    /// Public images besides AWS's catalogue (`--public-images`), in name order.
    pub public_images: std::sync::Arc<Vec<crate::model::public_images::PublicImage>>,
    /// Enforce AWS's default per-region quotas (10 stacks, ...). Off by default because
    /// real accounts raise them.
    pub enforce_quotas: bool,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long a fleet takes to go STARTING -> RUNNING or STOPPING -> STOPPED, an image
    /// builder PENDING -> RUNNING, and so on. Zero makes every transition instant.
    pub transition_delay: std::time::Duration,
    /// A connection that has not sent a whole request head within this time is closed
    /// (this also ends idle keep-alive connections).
    pub header_timeout: std::time::Duration,
    /// A request whose body has not arrived within this time gets HTTP 408.
    pub body_timeout: std::time::Duration,
    /// With durable state, the journal is compacted into a snapshot after this many writes.
    pub compact_after_records: usize,
    /// With durable state, the journal is also compacted once it holds this many bytes.
    pub compact_after_bytes: u64,
    /// How long a stop waits for open requests before it cuts their connections.
    pub shutdown_timeout: std::time::Duration,
    /// At most this many connections are open at once; when full, the connection idle
    /// for longest is closed to make room. Zero: derived from the file-descriptor limit.
    pub max_connections: usize,
    /// Where requests take their time from.
    pub clock: crate::controls::clock::Clock,
    /// How many requests `GET /_requests` keeps; 0 keeps none.
    pub request_history: usize,
    /// Fault rules in force from the start (`--faults FILE`).
    pub faults: Vec<crate::controls::faults::Rule>,
    /// With `--verify-signatures`, the keys API requests must be signed with.
    pub credentials: Option<std::sync::Arc<crate::identity::signatures::KeyStore>>,
    /// With `--control-token`, what the `/_` controls require as a bearer token.
    pub control_token: Option<ControlToken>,
    /// Where streaming URLs point, and the key that signs them.
    pub streaming: crate::identity::streaming::StreamingUrls,
    /// Host names the server answers to besides loopback names, IP addresses, the
    /// listen host and the streaming URL base's host (`--allowed-hosts`); `*` is any.
    pub allowed_hosts: Vec<String>,
}

/// The `--control-token`, kept out of debug output.
#[derive(Clone, PartialEq, Eq)]
pub struct ControlToken(pub String);

impl std::fmt::Debug for ControlToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ControlToken(***)")
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            public_images: Default::default(),
            enforce_quotas: false,
            max_body_bytes: 4 * 1024 * 1024,
            transition_delay: std::time::Duration::from_secs(1),
            header_timeout: std::time::Duration::from_secs(60),
            body_timeout: std::time::Duration::from_secs(30),
            compact_after_records: 10_000,
            compact_after_bytes: 64 * 1024 * 1024,
            shutdown_timeout: std::time::Duration::from_secs(5),
            max_connections: 0,
            clock: crate::controls::clock::Clock::default(),
            request_history: 1000,
            faults: Vec::new(),
            credentials: None,
            control_token: None,
            streaming: crate::identity::streaming::StreamingUrls::default(),
            allowed_hosts: Vec::new(),
        }
    }
}

/// The settings that decide what a write does, as opposed to how the server runs. Each
/// journal record carries the rules it ran under, so a restart with other flags replays
/// it exactly as it ran.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Rules {
    pub transition_seconds: f64,
    pub enforce_quotas: bool,
}

impl Rules {
    pub fn of(config: &Config) -> Self {
        Rules {
            transition_seconds: config.transition_delay.as_secs_f64(),
            enforce_quotas: config.enforce_quotas,
        }
    }

    /// `limit` when quotas are enforced, else none.
    pub fn quota(&self, limit: usize) -> Option<usize> {
        self.enforce_quotas.then_some(limit)
    }
}

/// AWS's default quotas, applied only with `enforce_quotas`.
pub mod quotas {
    pub const STACKS_PER_REGION: usize = 10;
    pub const FLEETS_PER_REGION: usize = 10;
    pub const IMAGE_BUILDERS_PER_REGION: usize = 10;
    pub const USERS_PER_POOL: usize = 50;
    pub const APP_BLOCK_BUILDERS_PER_REGION: usize = 10;
    /// "Concurrent image copies per destination Region" (AWS's documented quota).
    pub const CONCURRENT_IMAGE_COPIES_PER_REGION: usize = 2;
}
