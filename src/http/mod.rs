//! The HTTP front: routes, the API's way in, the control routes, connections, the
//! guards in front of every route, and the big answers written in pieces.

pub mod api;
mod app_state;
pub mod big_answer;
pub mod browser_guard;
pub mod control_token;
pub mod controls;
pub mod healthcheck;
pub mod listener;
pub mod server;
