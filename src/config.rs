//! Settings the server runs with; the CLI fills them from flags and the environment.

#[derive(Debug, Clone)]
pub struct Config {
    /// Enforce AWS's default per-region quotas (10 stacks, ...). Off by default because
    /// real accounts raise them.
    pub enforce_quotas: bool,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enforce_quotas: false,
            max_body_bytes: 4 * 1024 * 1024,
        }
    }
}

/// AWS's default quotas, applied only with `enforce_quotas`.
pub mod quotas {
    pub const STACKS_PER_REGION: usize = 10;
}
