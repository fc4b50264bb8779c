//! What a matched flow shows changed between the two points (hops, translations, sequence
//! offsets, clamped MSS, stripped options, rewritten windows), the packets lost between them, and
//! the NAT mappings the comparison lists.

use super::*;

pub(super) fn endpoint(addr: SocketAddr) -> Endpoint {
    Endpoint {
        ip: addr.ip().to_string(),
        port: addr.port(),
    }
}

pub(super) fn side_name(side: usize) -> &'static str {
    if side == 0 { "client" } else { "server" }
}

/// What the flow's matched packets show changed between the points.
pub(super) fn path_changes(pair: &Pair, a: &FlowPackets, b: &FlowPackets) -> PathChanges {
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
pub(super) fn lost_packets(
    pair: &Pair,
    a: &FlowPackets,
    b: &FlowPackets,
    world: &World<'_>,
) -> (Vec<LostPacket>, u64) {
    let mut lost: Vec<(Timestamp, LostPacket)> = Vec::new();
    let transit = pair.transit_ns as i64;
    for (input, p, side) in pair.unmatched(a, b) {
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
    lost.sort_by_key(|(ts, _)| *ts);
    let not_listed = lost.len().saturating_sub(LOST_LISTED) as u64;
    (
        lost.into_iter().take(LOST_LISTED).map(|(_, p)| p).collect(),
        not_listed,
    )
}

/// Adds the flow's address translations to the comparison's list.
pub(super) fn note_nat(report: &FlowReport, nat: &mut Vec<NatMapping>) {
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
