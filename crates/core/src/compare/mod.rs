//! `rstscope compare A B`: the same traffic captured at two points, matched flow by flow and
//! packet by packet, so a reset's origin is seen rather than inferred.
//!
//! Each capture is analysed on its own first (its verdicts are the fallback, and its
//! baselines are its own). Then its packets are read once more into a bounded log; the flows
//! are paired by their packets (`matching`), the second clock is read against the first
//! (`clock`), and every reset is judged by where it was seen (`judge`). The report has one flow
//! per connection, both inputs, all times on the first input's clock, and the comparison's
//! own fields (`report::comparison`).

mod clock;
mod judge;
mod log;
mod matching;

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use crate::capture::CaptureError;
use crate::export::FlowSelection;
use crate::pipeline::{AnalyzeOptions, RunStats, analyze};
use crate::report::comparison::{
    ComparisonReport, LostPacket, MssChange, NatMapping, PathChanges, Sighting,
};
use crate::report::{
    Endpoint, FlowReport, Report, ReportBuilder, ResetReport, flow_report, format_ts,
};
use crate::time::Timestamp;
use clock::{Clock, Reading, median};
use judge::{Coverage, Sighted, judge};
use log::PacketLog;
use matching::{FlowMatch, FlowPackets, PacketMatch, match_flows, match_packets};

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
    let mut spans = Vec::new();
    let mut flows = Vec::new();
    let stats = analyze(&[path.to_path_buf()], options, &mut |analyzed| {
        if let Some(selection) = selection.as_deref_mut() {
            selection.consider_in(input, &analyzed);
        }
        let flow = &analyzed.flow;
        flows.push((flow.client(), flow.server(), flow.first_ts, flow.last_ts));
        spans.push((flow.first_ts, flow.last_ts));
        reports.push(flow_report(&analyzed));
    })?;
    let mut log = PacketLog::read(path, options.anonymize.as_ref())?;
    let (span_of_log, not_kept) = (log.first_ts.zip(log.last_ts), log.not_kept);
    let last_seen = std::mem::take(&mut log.last_seen);
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

