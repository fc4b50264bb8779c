//! Frame time: nanoseconds since the Unix epoch, as the capture recorded it.
//!
//! All timing in rstscope is frame time, never the clock, so a capture analysed twice gives the
//! same answer. Formatting into RFC 3339 text is left to the report.

use std::fmt;

/// A capture timestamp in nanoseconds since 1970-01-01T00:00:00Z (may be negative).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

/// A span of frame time in nanoseconds (may be negative when frames are out of order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span(pub i64);

impl Timestamp {
    /// Builds a timestamp from whole seconds and nanoseconds, saturating on absurd values.
    pub fn from_parts(secs: i64, nanos: i64) -> Timestamp {
        Timestamp(secs.saturating_mul(1_000_000_000).saturating_add(nanos))
    }

    /// Time elapsed from `earlier` to `self`.
    pub fn since(self, earlier: Timestamp) -> Span {
        Span(self.0.saturating_sub(earlier.0))
    }

    /// `self + span`, saturating.
    pub fn after(self, span: Span) -> Timestamp {
        Timestamp(self.0.saturating_add(span.0))
    }

    /// Whole seconds since the epoch (floor) and the nanoseconds within that second.
    pub fn split(self) -> (i64, u32) {
        let secs = self.0.div_euclid(1_000_000_000);
        let nanos = self.0.rem_euclid(1_000_000_000) as u32;
        (secs, nanos)
    }
}

/// A timestamp that may be absent, in 8 bytes (an `Option<Timestamp>` takes 16): the earliest
/// representable time stands for "none", which no capture can carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct MaybeTime(i64);

impl Default for MaybeTime {
    fn default() -> Self {
        MaybeTime::NONE
    }
}

impl MaybeTime {
    pub(crate) const NONE: MaybeTime = MaybeTime(i64::MIN);

    pub(crate) fn get(self) -> Option<Timestamp> {
        (self != MaybeTime::NONE).then_some(Timestamp(self.0))
    }

    pub(crate) fn set(&mut self, ts: Timestamp) {
        self.0 = ts.0.max(i64::MIN + 1);
    }

    pub(crate) fn is_some(self) -> bool {
        self != MaybeTime::NONE
    }

    pub(crate) fn is_none(self) -> bool {
        self == MaybeTime::NONE
    }
}

impl Span {
    pub fn from_secs(secs: u64) -> Span {
        Span(
            i64::try_from(secs)
                .unwrap_or(i64::MAX / 1_000_000_000)
                .saturating_mul(1_000_000_000),
        )
    }

    pub fn from_millis(ms: u64) -> Span {
        Span(
            i64::try_from(ms)
                .unwrap_or(i64::MAX / 1_000_000)
                .saturating_mul(1_000_000),
        )
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.as_secs_f64();
        if secs.abs() < 0.001 {
            write!(f, "{:.3} ms", self.as_millis_f64())
        } else if secs.abs() < 1.0 {
            write!(f, "{:.1} ms", self.as_millis_f64())
        } else {
            write!(f, "{secs:.1} s")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_handles_times_before_the_epoch() {
        assert_eq!(Timestamp(-1).split(), (-1, 999_999_999));
        assert_eq!(Timestamp(1_500_000_000).split(), (1, 500_000_000));
    }

    #[test]
    fn from_parts_saturates_instead_of_overflowing() {
        assert_eq!(Timestamp::from_parts(i64::MAX, 5).0, i64::MAX);
    }

    #[test]
    fn span_display_picks_a_readable_unit() {
        assert_eq!(Span::from_millis(23).to_string(), "23.0 ms");
        assert_eq!(Span(48_000).to_string(), "0.048 ms");
        assert_eq!(Span::from_secs(3605).to_string(), "3605.0 s");
    }
}
