//! `rstscope compare A B`: the same traffic captured at two points, matched flow by flow and
//! packet by packet, so a reset's origin is seen rather than inferred.
//!
//! Each capture is analysed on its own first (its verdicts are the fallback, and its
//! baselines are its own). Then its packets are read once more into a bounded log; the flows
//! are paired by their packets (`matching`), the second clock is read against the first
//! (`clock`), and every reset is judged by where it was seen (`judge`). The report has one flow
//! per connection, both inputs, all times on the first input's clock, and the comparison's
//! own fields (`report::comparison`).

mod changes;
mod clock;
mod judge;
mod log;
mod matching;
mod merge;
mod pair;
mod rows;

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use crate::capture::CaptureError;
use crate::export::FlowSelection;
use crate::pipeline::{AnalyzeOptions, RunStats, analyze};
use crate::report::comparison::{
    ComparisonReport, LostPacket, MssChange, NatMapping, PathChanges, Sighting, TwoPointPacket,
};
use crate::report::{
    Endpoint, FlowReport, Report, ReportBuilder, ResetReport, flow_report, format_ts,
};
use crate::time::Timestamp;
use changes::*;
use clock::{Clock, Reading, median};
use judge::{Coverage, Sighted, judge};
use log::PacketLog;
use log::Pkt;
use matching::{FlowMatch, FlowPackets, PacketMatch, match_flows, match_packets};
use merge::*;
use pair::*;
use rows::two_point_rows;

/// Lost packets listed per flow (the rest are counted).
const LOST_LISTED: usize = 20;
/// NAT mappings listed in the comparison.
const NAT_LISTED: usize = 1000;

/// One capture, analysed alone, with its flows as packets.
struct Capture {
    name: String,
    reports: Vec<FlowReport>,
    spans: Vec<(Timestamp, Timestamp)>,
    packets: Vec<FlowPackets>,
    stats: RunStats,
    span: Option<(Timestamp, Timestamp)>,
    not_kept: u64,
    /// The last time (this capture's clock) each address was seen.
    last_seen: HashMap<IpAddr, Timestamp>,
}

fn read_capture(
    path: &Path,
    input: usize,
    options: &AnalyzeOptions,
    mut selection: Option<&mut FlowSelection>,
) -> Result<Capture, CaptureError> {
    let mut reports = Vec::new();
    let mut flows = Vec::new();
    let stats = analyze(&[path.to_path_buf()], options, &mut |analyzed| {
        if let Some(selection) = selection.as_deref_mut() {
            selection.consider_in(input, &analyzed);
        }
        let flow = &analyzed.flow;
        flows.push((flow.client(), flow.server(), flow.first_ts, flow.last_ts));
        reports.push(flow_report(&analyzed));
    })?;
    let mut log = PacketLog::read(path, options.anonymize.as_ref())?;
    let (span_of_log, not_kept) = (log.first_ts.zip(log.last_ts), log.not_kept);
    let last_seen = std::mem::take(&mut log.last_seen);
    let spans = flows
        .iter()
        .map(|&(_, _, first, last)| (first, last))
        .collect();
    let packets = log
        .into_flows(&flows)
        .into_iter()
        .zip(&flows)
        .map(|(packets, &(client, server, _, _))| FlowPackets {
            client,
            server,
            packets,
        })
        .collect();
    let input = stats.inputs.first();
    let name = input.map_or_else(|| path.display().to_string(), |input| input.path.clone());
    // The capture ran from its first frame to its last, whatever they held.
    let span = input
        .and_then(|input| input.first_ts.zip(input.last_ts))
        .or(span_of_log);
    Ok(Capture {
        name,
        reports,
        spans,
        packets,
        stats,
        span,
        not_kept,
        last_seen,
    })
}

