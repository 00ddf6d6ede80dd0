//! The test controls' machinery: fault rules, the request history, the movable clock
//! and the failures a transition can end in.

pub mod clock;
pub mod failure;
pub mod faults;
pub mod history;
