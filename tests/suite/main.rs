//! Every integration test, as one binary: one link instead of one per file.
// Tests compare against the wall clock and name temporary directories at random; only
// the server's own code is held to the request context (clippy.toml).
#![allow(clippy::disallowed_methods)]

mod common;

mod unknown_paths;

mod guards;

mod app_block_builders;
mod applications;
mod big_answers;
mod binary;
mod builder_images;
mod builder_streaming;
mod concurrency;
mod controls;
mod directory_configs;
mod durability;
mod durable_replay;
mod entitlements;
mod faults;
mod flows;
mod fuzz_corpus;
mod history_clock_and_seeds;
mod hostile;
mod hostile_inputs;
mod image_and_user_flows;
mod image_rules;
mod image_transfers;
mod integrity;
mod isolation;
mod modeled_errors;
mod properties;
mod protocol;
mod replay;
mod resource_rules;
mod safety;
mod sdk;
mod sdk_families;
mod signatures;
mod software;
mod stack_rules;
mod stacks;
mod streaming;
mod streaming_grants;
mod terraform;
mod terraform_fidelity;
mod themes;
mod ui;
mod usage_reports;
mod validation;