/// Compares two captures of the same traffic; the report lists what `builder` keeps. With a
/// `selection`, the flows worth exporting (`--export-pcap`) are noted in it, their RSTs with
/// the two-capture verdicts.
pub fn compare(
    paths: [&Path; 2],
    options: &AnalyzeOptions,
    mut builder: ReportBuilder,
    mut selection: Option<&mut FlowSelection>,
) -> Result<Report, CaptureError> {
    let mut captures = [
        read_capture(paths[0], 0, options, selection.as_deref_mut())?,
        read_capture(paths[1], 1, options, selection.as_deref_mut())?,
    ];
    let matches = match_flows(&captures[0].packets, &captures[1].packets);
    let pairs: Vec<Pair> = matches
        .into_iter()
        .map(|flow| {
            pair_of(
                flow,
                &captures[0].packets[flow.a],
                &captures[1].packets[flow.b],
            )
        })
        .collect();
    let clock = Clock::fit(&readings(&pairs, &captures));
    let nearer_clients = majority(&pairs);
    let covered_servers = covered_servers(&pairs, &captures);
    let names = if options.anonymize.is_some() {
        // As the anonymised report names its inputs.
        [
            crate::anonymize::input_name(0, &captures[0].name),
            crate::anonymize::input_name(1, &captures[1].name),
        ]
    } else {
        crate::report::comparison::short_names([&captures[0].name, &captures[1].name])
    };
    let spans = [
        captures[0].span,
        captures[1]
            .span
            .map(|(f, l)| (clock.on_first(f), clock.on_first(l))),
    ];
    let world = World {
        clock,
        names: [&names[0], &names[1]],
        spans,
        nearer_clients,
        last_seen: [&captures[0].last_seen, &captures[1].last_seen],
        kept_all: [captures[0].not_kept == 0, captures[1].not_kept == 0],
    };
    let mut a_matched = vec![None; captures[0].reports.len()];
    let mut b_matched = vec![false; captures[1].reports.len()];
    for (index, pair) in pairs.iter().enumerate() {
        a_matched[pair.flow.a] = Some(index);
        b_matched[pair.flow.b] = true;
    }
    let id_offset = captures[0].reports.iter().map(|f| f.id).max().unwrap_or(0);
    let mut nat = Vec::new();
    let mut flows = Vec::new();
    let b_reports = std::mem::take(&mut captures[1].reports);
    let mut b_reports: Vec<Option<FlowReport>> = b_reports.into_iter().map(Some).collect();
    let a_reports = std::mem::take(&mut captures[0].reports);
    for (ai, mut report) in a_reports.into_iter().enumerate() {
        match a_matched[ai] {
            Some(index) => {
                let pair = &pairs[index];
                let b_report = b_reports[pair.flow.b].take();
                merge_pair(&mut report, b_report, pair, &captures, &world);
                note_nat(&report, &mut nat);
            }
            None => {
                let covered = covers(&covered_servers[0], &captures[0].packets[ai]);
                for reset in &mut report.resets {
                    judge_alone(reset, 0, covered, &world);
                }
            }
        }
        flows.push(report);
    }
    for (bi, report) in b_reports.into_iter().enumerate() {
        let (Some(mut report), false) = (report, b_matched[bi]) else {
            continue;
        };
        report.id += id_offset;
        if report.tcp_stream.is_some() {
            report.tcp_stream_input = Some(1);
        }
        let (first, last) = captures[1].spans[bi];
        report.first_ts = format_ts(world.clock.on_first(first));
        report.last_ts = format_ts(world.clock.on_first(last));
        let covered = covers(&covered_servers[1], &captures[1].packets[bi]);
        for reset in &mut report.resets {
            to_first_clock(reset, &world.clock);
            judge_alone(reset, 1, covered, &world);
        }
        flows.push(report);
    }
    let comparison = ComparisonReport {
        clock_of_input: 0,
        clock_offset_s: (world.clock.offset_ns / 1e3).round() / 1e6,
        clock_drift_ppm: (world.clock.drift * 1e7).round() / 10.0,
        matched_packets: world.clock.readings,
        flows_matched: pairs.len() as u64,
        flows_unmatched: [
            a_matched.iter().filter(|m| m.is_none()).count() as u64,
            b_matched.iter().filter(|m| !**m).count() as u64,
        ],
        nearer_clients,
        nat,
    };
    for (index, capture) in captures.iter().enumerate() {
        if capture.not_kept > 0 {
            builder.warn(format!(
                "{}: {} packets past the comparison's bounds (per connection and per capture) were analysed but not matched with the other capture",
                names[index], capture.not_kept
            ));
        }
    }
    if pairs.is_empty() && !flows.is_empty() {
        builder.warn(format!(
            "no flow of {} was found in {}: are they captures of the same traffic? Each reset keeps its one-capture verdict",
            names[0], names[1]
        ));
    }
    if let Some(selection) = selection {
        for reset in flows.iter().flat_map(|flow| &flow.resets) {
            let text = format!(
                "RST verdict {} (confidence {:.2}), scenario {}, from both captures: {}",
                reset.verdict,
                reset.confidence,
                reset.scenario,
                reset.evidence.first().map_or("", |e| e.signal.as_str())
            );
            for sighting in &reset.seen {
                selection.judged(sighting.input, sighting.frame, text.clone());
            }
        }
    }
    for flow in flows {
        builder.add(flow);
    }
    let [a, b] = captures;
    let stats = RunStats {
        inputs: a.stats.inputs.into_iter().chain(b.stats.inputs).collect(),
        evicted_flows: a.stats.evicted_flows + b.stats.evicted_flows,
        judged_early: a.stats.judged_early + b.stats.judged_early,
        side_by_side: true,
    };
    let mut report = builder.finish(&stats);
    report.comparison = Some(comparison);
    Ok(report)
}

