//! Every integration test, as one binary: one link instead of one per file.

mod common;

mod binary;
mod concurrency;
mod durability;
mod faults;
mod flows;
mod fuzz_corpus;
mod hostile;
mod hostile_inputs;
mod isolation;
mod modeled_errors;
mod properties;
mod protocol;
mod replay;
mod resource_rules;
mod sdk;
mod stacks;
mod validation;
