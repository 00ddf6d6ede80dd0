//! The pages a browser opens: what streaming URLs open, the session and builder pages,
//! and the state browser with `/_state`'s pieces.

pub mod portal;
pub mod session_pages;
pub mod state_stream;
pub mod ui;