/// What every judgement reads of the comparison as a whole.
struct World<'a> {
    clock: Clock,
    names: [&'a str; 2],
    /// Each capture's first and last packet, on the first clock.
    spans: [Option<(Timestamp, Timestamp)>; 2],
    nearer_clients: Option<usize>,
    /// Per input, the last time each address was seen there (that input's clock).
    last_seen: [&'a HashMap<IpAddr, Timestamp>; 2],
    /// Per input, true when every packet was kept for matching (none past the bounds).
    kept_all: [bool; 2],
}

impl World<'_> {
    /// True when `input` still saw traffic to or from `ip` at `ts` (first clock) or later: it
    /// was still on the path to that host then.
    fn still_on_path(&self, input: usize, ip: IpAddr, ts: Timestamp) -> bool {
        self.last_seen[input].get(&ip).is_some_and(|&last| {
            let last = if input == 1 {
                self.clock.on_first(last)
            } else {
                last
            };
            last >= ts
        })
    }

    /// True when `input` was capturing at `ts` (first clock).
    fn capturing(&self, input: usize, ts: Timestamp) -> bool {
        self.spans[input].is_some_and(|(first, last)| first <= ts && ts <= last)
    }

    /// The input nearer the sender of `side` (0 client, 1 server) by the matched flows.
    fn near_by_majority(&self, side: usize) -> Option<usize> {
        self.nearer_clients
            .map(|near| if side == 0 { near } else { 1 - near })
    }
}

/// Per input, the server hosts (as that input names them) of its flows the other input saw
/// too: an unmatched flow to one of them lay on a path both points watch.
fn covered_servers(pairs: &[Pair], captures: &[Capture; 2]) -> [HashSet<IpAddr>; 2] {
    let mut out = [HashSet::new(), HashSet::new()];
    for pair in pairs {
        out[0].insert(captures[0].packets[pair.flow.a].server.ip());
        out[1].insert(captures[1].packets[pair.flow.b].server.ip());
    }
    out
}

/// True when the other capture watched the path of `flow` (its server host was seen there
/// in a matched flow). `servers` are named as this flow's own input names them.
fn covers(servers: &HashSet<IpAddr>, flow: &FlowPackets) -> bool {
    servers.contains(&flow.server.ip())
}
