//! Who is calling and what they may open: the tenant (account and Region), credentials,
//! SigV4 verification and signed streaming URLs.

pub mod auth;
pub mod signatures;
pub mod streaming;
pub mod tenant;
