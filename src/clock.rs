//! The emulator's clock: the system's wall clock moved by an offset that can be advanced,
//! so that tests can bring a transition's due time forward without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_millis: Arc<AtomicI64>,
}

impl Clock {
    /// Epoch seconds with millisecond precision, as AWS reports times.
    #[allow(clippy::disallowed_methods)] // the one reading of the wall clock
    pub fn now(&self) -> f64 {
        let millis =
            chrono::Utc::now().timestamp_millis() + self.offset_millis.load(Ordering::Relaxed);
        millis as f64 / 1000.0
    }

    /// Moves the clock forward by `seconds` for everyone sharing it; returns the new
    /// offset in seconds.
    pub fn advance(&self, seconds: f64) -> f64 {
        let by = (seconds * 1000.0).round() as i64;
        (self.offset_millis.fetch_add(by, Ordering::Relaxed) + by) as f64 / 1000.0
    }

    /// The wall clock itself, which request signatures are checked against: clients sign
    /// with real time whatever this clock's offset.
    #[allow(clippy::disallowed_methods)]
    pub fn wall_time(&self) -> std::time::SystemTime {
        std::time::SystemTime::now()
    }

    /// How far ahead of the wall clock this clock is, in seconds.
    pub fn offset_seconds(&self) -> f64 {
        self.offset_millis.load(Ordering::Relaxed) as f64 / 1000.0
    }

    /// Sets the offset, as a restart restores it from durable state.
    pub fn set_offset(&self, seconds: f64) {
        self.offset_millis
            .store((seconds * 1000.0).round() as i64, Ordering::Relaxed);
    }
}
