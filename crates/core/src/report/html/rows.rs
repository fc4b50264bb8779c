//! What a ladder draws, top to bottom: a flow's listed resets and the packets listed around
//! them, each frame once and in time order, with a break wherever the pause before a packet
//! is long. Times count from the flow's first listed reset.

use std::collections::BTreeMap;

use super::timestamps::{parse_ts, seconds_between};
use crate::report::{FlowReport, PacketReport, ResetReport};

/// A pause is drawn as a break when longer than this and than the factor times the median.
const IDLE_MIN_MS: f64 = 5000.0;
const IDLE_MEDIAN_FACTOR: f64 = 10.0;

/// One arrow of a ladder diagram: a context packet or a reset.
pub(super) struct Row<'a> {
    pub(super) input: usize,
    pub(super) frame: u64,
    pub(super) ts: &'a str,
    /// Milliseconds from the flow's first listed reset.
    pub(super) at_ms: f64,
    /// `client` or `server`: whose address it carries.
    pub(super) from: &'a str,
    pub(super) flags: &'a str,
    pub(super) seq: u32,
    pub(super) seq_relative: Option<u32>,
    pub(super) ack: Option<u32>,
    pub(super) ack_relative: Option<u32>,
    pub(super) len: u32,
    pub(super) ttl: u8,
    /// The listed reset this row is, if it is one.
    pub(super) reset: Option<&'a ResetReport>,
}

impl<'a> Row<'a> {
    fn from_reset(reset: &'a ResetReport, at_ms: f64) -> Self {
        Row {
            input: reset.input,
            frame: reset.frame,
            ts: &reset.ts,
            at_ms,
            from: reset.from,
            flags: &reset.flags,
            seq: reset.seq,
            seq_relative: reset.seq_relative,
            ack: reset.ack,
            ack_relative: reset.ack_relative,
            len: reset.len,
            ttl: reset.ttl,
            reset: Some(reset),
        }
    }

    /// `shift_ms` is where the packet's own reset stands, from the flow's first reset.
    fn from_packet(packet: &'a PacketReport, shift_ms: f64) -> Self {
        Row {
            input: packet.input,
            frame: packet.frame,
            ts: &packet.ts,
            at_ms: shift_ms + packet.offset_ms,
            from: packet.from,
            flags: &packet.flags,
            seq: packet.seq,
            seq_relative: packet.seq_relative,
            ack: packet.ack,
            ack_relative: packet.ack_relative,
            len: packet.len,
            ttl: packet.ttl,
            reset: None,
        }
    }

    pub(super) fn is_rst(&self) -> bool {
        self.flags.contains('R')
    }
}

/// The flow's resets and the packets around them, each (input, frame) once, in time order.
pub(super) fn ladder_rows(flow: &FlowReport) -> Vec<Row<'_>> {
    let base = flow.resets.first().and_then(|r| parse_ts(&r.ts));
    let mut rows: BTreeMap<(usize, u64), Row<'_>> = BTreeMap::new();
    for reset in &flow.resets {
        let shift = match (&base, parse_ts(&reset.ts)) {
            (Some(base), Some(time)) => seconds_between(base, &time) * 1000.0,
            _ => 0.0,
        };
        // A listed reset always wins over the same frame seen as another reset's context.
        rows.insert((reset.input, reset.frame), Row::from_reset(reset, shift));
        for packet in reset.packets_before.iter().chain(&reset.packets_after) {
            rows.entry((packet.input, packet.frame))
                .or_insert_with(|| Row::from_packet(packet, shift));
        }
    }
    let mut rows: Vec<Row<'_>> = rows.into_values().collect();
    rows.sort_by(|a, b| {
        a.at_ms
            .total_cmp(&b.at_ms)
            .then((a.input, a.frame).cmp(&(b.input, b.frame)))
    });
    rows
}

/// What the ladder draws, top to bottom.
pub(super) enum Item<'r, 'a> {
    Packet(&'r Row<'a>),
    /// A long idle pause, in seconds.
    Gap(f64),
}

/// The rows with a break wherever the pause before a row is long, both absolutely (over 5 s)
/// and against the median pause (over 10 times it).
pub(super) fn with_breaks<'r, 'a>(rows: &'r [Row<'a>]) -> Vec<Item<'r, 'a>> {
    let pauses: Vec<f64> = rows
        .windows(2)
        .map(|pair| (pair[1].at_ms - pair[0].at_ms).max(0.0))
        .collect();
    let median = lower_median(&pauses);
    let mut items = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        if let Some(&pause) = index.checked_sub(1).and_then(|i| pauses.get(i))
            && pause > IDLE_MIN_MS
            && pause > IDLE_MEDIAN_FACTOR * median
        {
            items.push(Item::Gap(pause / 1000.0));
        }
        items.push(Item::Packet(row));
    }
    items
}

/// The lower median (the smaller middle value of an even count); 0 for no values.
fn lower_median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n => sorted[(n - 1) / 2],
    }
}

/// True when two neighbouring rows are less than a millisecond apart (and not at the same
/// instant): their times must keep microseconds to tell them apart.
pub(super) fn needs_microseconds(rows: &[Row<'_>]) -> bool {
    rows.windows(2).any(|pair| {
        let gap = (pair[1].at_ms - pair[0].at_ms).abs();
        gap > 0.0 && gap < 1.0
    })
}

/// Time from the first reset: milliseconds up to 10 s, seconds beyond; to the microsecond
/// when `fine`.
pub(super) fn offset_label(ms: f64, fine: bool) -> String {
    if ms.abs() < 0.0005 {
        "0 ms".to_string()
    } else if ms.abs() < 10_000.0 {
        if fine {
            format!("{ms:+.3} ms")
        } else {
            format!("{ms:+.1} ms")
        }
    } else if fine {
        format!("{:+.6} s", ms / 1000.0)
    } else {
        format!("{:+.3} s", ms / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::html::fixtures::firewall_flow;

    #[test]
    fn breaks_need_a_long_pause_against_the_median() {
        let flow = firewall_flow(1);
        let rows = ladder_rows(&flow);
        let items = with_breaks(&rows);
        let gaps: Vec<f64> = items
            .iter()
            .filter_map(|i| match i {
                Item::Gap(s) => Some(*s),
                Item::Packet(_) => None,
            })
            .collect();
        assert_eq!(gaps, vec![8.0]);
        assert_eq!(offset_label(-8052.0, false), "-8052.0 ms");
        assert_eq!(offset_label(0.0, false), "0 ms");
        assert_eq!(offset_label(-20_000.0, false), "-20.000 s");
        assert_eq!(offset_label(-0.042, true), "-0.042 ms");
        assert_eq!(offset_label(-20_000.042_1, true), "-20.000042 s");
        assert!(!needs_microseconds(&rows));
    }
}
