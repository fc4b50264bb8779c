//! One line per reset, for a live capture's running commentary: time, flow, who sent it,
//! verdict, scenario and the reason, short enough to follow in a terminal.

use crate::attribution::Attribution;
use crate::flow::{Flow, Reset};

use super::build::{format_ts, reset_report};

/// The line announcing one reset.
pub fn reset_line(flow: &Flow, reset: &Reset, attribution: &Attribution) -> String {
    let report = reset_report(flow, reset, attribution);
    let reason = attribution
        .evidence
        .iter()
        .find(|e| e.weight != 0)
        .map_or_else(String::new, |e| format!(": {}", e.detail));
    format!(
        "{}  {} -> {}  RST from {} (frame {}, ttl {})  {} {:.2} {}{}",
        format_ts(reset.segment.at.ts),
        flow.client,
        flow.server,
        report.from,
        report.frame,
        report.ttl,
        report.verdict,
        report.confidence,
        report.scenario,
        reason
    )
}
