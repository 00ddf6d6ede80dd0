//! The emulator's clock: the system's wall clock moved by an offset that can be advanced,
//! so that tests can bring a transition's due time forward without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// The furthest the clock may run ahead of the wall clock: 100 years. Every time the
/// emulator reports (plus the longest duration the API adds to one, a week's Validity or
/// a session's 360,000 seconds) then stays well inside year 9999, which RFC 3339 and the
/// SDKs' parsers (Python's datetime among them) accept.
pub const MAX_OFFSET_SECONDS: f64 = 3_155_760_000.0;

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

    /// Moves the clock forward by `seconds` (not negative) for everyone sharing it and
    /// returns the new offset in seconds, or `None`, changing nothing, when the offset
    /// would pass `MAX_OFFSET_SECONDS`.
    pub fn advance(&self, seconds: f64) -> Option<f64> {
        let by = (seconds.max(0.0) * 1000.0).round() as i64;
        let limit = (MAX_OFFSET_SECONDS * 1000.0) as i64;
        self.offset_millis
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |offset| {
                offset.checked_add(by).filter(|o| *o <= limit)
            })
            .ok()
            .map(|before| (before + by) as f64 / 1000.0)
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

    /// Sets the offset (a control setting it back, a reset, or a restart restoring it
    /// from durable state); the caller keeps it within 0..=`MAX_OFFSET_SECONDS`.
    pub fn set_offset(&self, seconds: f64) {
        self.offset_millis
            .store((seconds * 1000.0).round() as i64, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_stops_at_its_bound_and_can_be_set_back() {
        let clock = Clock::default();
        assert_eq!(clock.advance(100.0), Some(100.0));
        assert_eq!(clock.advance(MAX_OFFSET_SECONDS), None, "past the bound");
        assert_eq!(
            clock.offset_seconds(),
            100.0,
            "a refused advance changes nothing"
        );
        assert_eq!(
            clock.advance(MAX_OFFSET_SECONDS - 100.0),
            Some(MAX_OFFSET_SECONDS)
        );
        // Year 2126 at the latest: far from 9999 whatever durations are added.
        assert!(clock.now() < 5_000_000_000.0 + MAX_OFFSET_SECONDS);
        clock.set_offset(0.0);
        assert_eq!(clock.offset_seconds(), 0.0);
    }
}
