//! A matched flow's report: the first capture's, with the second's resets merged in (one reset
//! per RST segment, with every sighting), each reset judged from both points; and the resets of
//! flows only one capture saw.

use super::*;

/// A reset of a flow only `input` saw.
pub(super) fn judge_alone(reset: &mut ResetReport, input: usize, covered: bool, world: &World<'_>) {
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
pub(super) fn to_first_clock(reset: &mut ResetReport, clock: &Clock) {
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

pub(super) fn parse_ts(text: &str) -> Option<Timestamp> {
    let time = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    time.timestamp_nanos_opt().map(Timestamp)
}

/// A matched flow: the first capture's report, the second's resets merged in (one reset per
/// RST segment, with every sighting), each judged from both points, and what changed on the
/// way.
pub(super) fn merge_pair(
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
        judge_in_pair(reset, frames, pair, [a, b], missed, world);
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
            reset.seen = vec![Sighting {
                input: 1,
                frame: reset.frame,
                ts: reset.ts.clone(),
                ttl: reset.ttl,
            }];
            let frames = [None, Some(reset.frame)];
            judge_in_pair(&mut reset, frames, pair, [a, b], missed, world);
            report.resets.push(reset);
        }
        report.resets.sort_by_key(|reset| reset.at_ns);
    }
    report.path_changes = Some(path_changes(pair, a, b));
    let (lost, not_listed) = lost_packets(pair, a, b, world);
    report.lost = lost;
    report.lost_not_listed = not_listed;
    report.seen_packets = two_point_rows(pair, a, b, &world.clock);
}

/// Judges a reset of a matched flow seen at the inputs `frames` says: where its claimed
/// sender's packets pass first, whether that point saw it, and whether its silence proves
/// anything.
fn judge_in_pair(
    reset: &mut ResetReport,
    frames: [Option<u64>; 2],
    pair: &Pair,
    [a, b]: [&FlowPackets; 2],
    missed: [u32; 2],
    world: &World<'_>,
) {
    let side = usize::from(reset.from != "client");
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

/// Per sender (client, server): its ordinary packets that the far point saw and the near
/// point did not. A packet cannot reach the far point without passing the near one, so any
/// such packet means the near capture missed some (drops, a filter): its silence about a RST
/// then proves nothing.
pub(super) fn missed_near_sender(pair: &Pair, a: &FlowPackets, b: &FlowPackets) -> [u32; 2] {
    let mut missed = [0u32; 2];
    for (input, p, side) in pair.unmatched(a, b) {
        // Seen at `input`, the far point for this sender.
        if !p.flags.rst() && pair.near[side] == Some(1 - input) {
            missed[side] += 1;
        }
    }
    missed
}

/// Where a RST from a sender whose packets pass `near` first was seen, and whether `near`
/// was capturing when it would have passed there (`transit_ns` before the far sighting).
pub(super) fn coverage_of(
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
    if !world.kept_all[near] {
        // Its packets past the bounds were not matched: this RST may be among them.
        return Coverage::NearBeyondBounds;
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
pub(super) fn address_at(
    pair: &Pair,
    a: &FlowPackets,
    b: &FlowPackets,
    side: usize,
    near: usize,
) -> IpAddr {
    let (client, server) = if near == 0 {
        (a.client, a.server)
    } else if pair.flow.flipped {
        (b.server, b.client)
    } else {
        (b.client, b.server)
    };
    if side == 0 { client.ip() } else { server.ip() }
}
