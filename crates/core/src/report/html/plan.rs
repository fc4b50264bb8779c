//! What the page shows in full and what compactly, so it stays small on any capture: the
//! heaviest groups get a section with their first flows in full (ladder, evidence) and their
//! next ones as table rows; every other flow with a reset is a row in one last table. With
//! `--all` every group gets a section and every flow is in full.

use crate::report::diagnosis::group_of_flow;
use crate::report::{FlowReport, Report};

/// Groups with a section of their own.
const GROUPS_IN_DETAIL: usize = 6;
/// Flows of a group drawn in full.
const FLOWS_IN_FULL: usize = 3;
/// Further flows of a group as rows.
const FLOWS_IN_ROWS: usize = 50;
/// Rows of the last table (flows of the groups without a section).
const OTHER_ROWS: usize = 200;

/// One group's section.
pub(super) struct Section<'a> {
    /// The group's index in `summary.groups`.
    pub(super) group: usize,
    pub(super) full: Vec<&'a FlowReport>,
    pub(super) rows: Vec<&'a FlowReport>,
    /// The group's flows on neither list (counted, or beyond the limits).
    pub(super) not_shown: u64,
}

pub(super) struct Plan<'a> {
    pub(super) sections: Vec<Section<'a>>,
    /// Flows with resets of the groups without a section.
    pub(super) others: Vec<&'a FlowReport>,
    pub(super) others_not_shown: u64,
}

impl<'a> Plan<'a> {
    pub(super) fn new(report: &'a Report, all: bool) -> Plan<'a> {
        let groups = &report.summary.groups;
        let detailed = if all {
            groups.len()
        } else {
            groups.len().min(GROUPS_IN_DETAIL)
        };
        let mut members: Vec<Vec<&FlowReport>> = vec![Vec::new(); detailed];
        let mut others: Vec<&FlowReport> = Vec::new();
        for flow in report.flows.iter().filter(|f| !f.resets.is_empty()) {
            match group_of_flow(groups, flow) {
                Some(index) if index < detailed => members[index].push(flow),
                _ => others.push(flow),
            }
        }
        let sections = members
            .into_iter()
            .enumerate()
            .map(|(index, mut flows)| {
                let example = groups.get(index).map(|g| g.example.flow);
                // The example first: where the trouble began.
                flows.sort_by_key(|f| (Some(f.id) != example, f.id));
                let (full, rows) = if all {
                    (flows.len(), 0)
                } else {
                    (FLOWS_IN_FULL, FLOWS_IN_ROWS)
                };
                let total = groups.get(index).map_or(0, |g| g.flows);
                let rows: Vec<&FlowReport> = flows.iter().skip(full).take(rows).copied().collect();
                flows.truncate(full);
                let shown = (flows.len() + rows.len()) as u64;
                Section {
                    group: index,
                    not_shown: total.saturating_sub(shown),
                    full: flows,
                    rows,
                }
            })
            .collect();
        let limit = if all { usize::MAX } else { OTHER_ROWS };
        let others_not_shown = others.len().saturating_sub(limit) as u64;
        others.truncate(limit);
        Plan {
            sections,
            others,
            others_not_shown,
        }
    }

    /// True when the flow is drawn in full (it has an anchor to link to).
    pub(super) fn is_full(&self, id: u64) -> bool {
        self.sections
            .iter()
            .any(|s| s.full.iter().any(|f| f.id == id))
    }
}