/// A matched flow pair and what its packets say about the two points.
struct Pair {
    flow: FlowMatch,
    packets: PacketMatch,
    /// Per sender (the first capture's client, server): the input that sees its packets
    /// first, when the packets say.
    near: [Option<usize>; 2],
    /// Time between the points, in ns (0 when unknown).
    transit_ns: f64,
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
                let covered = covers(&covered_servers[1], &captures[0].packets[ai]);
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
        let (first, last) = captures[1].spans[bi];
        report.first_ts = format_ts(world.clock.on_first(first));
        report.last_ts = format_ts(world.clock.on_first(last));
        let covered = covers(&covered_servers[0], &captures[1].packets[bi]);
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

/// A flow pair's packets matched, and which point each side's packets pass first.
fn pair_of(flow: FlowMatch, a: &FlowPackets, b: &FlowPackets) -> Pair {
    let packets = match_packets(a, b, flow.flipped);
    let mut gaps: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for &(i, j) in &packets.pairs {
        let (pa, from_client) = a.packets[i];
        if pa.flags.rst() {
            continue;
        }
        let pb = b.packets[j].0;
        gaps[usize::from(!from_client)].push((pb.ts.0 - pa.ts.0) as f64);
    }
    let (mut near, mut transit_ns) = ([None, None], 0.0);
    if !gaps[0].is_empty() && !gaps[1].is_empty() {
        let (client, server) = (median(&gaps[0]), median(&gaps[1]));
        // The direction that shows the larger gap passes the first point first.
        if client != server {
            let client_first_at_a = client > server;
            near = if client_first_at_a {
                [Some(0), Some(1)]
            } else {
                [Some(1), Some(0)]
            };
            transit_ns = (client - server).abs() / 2.0;
        }
    }
    Pair {
        flow,
        packets,
        near,
        transit_ns,
    }
}

/// One clock reading per matched packet of the flows whose direction is known.
fn readings(pairs: &[Pair], captures: &[Capture; 2]) -> Vec<Reading> {
    let mut out = Vec::new();
    for pair in pairs {
        let a = &captures[0].packets[pair.flow.a];
        let b = &captures[1].packets[pair.flow.b];
        for &(i, j) in &pair.packets.pairs {
            let (pa, from_client) = a.packets[i];
            let side = usize::from(!from_client);
            let Some(near) = pair.near[side] else {
                continue;
            };
            let sign = if near == 0 { 1.0 } else { -1.0 };
            out.push(Reading {
                first: pa.ts,
                second: b.packets[j].0.ts,
                transit_ns: sign * pair.transit_ns,
            });
        }
    }
    if out.is_empty() {
        // No flow shows both directions: the offset alone, the transit taken as nothing.
        for pair in pairs {
            let a = &captures[0].packets[pair.flow.a];
            let b = &captures[1].packets[pair.flow.b];
            for &(i, j) in &pair.packets.pairs {
                out.push(Reading {
                    first: a.packets[i].0.ts,
                    second: b.packets[j].0.ts,
                    transit_ns: 0.0,
                });
            }
        }
    }
    out
}

/// The input nearer the clients by most matched flows.
fn majority(pairs: &[Pair]) -> Option<usize> {
    let at_first = pairs.iter().filter(|p| p.near[0] == Some(0)).count();
    let at_second = pairs.iter().filter(|p| p.near[0] == Some(1)).count();
    match at_first.cmp(&at_second) {
        std::cmp::Ordering::Greater => Some(0),
        std::cmp::Ordering::Less => Some(1),
        std::cmp::Ordering::Equal => None,
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
    // Index 1 of the result is for judging a flow of input 0 (is it on a path input 1
    // watches?), and the other way round.
    let [first, second] = out;
    [second, first]
}

/// True when the other capture watched the path of `flow` (its server host was seen there
/// in a matched flow). `servers` are named as this flow's own input names them.
fn covers(servers: &HashSet<IpAddr>, flow: &FlowPackets) -> bool {
    servers.contains(&flow.server.ip())
}

/// A reset of a flow only `input` saw.
fn judge_alone(reset: &mut ResetReport, input: usize, covered: bool, world: &World<'_>) {
    reset.input = input;
    for packet in reset
        .packets_before
        .iter_mut()
        .chain(&mut reset.packets_after)
    {
        packet.input = input;
    }
    let side = usize::from(reset.from != "client");
    let near = world.near_by_majority(side);
    let ts = Timestamp(reset.at_ns);
    let sender_ip = reset.src.ip.parse::<IpAddr>().ok();
    let coverage = match near {
        Some(n) if n == input => Coverage::SeenNearSender,
        Some(n) if covered => coverage_of(Some(n), |_| false, ts, 0.0, sender_ip, world),
        _ => Coverage::NotCovered,
    };
    let mut frames = [None, None];
    frames[input] = Some(reset.frame);
    reset.seen = vec![Sighting {
        input,
        frame: reset.frame,
        ts: reset.ts.clone(),
        ttl: reset.ttl,
    }];
    judge(
        reset,
        &Sighted {
            coverage,
            near_input: near,
            names: world.names,
            frames,
        },
    );
}

/// Moves a second-capture reset's times onto the first clock.
fn to_first_clock(reset: &mut ResetReport, clock: &Clock) {
    let at = clock.on_first(Timestamp(reset.at_ns));
    reset.at_ns = at.0;
    reset.ts = format_ts(at);
    for packet in reset
        .packets_before
        .iter_mut()
        .chain(&mut reset.packets_after)
    {
        if let Some(ts) = parse_ts(&packet.ts) {
            packet.ts = format_ts(clock.on_first(ts));
        }
    }
}

fn parse_ts(text: &str) -> Option<Timestamp> {
    let time = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    time.timestamp_nanos_opt().map(Timestamp)
}

fn endpoint(addr: SocketAddr) -> Endpoint {
    Endpoint {
        ip: addr.ip().to_string(),
        port: addr.port(),
    }
}

fn side_name(side: usize) -> &'static str {
    if side == 0 { "client" } else { "server" }
}

/// A matched flow: the first capture's report, the second's resets merged in (one reset per
/// RST segment, with every sighting), each judged from both points, and what changed on the
/// way.
fn merge_pair(
    report: &mut FlowReport,
    b_report: Option<FlowReport>,
    pair: &Pair,
    captures: &[Capture; 2],
    world: &World<'_>,
) {
    let a = &captures[0].packets[pair.flow.a];
    let b = &captures[1].packets[pair.flow.b];
    let a_to_b: HashMap<u64, usize> = pair
        .packets
        .pairs
        .iter()
        .map(|&(i, j)| (a.packets[i].0.frame, j))
        .collect();
    let b_seen: HashSet<u64> = pair
        .packets
        .pairs
        .iter()
        .map(|&(_, j)| b.packets[j].0.frame)
        .collect();
    let missed = missed_near_sender(pair, a, b);
    for reset in &mut report.resets {
        let side = usize::from(reset.from != "client");
        let b_index = a_to_b.get(&reset.frame).copied();
        let mut seen = vec![Sighting {
            input: 0,
            frame: reset.frame,
            ts: reset.ts.clone(),
            ttl: reset.ttl,
        }];
        let mut frames = [Some(reset.frame), None];
        if let Some(j) = b_index {
            let pb = b.packets[j].0;
            seen.push(Sighting {
                input: 1,
                frame: pb.frame,
                ts: format_ts(world.clock.on_first(pb.ts)),
                ttl: pb.ttl,
            });
            frames[1] = Some(pb.frame);
        }
        reset.seen = seen;
        let near = pair.near[side].or_else(|| world.near_by_majority(side));
        let seen_at = |input: usize| frames[input].is_some();
        let ts = Timestamp(reset.at_ns);
        let sender_ip = near.map(|n| address_at(pair, a, b, side, n));
        let mut coverage = coverage_of(near, seen_at, ts, pair.transit_ns, sender_ip, world);
        if coverage == Coverage::MissedNearSender && missed[side] > 0 {
            coverage = Coverage::NearMissedPackets(missed[side]);
        }
        judge(
            reset,
            &Sighted {
                coverage,
                near_input: near,
                names: world.names,
                frames,
            },
        );
    }
    if let Some(b_report) = b_report {
        for mut reset in b_report.resets {
            if b_seen.contains(&reset.frame) {
                continue;
            }
            to_first_clock(&mut reset, &world.clock);
            reset.input = 1;
            for packet in reset
                .packets_before
                .iter_mut()
                .chain(&mut reset.packets_after)
            {
                packet.input = 1;
            }
            if pair.flow.flipped {
                reset.from = if reset.from == "client" {
                    "server"
                } else {
                    "client"
                };
            }
            let side = usize::from(reset.from != "client");
            reset.seen = vec![Sighting {
                input: 1,
                frame: reset.frame,
                ts: reset.ts.clone(),
                ttl: reset.ttl,
            }];
            let frames = [None, Some(reset.frame)];
            let near = pair.near[side].or_else(|| world.near_by_majority(side));
            let sender_ip = near.map(|n| address_at(pair, a, b, side, n));
            let mut coverage = coverage_of(
                near,
                |input| input == 1,
                Timestamp(reset.at_ns),
                pair.transit_ns,
                sender_ip,
                world,
            );
            if coverage == Coverage::MissedNearSender && missed[side] > 0 {
                coverage = Coverage::NearMissedPackets(missed[side]);
            }
            judge(
                &mut reset,
                &Sighted {
                    coverage,
                    near_input: near,
                    names: world.names,
                    frames,
                },
            );
            report.resets.push(reset);
        }
        report.resets.sort_by_key(|reset| reset.at_ns);
    }
    report.path_changes = Some(path_changes(pair, a, b));
    let (lost, not_listed) = lost_packets(pair, a, b, world);
    report.lost = lost;
    report.lost_not_listed = not_listed;
}

/// Per sender (client, server): its ordinary packets that the far point saw and the near
/// point did not. A packet cannot reach the far point without passing the near one, so any
/// such packet means the near capture missed some (drops, a filter): its silence about a RST
/// then proves nothing.
fn missed_near_sender(pair: &Pair, a: &FlowPackets, b: &FlowPackets) -> [u32; 2] {
    let matched_a: HashSet<usize> = pair.packets.pairs.iter().map(|p| p.0).collect();
    let matched_b: HashSet<usize> = pair.packets.pairs.iter().map(|p| p.1).collect();
    let mut missed = [0u32; 2];
    for (input, flow, matched) in [(0usize, a, &matched_a), (1, b, &matched_b)] {
        for (index, (p, from_client)) in flow.packets.iter().enumerate() {
            if matched.contains(&index) || p.flags.rst() {
                continue;
            }
            let from_client = if input == 1 && pair.flow.flipped {
                !from_client
            } else {
                *from_client
            };
            let side = usize::from(!from_client);
            // Seen at `input`, the far point for this sender.
            if pair.near[side] == Some(1 - input) {
                missed[side] += 1;
            }
        }
    }
    missed
}

/// Where a RST from a sender whose packets pass `near` first was seen, and whether `near`
/// was capturing when it would have passed there (`transit_ns` before the far sighting).
fn coverage_of(
    near: Option<usize>,
    seen_at: impl Fn(usize) -> bool,
    ts: Timestamp,
    transit_ns: f64,
    sender_at_near: Option<IpAddr>,
    world: &World<'_>,
) -> Coverage {
    let Some(near) = near else {
        return Coverage::NotCovered;
    };
    if seen_at(near) {
        return Coverage::SeenNearSender;
    }
    let passed = Timestamp(ts.0 - transit_ns as i64);
    if !world.capturing(near, passed) {
        return Coverage::NotCovered;
    }
    // Silence proves something only while the near point still saw the sender's traffic: a
    // path that moved to another host with the address (a failover) looks the same.
    match sender_at_near {
        Some(ip) if world.still_on_path(near, ip, passed) => Coverage::MissedNearSender,
        _ => Coverage::NearOffPath,
    }
}

/// The address of the pair's `side` (0 client, 1 server, as the first input names them) as
/// input `near` names it.
fn address_at(pair: &Pair, a: &FlowPackets, b: &FlowPackets, side: usize, near: usize) -> IpAddr {
    let (client, server) = if near == 0 {
        (a.client, a.server)
    } else if pair.flow.flipped {
        (b.server, b.client)
    } else {
        (b.client, b.server)
    };
    if side == 0 { client.ip() } else { server.ip() }
}

/// What the flow's matched packets show changed between the points.
fn path_changes(pair: &Pair, a: &FlowPackets, b: &FlowPackets) -> PathChanges {
    let mut changes = PathChanges::default();
    let (b_client, b_server) = if pair.flow.flipped {
        (b.server, b.client)
    } else {
        (b.client, b.server)
    };
    if b_client != a.client {
        changes.client_at_second = Some(endpoint(b_client));
    }
    if b_server != a.server {
        changes.server_at_second = Some(endpoint(b_server));
    }
    let offset = |s: usize| {
        let raw = pair.packets.seq_offset[s];
        (raw != 0).then_some(i64::from(raw as i32))
    };
    changes.client_seq_offset = offset(0);
    changes.server_seq_offset = offset(1);
    let mut drops: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut syn_seen = [false, false];
    for &(i, j) in &pair.packets.pairs {
        let (pa, from_client) = a.packets[i];
        let pb = b.packets[j].0;
        let side = usize::from(!from_client);
        if pa.wnd != pb.wnd && !pa.flags.syn() && !pa.flags.rst() {
            changes.window_rewritten += 1;
        }
        let Some(near) = pair.near[side] else {
            continue;
        };
        let (first, second) = if near == 0 { (pa, pb) } else { (pb, pa) };
        if !pa.flags.rst() {
            drops[side].push(f64::from(first.ttl) - f64::from(second.ttl));
        }
        if pa.flags.syn() && !syn_seen[side] {
            syn_seen[side] = true;
            if let (Some(before), Some(after)) = (first.mss, second.mss)
                && before != after
            {
                changes.mss_clamped.push(MssChange {
                    from: side_name(side),
                    before,
                    after,
                });
            }
            let stripped = [
                ("mss", first.mss.is_some() && second.mss.is_none()),
                (
                    "window_scale",
                    first.window_scale.is_some() && second.window_scale.is_none(),
                ),
                (
                    "sack_permitted",
                    first.sack_permitted && !second.sack_permitted,
                ),
                (
                    "timestamps",
                    first.timestamps.is_some() && second.timestamps.is_none(),
                ),
            ];
            for (name, gone) in stripped {
                let name = format!("{name} ({})", side_name(side));
                if gone && !changes.options_stripped.contains(&name) {
                    changes.options_stripped.push(name);
                }
            }
        }
    }
    let hops = if drops[0].is_empty() {
        &drops[1]
    } else {
        &drops[0]
    };
    if !hops.is_empty() {
        let value = median(hops);
        if (0.0..=255.0).contains(&value) {
            changes.hops = Some(value.round() as u8);
        }
    }
    changes
}

/// Packets that passed the point nearer their sender and never reached the other, while the
/// other was capturing.
fn lost_packets(
    pair: &Pair,
    a: &FlowPackets,
    b: &FlowPackets,
    world: &World<'_>,
) -> (Vec<LostPacket>, u64) {
    let matched_a: HashSet<usize> = pair.packets.pairs.iter().map(|p| p.0).collect();
    let matched_b: HashSet<usize> = pair.packets.pairs.iter().map(|p| p.1).collect();
    let mut lost: Vec<(Timestamp, LostPacket)> = Vec::new();
    let transit = pair.transit_ns as i64;
    for (input, flow, matched) in [(0usize, a, &matched_a), (1, b, &matched_b)] {
        for (index, (p, from_client)) in flow.packets.iter().enumerate() {
            if matched.contains(&index) {
                continue;
            }
            // The side as the first capture names it.
            let from_client = if input == 1 && pair.flow.flipped {
                !from_client
            } else {
                *from_client
            };
            let side = usize::from(!from_client);
            if pair.near[side] != Some(input) {
                continue;
            }
            let ts = if input == 0 {
                p.ts
            } else {
                world.clock.on_first(p.ts)
            };
            let arrives = Timestamp(ts.0 + transit);
            if !world.capturing(1 - input, ts) || !world.capturing(1 - input, arrives) {
                continue;
            }
            lost.push((
                ts,
                LostPacket {
                    input,
                    frame: p.frame,
                    ts: format_ts(ts),
                    from: side_name(side),
                    flags: p.flags.to_string(),
                    seq: p.seq,
                    len: p.len,
                },
            ));
        }
    }
    lost.sort_by_key(|(ts, _)| *ts);
    let not_listed = lost.len().saturating_sub(LOST_LISTED) as u64;
    (
        lost.into_iter().take(LOST_LISTED).map(|(_, p)| p).collect(),
        not_listed,
    )
}

/// Adds the flow's address translations to the comparison's list.
fn note_nat(report: &FlowReport, nat: &mut Vec<NatMapping>) {
    let Some(changes) = &report.path_changes else {
        return;
    };
    for (end, first, second) in [
        ("client", &report.client, &changes.client_at_second),
        ("server", &report.server, &changes.server_at_second),
    ] {
        let Some(second) = second else { continue };
        let mapping = NatMapping {
            end,
            first: first.clone(),
            second: second.clone(),
        };
        if nat.len() < NAT_LISTED
            && !nat
                .iter()
                .any(|m| m.end == end && m.first == mapping.first && m.second == mapping.second)
        {
            nat.push(mapping);
        }
    }
}
