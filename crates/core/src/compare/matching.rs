//! Which flow of one capture is which flow of the other, and which packet is which packet.
//!
//! Never by the absolute addresses alone (NAT changes them): flows are found by their
//! packets' end-to-end facts, which a NAT, an ISN-randomising firewall or an MSS clamp leaves
//! alone: control bits, payload length, IPv4 ID, TCP timestamps, and sequence and
//! acknowledgment numbers. Each packet of a flow votes for the flows of the other capture that
//! hold one like it; the strongest votes pair flows one to one. Within a pair, packets are
//! matched by the same facts with sequence numbers corrected by the offset the votes found.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;

use super::log::Pkt;

/// Packets of a flow that vote (the first ones: a connection's opening is the most telling).
const VOTING_PACKETS: usize = 64;

/// The flows (of the second capture) a key was seen in: one or two; a key three flows share
/// tells nothing.
#[derive(Clone, Copy)]
enum Hits {
    One((u32, bool)),
    Two((u32, bool), (u32, bool)),
    Crowded,
}

impl Hits {
    fn add(self, hit: (u32, bool)) -> Hits {
        match self {
            Hits::One(first) if first == hit => self,
            Hits::One(first) => Hits::Two(first, hit),
            Hits::Two(first, second) if first == hit || second == hit => self,
            _ => Hits::Crowded,
        }
    }

    fn each(self) -> impl Iterator<Item = (u32, bool)> {
        let (first, second) = match self {
            Hits::One(first) => (Some(first), None),
            Hits::Two(first, second) => (Some(first), Some(second)),
            Hits::Crowded => (None, None),
        };
        first.into_iter().chain(second)
    }
}

/// One flow's packets in one capture, with whether the client (of that capture's flow) sent
/// each.
pub(super) struct FlowPackets {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub packets: Vec<(Pkt, bool)>,
}

/// A flow of the first capture and its flow in the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FlowMatch {
    pub a: usize,
    pub b: usize,
    /// True when the second capture's flow has client and server the other way round.
    pub flipped: bool,
}

/// Control bits without ECE and CWR, which ECN bleaching may clear on the way.
fn bits(p: &Pkt) -> u8 {
    p.flags.0 & 0x3f
}

