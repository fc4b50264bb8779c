//! A matched flow pair's packets: which point each side's packets pass first, the time between
//! the points, and the clock readings they give.

use super::*;

/// A matched flow pair and what its packets say about the two points.
pub(super) struct Pair {
    pub(super) flow: FlowMatch,
    pub(super) packets: PacketMatch,
    /// Per sender (the first capture's client, server): the input that sees its packets
    /// first, when the packets say.
    pub(super) near: [Option<usize>; 2],
    /// Time between the points, in ns (0 when unknown).
    pub(super) transit_ns: f64,
}

impl Pair {
    /// The packets only one point saw: (the input that saw it, the packet, its sender's side
    /// as the first input names it: 0 client, 1 server).
    pub(super) fn unmatched<'p>(
        &self,
        a: &'p FlowPackets,
        b: &'p FlowPackets,
    ) -> Vec<(usize, &'p Pkt, usize)> {
        let matched_a: HashSet<usize> = self.packets.pairs.iter().map(|p| p.0).collect();
        let matched_b: HashSet<usize> = self.packets.pairs.iter().map(|p| p.1).collect();
        let mut out = Vec::new();
        for (input, flow, matched) in [(0usize, a, &matched_a), (1, b, &matched_b)] {
            for (index, (p, from_client)) in flow.packets.iter().enumerate() {
                if matched.contains(&index) {
                    continue;
                }
                let from_client = *from_client != (input == 1 && self.flow.flipped);
                out.push((input, p, usize::from(!from_client)));
            }
        }
        out
    }
}

/// A flow pair's packets matched, and which point each side's packets pass first.
pub(super) fn pair_of(flow: FlowMatch, a: &FlowPackets, b: &FlowPackets) -> Pair {
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
pub(super) fn readings(pairs: &[Pair], captures: &[Capture; 2]) -> Vec<Reading> {
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
pub(super) fn majority(pairs: &[Pair]) -> Option<usize> {
    let at_first = pairs.iter().filter(|p| p.near[0] == Some(0)).count();
    let at_second = pairs.iter().filter(|p| p.near[0] == Some(1)).count();
    match at_first.cmp(&at_second) {
        std::cmp::Ordering::Greater => Some(0),
        std::cmp::Ordering::Less => Some(1),
        std::cmp::Ordering::Equal => None,
    }
}
