//! The report's timestamps: parsing its RFC 3339 text, the seconds between two times, and
//! the capture's time range. The capture facts, the timeline and the ladder all measure time
//! this way; none of them reads a clock.

use chrono::{DateTime, FixedOffset};

use crate::report::Report;

/// A timestamp parsed from the report's RFC 3339 text.
type Time = DateTime<FixedOffset>;

/// The capture's time range, and the report's text for both ends.
pub(super) struct Span<'a> {
    start: Time,
    pub(super) start_text: &'a str,
    end: Time,
    pub(super) end_text: &'a str,
}

impl Span<'_> {
    /// Length in seconds (0 when the ends are equal or out of order).
    pub(super) fn seconds(&self) -> f64 {
        seconds_between(&self.start, &self.end).max(0.0)
    }

    /// Where `time` falls on the axis, from 0 (start) to 1 (end); the middle when the span
    /// has no length.
    pub(super) fn fraction(&self, time: &Time) -> f64 {
        let length = self.seconds();
        if length > 0.0 {
            (seconds_between(&self.start, time) / length).clamp(0.0, 1.0)
        } else {
            0.5
        }
    }
}

pub(super) fn parse_ts(text: &str) -> Option<Time> {
    DateTime::parse_from_rfc3339(text).ok()
}

/// Seconds from `from` to `to` (negative when `to` is earlier).
pub(super) fn seconds_between(from: &Time, to: &Time) -> f64 {
    let delta = to.signed_duration_since(*from);
    match delta.num_nanoseconds() {
        Some(nanos) => nanos as f64 / 1e9,
        None => delta.num_milliseconds() as f64 / 1e3,
    }
}

/// From the earliest input timestamp to the latest; from the flows' when no input has one.
pub(super) fn capture_span(report: &Report) -> Option<Span<'_>> {
    let from_inputs = report
        .inputs
        .iter()
        .flat_map(|i| [i.first_ts.as_deref(), i.last_ts.as_deref()])
        .flatten();
    let mut times = parsed_times(from_inputs);
    if times.is_empty() {
        let from_flows = report
            .flows
            .iter()
            .flat_map(|f| [f.first_ts.as_str(), f.last_ts.as_str()]);
        times = parsed_times(from_flows);
    }
    let (start, start_text) = times.iter().min_by_key(|(time, _)| *time)?;
    let (end, end_text) = times.iter().max_by_key(|(time, _)| *time)?;
    Some(Span {
        start: *start,
        start_text,
        end: *end,
        end_text,
    })
}

/// The texts that parse as RFC 3339, with their parsed values.
fn parsed_times<'a>(texts: impl Iterator<Item = &'a str>) -> Vec<(Time, &'a str)> {
    texts
        .filter_map(|text| parse_ts(text).map(|time| (time, text)))
        .collect()
}
