//! From analysis values to report values: the one place that converts flows and run
//! statistics into the schema's structs, formats times (chrono) and counts the summary.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};

use chrono::{DateTime, SecondsFormat};

use super::diagnosis::Diagnosis;
use super::{
    Endpoint, EvidenceReport, FlowReport, InputReport, PacketReport, PerSide, ReckoningReport,
    Report, ResetReport, SCHEMA, Summary, Tool,
};
use crate::analyzer::AnalyzedFlow;
use crate::attribution::Attribution;
use crate::decode::Checksum;
use crate::flow::{Close, Flow, Reset, SegmentNote, Side};
use crate::pipeline::RunStats;
use crate::reading::InputStats;
use crate::tcp::SeqNum;
use crate::time::Timestamp;

mod flows;
pub use flows::*;

/// Which flows a report keeps in `flows` (all are counted in `summary`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retain {
    All,
    /// Only flows with at least one RST segment.
    WithResets,
    /// None: the flows were streamed elsewhere (JSON Lines).
    Nothing,
}

/// What `--verdict`, `--scenario`, `--host` and `--port` narrow the listing to: a flow is listed
/// when each given option matches (any of its values). Verdicts are never changed by it.
#[derive(Debug, Clone, Default)]
pub struct Narrowing {
    pub verdicts: Vec<String>,
    pub scenarios: Vec<String>,
    pub hosts: Vec<IpAddr>,
    pub ports: Vec<u16>,
}

impl Narrowing {
    /// True when the flow is one to list.
    pub fn admits(&self, flow: &FlowReport) -> bool {
        let any_reset = |wanted: &[String], field: fn(&ResetReport) -> &str| {
            wanted.is_empty()
                || flow
                    .resets
                    .iter()
                    .any(|r| wanted.iter().any(|w| w == field(r)))
        };
        let ends = [&flow.client, &flow.server];
        any_reset(&self.verdicts, |r| r.verdict)
            && any_reset(&self.scenarios, |r| r.scenario)
            && (self.hosts.is_empty()
                || ends.iter().any(|e| {
                    e.ip.parse::<IpAddr>()
                        .is_ok_and(|ip| self.hosts.contains(&ip))
                }))
            && (self.ports.is_empty() || ends.iter().any(|e| self.ports.contains(&e.port)))
    }

    /// True when a live reset's line is one to print: its flow's ends and its own verdict and
    /// scenario match.
    pub fn admits_reset(&self, ends: [SocketAddr; 2], verdict: &str, scenario: &str) -> bool {
        let wanted =
            |list: &[String], value: &str| list.is_empty() || list.iter().any(|w| w == value);
        wanted(&self.verdicts, verdict)
            && wanted(&self.scenarios, scenario)
            && (self.hosts.is_empty() || ends.iter().any(|e| self.hosts.contains(&e.ip())))
            && (self.ports.is_empty() || ends.iter().any(|e| self.ports.contains(&e.port())))
    }

    pub fn is_empty(&self) -> bool {
        self.verdicts.is_empty()
            && self.scenarios.is_empty()
            && self.hosts.is_empty()
            && self.ports.is_empty()
    }
}

/// Accumulates flows into a report as they finish.
pub struct ReportBuilder {
    retain: Retain,
    command: String,
    anonymized: bool,
    /// At most this many flows are kept; beyond it the oldest kept one is dropped (counted).
    max_listed: usize,
    summary: Summary,
    flows: VecDeque<FlowReport>,
    /// Warnings the caller found, besides those the run statistics give.
    warnings: Vec<String>,
    narrowing: Narrowing,
    diagnosis: Diagnosis,
}

impl ReportBuilder {
    pub fn new(retain: Retain) -> ReportBuilder {
        ReportBuilder {
            retain,
            command: String::new(),
            anonymized: false,
            max_listed: usize::MAX,
            summary: Summary::default(),
            flows: VecDeque::new(),
            warnings: Vec::new(),
            narrowing: Narrowing::default(),
            diagnosis: Diagnosis::default(),
        }
    }

    /// Lists only the flows `narrowing` admits (all are still counted in the summary).
    pub fn narrowed_to(mut self, narrowing: Narrowing) -> ReportBuilder {
        self.narrowing = narrowing;
        self
    }

