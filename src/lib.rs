//! appstream-local: a local emulator of the Amazon AppStream 2.0 API over AWS JSON 1.1
//! and Smithy RPC v2 CBOR.

pub mod arn;
pub mod auth;
pub mod big_answer;
pub mod body;
pub mod browser_guard;
pub mod clock;
pub mod config;
pub mod context;
pub mod control_token;
pub mod dispatch;
pub mod error;
pub mod exercise;
pub mod failure;
pub mod faults;
pub mod generated;
pub mod handlers;
pub mod healthcheck;
pub mod history;
pub mod launch;
pub mod listener;
pub mod pagination;
pub mod persistence;
pub mod portal;
pub mod protocol;
pub mod redact;
pub mod schema;
pub mod seed;
pub mod server;
pub mod session_pages;
pub mod signatures;
pub mod state;
pub mod state_stream;
pub mod streaming;
pub mod tenant;
pub mod ui;
pub mod validation;

pub use config::Config;
pub use launch::Server;
pub use listener::{serve, ConnectionLimits};

/// A store loaded from `dir` that journals every acknowledged write there.
pub fn durable_store(
    dir: &std::path::Path,
    config: &Config,
) -> Result<persistence::Durable, persistence::PersistenceError> {
    persistence::Durable::open(dir, config)
}

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