fn hash_of(value: impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// The keys a packet is found by: one from facts no rewriting device touches (IPv4 ID and
/// TCP timestamps, when the packet has them), one with its raw sequence numbers.
fn keys(p: &Pkt) -> [Option<u64>; 2] {
    let id = p.ip_id.filter(|&id| id != 0);
    let strong = (id.is_some() || p.timestamps.is_some())
        .then(|| hash_of((1u8, bits(p), p.len, id, p.timestamps)));
    let raw = hash_of((2u8, bits(p), p.len, p.seq, p.ack));
    [strong, Some(raw)]
}

/// Pairs the flows of `a` with those of `b`, one to one, strongest evidence first.
pub(super) fn match_flows(a: &[FlowPackets], b: &[FlowPackets]) -> Vec<FlowMatch> {
    let mut index: HashMap<u64, Hits> = HashMap::new();
    for (fi, flow) in b.iter().enumerate() {
        let fi = u32::try_from(fi).unwrap_or(u32::MAX);
        for (p, from_client) in flow.packets.iter().take(VOTING_PACKETS) {
            for key in keys(p).into_iter().flatten() {
                let hit = (fi, *from_client);
                index
                    .entry(key)
                    .and_modify(|hits| *hits = hits.add(hit))
                    .or_insert(Hits::One(hit));
            }
        }
    }
    let mut candidates: Vec<(u32, usize, usize, bool)> = Vec::new();
    for (ai, flow) in a.iter().enumerate() {
        let mut votes: HashMap<(usize, bool), u32> = HashMap::new();
        for (p, from_client) in flow.packets.iter().take(VOTING_PACKETS) {
            for key in keys(p).into_iter().flatten() {
                let Some(hits) = index.get(&key) else {
                    continue;
                };
                for (bf, b_from_client) in hits.each() {
                    let bf = bf as usize;
                    *votes
                        .entry((bf, b_from_client != *from_client))
                        .or_default() += 1;
                }
            }
        }
        let few = flow.packets.len() <= 2;
        for ((bf, flipped), count) in votes {
            if count >= 2 || few {
                candidates.push((count, ai, bf, flipped));
            }
        }
    }
    // Strongest first; ties in capture order, so the answer does not depend on hashing.
    candidates.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    let mut a_taken = vec![false; a.len()];
    let mut b_taken = vec![false; b.len()];
    let mut matches = Vec::new();
    for (_, ai, bf, flipped) in candidates {
        if a_taken[ai] || b_taken[bf] {
            continue;
        }
        a_taken[ai] = true;
        b_taken[bf] = true;
        matches.push(FlowMatch {
            a: ai,
            b: bf,
            flipped,
        });
    }
    matches.sort_by_key(|m| m.a);
    matches
}

/// The packets of one flow pair matched to each other.
#[derive(Debug, Default)]
pub(super) struct PacketMatch {
    /// (index in a's packets, index in b's packets), in a's order.
    pub pairs: Vec<(usize, usize)>,
    /// Sequence numbers at b minus those at a, for the client's and the server's segments
    /// (as a names them).
    pub seq_offset: [u32; 2],
}

/// What two sightings of one packet share: sender side, control bits, length, sequence and
/// acknowledgment numbers (corrected by the offset).
type MatchKey = (usize, u8, u32, u32, Option<u32>);

/// 0 for the client's segments, 1 for the server's, as `a` names them.
fn side(from_client: bool) -> usize {
    usize::from(!from_client)
}

/// Matches the packets of `a` and `b`, one flow seen at two points.
pub(super) fn match_packets(a: &FlowPackets, b: &FlowPackets, flipped: bool) -> PacketMatch {
    // The sequence offset per side: the most common difference among packets whose
    // rewrite-proof facts agree.
    let mut strong: HashMap<(usize, u64), Vec<u32>> = HashMap::new();
    for (p, from_client) in &b.packets {
        if let Some(key) = keys(p)[0] {
            strong
                .entry((side(*from_client != flipped), key))
                .or_default()
                .push(p.seq);
        }
    }
    let mut seq_offset = [0u32; 2];
    for (s, slot) in seq_offset.iter_mut().enumerate() {
        let mut counts: HashMap<u32, u32> = HashMap::new();
        for (p, from_client) in &a.packets {
            if side(*from_client) != s {
                continue;
            }
            let Some(key) = keys(p)[0] else { continue };
            if let Some(seqs) = strong.get(&(s, key)) {
                for &seq_b in seqs {
                    *counts.entry(seq_b.wrapping_sub(p.seq)).or_default() += 1;
                }
            }
        }
        if let Some((&offset, _)) = counts.iter().max_by(|x, y| x.1.cmp(y.1).then(y.0.cmp(x.0))) {
            *slot = offset;
        }
    }
    let key_at_b = |p: &Pkt, s: usize| (s, bits(p), p.len, p.seq, p.ack);
    let mut waiting: HashMap<MatchKey, VecDeque<usize>> = HashMap::new();
    for (i, (p, from_client)) in b.packets.iter().enumerate() {
        let s = side(*from_client != flipped);
        waiting.entry(key_at_b(p, s)).or_default().push_back(i);
    }
    let key_at_a = |p: &Pkt, s: usize| {
        (
            s,
            bits(p),
            p.len,
            p.seq.wrapping_add(seq_offset[s]),
            p.ack.map(|ack| ack.wrapping_add(seq_offset[1 - s])),
        )
    };
    // First the packets whose IP ID is there too (a retransmission is alike but for it),
    // then the rest in order: so a lost original is not paired with its retransmission.
    let mut pairs = Vec::new();
    let mut rest = Vec::new();
    for (i, (p, from_client)) in a.packets.iter().enumerate() {
        let key = key_at_a(p, side(*from_client));
        let Some(queue) = waiting.get_mut(&key) else {
            continue;
        };
        let same_id = p
            .ip_id
            .and_then(|id| queue.iter().position(|&j| b.packets[j].0.ip_id == Some(id)));
        match same_id.and_then(|at| queue.remove(at)) {
            Some(j) => pairs.push((i, j)),
            None => rest.push((i, key)),
        }
    }
    for (i, key) in rest {
        if let Some(j) = waiting.get_mut(&key).and_then(VecDeque::pop_front) {
            pairs.push((i, j));
        }
    }
    pairs.sort_unstable();
    PacketMatch { pairs, seq_offset }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::Flags;
    use crate::time::Timestamp;

    fn pkt(flags: u8, seq: u32, ack: u32, len: u32, ip_id: u16) -> Pkt {
        Pkt {
            ts: Timestamp(0),
            frame: 1,
            from_lower: true,
            flags: Flags(flags),
            len,
            seq,
            ack: (flags & Flags::ACK != 0).then_some(ack),
            ip_id: Some(ip_id),
            ttl: 64,
            wnd: 1000,
            mss: None,
            window_scale: None,
            sack_permitted: false,
            timestamps: None,
        }
    }

    fn flow(client: &str, packets: Vec<(Pkt, bool)>) -> FlowPackets {
        FlowPackets {
            client: client.parse().unwrap_or_else(|e| panic!("{e}")),
            server: "198.51.100.7:80".parse().unwrap_or_else(|e| panic!("{e}")),
            packets,
        }
    }

    /// The same connection through a NAT that rewrote the client's address and port and a
    /// firewall that moved the client's ISN by 1000: matched, the offset found, every
    /// packet paired.
    #[test]
    fn a_flow_behind_nat_and_isn_rewriting_is_found_by_its_packets() {
        let (s, sa, a, pa) = (
            Flags::SYN,
            Flags::SYN | Flags::ACK,
            Flags::ACK,
            Flags::PSH | Flags::ACK,
        );
        let at_a = vec![
            (pkt(s, 100, 0, 0, 11), true),
            (pkt(sa, 900, 101, 0, 0), false),
            (pkt(a, 101, 901, 0, 12), true),
            (pkt(pa, 101, 901, 40, 13), true),
            (pkt(pa, 901, 141, 300, 77), false),
        ];
        let moved = |(mut p, c): (Pkt, bool)| {
            if c {
                p.seq = p.seq.wrapping_add(1000);
            } else if let Some(ack) = p.ack {
                p.ack = Some(ack.wrapping_add(1000));
            }
            (p, c)
        };
        let at_b: Vec<_> = at_a.iter().copied().map(moved).collect();
        let other = vec![
            (pkt(pa, 5, 6, 40, 999), true),
            (pkt(pa, 6, 7, 41, 998), true),
        ];
        let a_flows = [flow("192.0.2.10:41000", at_a)];
        let b_flows = [
            flow("203.0.113.200:5000", other),
            flow("203.0.113.200:6000", at_b),
        ];
        let matches = match_flows(&a_flows, &b_flows);
        assert_eq!(
            matches,
            vec![FlowMatch {
                a: 0,
                b: 1,
                flipped: false
            }]
        );
        let packets = match_packets(&a_flows[0], &b_flows[1], false);
        assert_eq!(packets.seq_offset, [1000, 0]);
        assert_eq!(packets.pairs, vec![(0, 0), (1, 1), (2, 2), (3, 3), (4, 4)]);
    }

    /// A packet that never reached the second point is left unpaired, even when its
    /// retransmission (alike but for the IP ID) did.
    #[test]
    fn a_lost_packet_stays_unpaired() {
        let pa = Flags::PSH | Flags::ACK;
        let at_a = vec![
            (pkt(pa, 1, 1, 10, 1), true),
            (pkt(pa, 11, 1, 10, 2), true),
            (pkt(pa, 11, 1, 10, 3), true),
        ];
        let at_b = vec![(at_a[0].0, true), (at_a[2].0, true)];
        let a_flows = [flow("192.0.2.10:41000", at_a)];
        let b_flows = [flow("192.0.2.10:41000", at_b)];
        let m = match_flows(&a_flows, &b_flows);
        assert_eq!(m.len(), 1);
        let packets = match_packets(&a_flows[0], &b_flows[0], false);
        assert_eq!(packets.pairs, vec![(0, 0), (2, 1)]);
    }
}