    /// True when the flow is one to list (and to stream).
    pub fn admits(&self, flow: &FlowReport) -> bool {
        self.narrowing.admits(flow)
    }

    /// What the listing is narrowed to.
    pub fn narrowing(&self) -> &Narrowing {
        &self.narrowing
    }

    /// Adds a warning for the report (and standard error).
    pub fn warn(&mut self, warning: String) {
        self.warnings.push(warning);
    }

    /// Records the command line that made the report, and whether addresses are anonymised.
    pub fn made_by(mut self, command: String, anonymized: bool) -> ReportBuilder {
        self.command = command;
        self.anonymized = anonymized;
        self
    }

    /// Keeps at most `max` flows, the most recently finished ones, so a capture that runs for
    /// days holds a bounded report (every flow is still counted in the summary).
    pub fn listing_at_most(mut self, max: usize) -> ReportBuilder {
        self.max_listed = max;
        self
    }

    /// Counts a flow `--filter` did not select: analysed, but neither listed nor counted.
    pub fn skip_unselected(&mut self) {
        self.summary.flows_not_selected += 1;
    }

    /// Counts a finished flow and keeps it when the policy says so.
    pub fn add(&mut self, flow: FlowReport) {
        self.summary.tcp_flows += 1;
        match flow.close {
            "fin" => self.summary.closed_fin += 1,
            "rst" => self.summary.closed_rst += 1,
            _ => self.summary.not_closed += 1,
        }
        self.summary.resets += flow.resets.len() as u64 + flow.resets_not_listed;
        for reset in &flow.resets {
            let counts = &mut self.summary.verdicts;
            match reset.verdict {
                "peer" => counts.peer += 1,
                "firewall" => counts.firewall += 1,
                "middlebox" => counts.middlebox += 1,
                _ => counts.unknown += 1,
            }
        }
        if !self.narrowing.admits(&flow) {
            self.summary.flows_narrowed_out += 1;
            return;
        }
        self.diagnosis.add(&flow);
        let keep = match self.retain {
            Retain::All => true,
            Retain::WithResets => !flow.resets.is_empty() || flow.resets_not_listed > 0,
            Retain::Nothing => false,
        };
        if keep {
            if self.flows.len() >= self.max_listed {
                self.flows.pop_front();
                self.summary.flows_not_listed += 1;
            }
            if self.max_listed > 0 {
                self.flows.push_back(flow);
            } else {
                self.summary.flows_not_listed += 1;
            }
        }
    }

    /// The finished report.
    pub fn finish(mut self, stats: &RunStats) -> Report {
        let mut flows = Vec::from(self.flows);
        flows.sort_by_key(|flow| flow.id);
        self.summary.evicted_flows = stats.evicted_flows;
        self.summary.groups = self.diagnosis.groups();
        let mut warnings = warnings(stats);
        warnings.append(&mut self.warnings);
        if self.summary.flows_not_listed > 0 {
            warnings.push(format!(
                "the report lists the {} most recently finished flows; {} earlier ones are counted \
                 in the summary but not listed (raise --report-flows, or stream every flow with \
                 --format jsonl)",
                flows.len(),
                self.summary.flows_not_listed
            ));
        }
        let mut inputs: Vec<InputReport> = stats.inputs.iter().map(input_report).collect();
        if self.anonymized {
            // File names are anonymised too, in the inputs and in every warning naming them.
            for (index, input) in inputs.iter_mut().enumerate() {
                let name = crate::anonymize::input_name(index, &input.path);
                for warning in &mut warnings {
                    *warning = warning.replace(&input.path, &name);
                }
                input.path = name;
            }
        }
        Report {
            schema: SCHEMA,
            tool: Tool::rstscope(),
            command: self.command,
            anonymized: self.anonymized,
            inputs,
            summary: self.summary,
            flows,
            warnings,
            comparison: None,
        }
    }
}

