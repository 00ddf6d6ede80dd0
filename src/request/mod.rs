//! What a handler knows of its request: its context (tenant, time, ids, rules) and its
//! pages (NextToken).

pub mod context;
pub mod pagination;
