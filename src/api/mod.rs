//! The API core: the dispatch table from operation to handler, and the handlers.

pub mod dispatch;
pub mod handlers;