/// The warnings a run deserves: inputs cut short, flows evicted.
pub fn warnings(stats: &RunStats) -> Vec<String> {
    let mut warnings: Vec<String> = stats
        .inputs
        .iter()
        .filter_map(|input| input.broken.clone())
        .collect();
    for pair in stats.inputs.windows(2) {
        if let (false, Some(earlier_end), Some(later_start)) =
            (stats.side_by_side, pair[0].last_ts, pair[1].first_ts)
            && later_start < earlier_end
        {
            warnings.push(format!(
                "{} starts before {} ends: files are read as one capture in the order given, so \
                 flows that span them may be split or merged; give rotated files in time order, \
                 or analyse unrelated captures one at a time",
                pair[1].path, pair[0].path
            ));
        }
    }
    for input in &stats.inputs {
        if let Some(drops) = input.drops.filter(|d| d.by_kernel + d.by_interface > 0) {
            warnings.push(format!(
                "{}: {} packets were dropped ({} by the kernel, {} by the interface): attributions from this capture are less certain; raise -B or narrow the filter",
                input.path,
                drops.by_kernel + drops.by_interface,
                drops.by_kernel,
                drops.by_interface
            ));
        }
    }
    if stats.evicted_flows > 0 {
        warnings.push(format!(
            "the flow table was full: {} flows were finished early (raise --max-flows)",
            stats.evicted_flows
        ));
    }
    if stats.judged_early > 0 {
        warnings.push(format!(
            "{} flows with resets were judged before the capture ended, against the hosts' \
             baselines up to then (more reset flows than rstscope holds back); analyse a part of \
             the capture, or filter it, for verdicts drawn from the whole of it",
            stats.judged_early
        ));
    }
    warnings
}

/// RFC 3339 UTC text, with microseconds, or nanoseconds when the capture has them.
pub fn format_ts(ts: Timestamp) -> String {
    let (secs, nanos) = ts.split();
    let precision = if nanos % 1000 == 0 {
        SecondsFormat::Micros
    } else {
        SecondsFormat::Nanos
    };
    match DateTime::from_timestamp(secs, nanos) {
        Some(time) => time.to_rfc3339_opts(precision, true),
        None => format!("{secs}.{nanos:09}"),
    }
}

fn input_report(input: &InputStats) -> InputReport {
    InputReport {
        path: input.path.clone(),
        link_type: input.link_type.to_string(),
        packets: input.frames,
        first_ts: input.first_ts.map(format_ts),
        last_ts: input.last_ts.map(format_ts),
        truncated_packets: input.truncated,
        undecodable_packets: input.undecodable,
        non_tcp_packets: input.not_tcp,
        filtered_packets: input.filtered,
        tcp_packets: input.tcp,
        copies_on_other_interfaces: input.copies,
        complete: input.broken.is_none(),
        dropped_by_kernel: input.drops.map(|d| d.by_kernel),
        dropped_by_interface: input.drops.map(|d| d.by_interface),
        kernel_tracing: input.kernel.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Endpoint;

    fn flow(id: u64) -> FlowReport {
        let end = |port| Endpoint {
            ip: "192.0.2.1".to_string(),
            port,
        };
        let none = PerSide {
            client: 0,
            server: 0,
        };
        FlowReport {
            id,
            client: end(1),
            server: end(2),
            community_id: String::new(),
            tcp_stream: None,
            tcp_stream_input: None,
            first_ts: String::new(),
            last_ts: String::new(),
            duration_s: 0.0,
            packets: none,
            payload_bytes: none,
            conn_state: "S0".to_string(),
            history: "S".to_string(),
            close: "none",
            handshake_rtt_ms: None,
            retransmissions: none,
            zero_windows: none,
            keepalives: none,
            tunneled: false,
            resets: Vec::new(),
            resets_not_listed: 0,
            path_changes: None,
            lost: Vec::new(),
            lost_not_listed: 0,
            seen_packets: Vec::new(),
        }
    }

    #[test]
    fn a_capped_report_keeps_the_most_recent_flows_and_counts_the_rest() {
        let mut builder = ReportBuilder::new(Retain::All).listing_at_most(3);
        for id in 1..=10 {
            builder.add(flow(id));
        }
        let report = builder.finish(&RunStats::default());
        let ids: Vec<u64> = report.flows.iter().map(|f| f.id).collect();
        assert_eq!(ids, [8, 9, 10]);
        assert_eq!(report.summary.tcp_flows, 10);
        assert_eq!(report.summary.flows_not_listed, 7);
        assert!(report.warnings.iter().any(|w| w.contains("7 earlier ones")));
    }
}
