//! appstream-local: a local emulator of the Amazon AppStream 2.0 API over AWS JSON 1.1
//! and Smithy RPC v2 CBOR.

// One folder a layer; Cargo.toml's [package.metadata.layers] lists them top to bottom.
pub mod api;
pub mod body;
pub mod config;
pub mod controls;
pub mod durability;
pub mod error;
pub mod exercise;
pub mod generated;
pub mod http;
pub mod identity;
pub mod launch;
pub mod model;
pub mod pages;
pub mod protocol;
pub mod request;
pub mod state;

pub use config::Config;
pub use http::listener::{serve, ConnectionLimits};
pub use launch::Server;

/// A store loaded from `dir` that journals every acknowledged write there.
pub fn durable_store(
    dir: &std::path::Path,
    config: &Config,
) -> Result<durability::Durable, durability::PersistenceError> {
    durability::Durable::open(dir, config)
}

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
