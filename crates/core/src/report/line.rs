//! One line per reset, for a live capture's running commentary: time, flow, who sent it,
//! verdict, scenario and the reason, short enough to follow in a terminal.

use crate::attribution::{Attribution, Scenario, Verdict};
use crate::flow::{Flow, Reset};

use super::build::reset_report;
use super::view::View;

/// The line announcing one reset.
pub fn reset_line(flow: &Flow, reset: &Reset, attribution: &Attribution, view: &View) -> String {
    let report = reset_report(flow, reset, attribution);
    let reason = strongest_reason(attribution);
    format!(
        "{}  {} -> {}  RST from {} (frame {}, ttl {})  {} {:.2} {}{}",
        view.stamp_ns(reset.segment.at.ts.0),
        flow.client(),
        flow.server(),
        report.from,
        report.frame,
        report.ttl,
        report.verdict,
        report.confidence,
        report.scenario,
        reason
    )
}

/// The line correcting an earlier announcement once the whole flow is known (what followed the
/// reset, or other flows of the same hosts, changed the judgement).
pub fn revised_line(
    flow: &Flow,
    reset: &Reset,
    attribution: &Attribution,
    said: (Verdict, Scenario),
    view: &View,
) -> String {
    let report = reset_report(flow, reset, attribution);
    format!(
        "{}  {} -> {}  RST from {} (frame {}) revised: {} {:.2} {} (first said {} {}){}",
        view.stamp_ns(reset.segment.at.ts.0),
        flow.client(),
        flow.server(),
        report.from,
        report.frame,
        report.verdict,
        report.confidence,
        report.scenario,
        said.0.as_str(),
        said.1.as_str(),
        strongest_reason(attribution)
    )
}

/// The first evidence that moved the verdict, as ": detail".
fn strongest_reason(attribution: &Attribution) -> String {
    attribution
        .evidence
        .iter()
        .find(|e| e.counted && e.points_to != crate::attribution::PointsTo::Neither)
        .map_or_else(String::new, |e| format!(": {}", e.detail))
}
