//! Copies of one packet seen on several interfaces. A capture on Linux's `any` interface (Linux
//! cooked v2, which names the interface of each packet) sees a packet the capturing host
//! forwards twice: on the interface it came in by and on the one it left by, one hop older, or
//! more often on a host with bridges and veths. Counting both would double the flow's packets
//! and put two TTLs in one direction, which reads like a forged segment.
//!
//! A packet is a copy when the same direction of the same flow carried the same packet (same
//! sequence and acknowledgment numbers, flags, length and IPv4 ID) on another interface among
//! its last few packets. Copies are left out and counted. A packet seen on one interface only
//! is always kept: a reset the capturing host itself sent leaves by the egress interface alone.

use super::Side;
use crate::decode::Segment;

/// How many recent packets of each direction are remembered.
const RECENT: usize = 8;

/// What a flow remembers to recognise copies; only flows read from `any` captures have one.
#[derive(Debug, Clone, Default)]
pub struct InterfaceCopies {
    /// Per direction (client to server, server to client): (fingerprint, interface) of the
    /// last packets kept, a ring.
    recent: [[(u64, u32); RECENT]; 2],
    next: [usize; 2],
    filled: [usize; 2],
    /// Copies left out so far.
    pub dropped: u64,
    /// Of those, copies of the client's and of the server's packets: the packets of that side
    /// passed through the capturing box (a router capturing on its interfaces).
    pub forwarded: [u32; 2],
}

impl InterfaceCopies {
    /// Counts a copy left out, of a packet `sender` sent.
    pub fn note_copy(&mut self, sender: Side) {
        self.dropped += 1;
        let side = sender.index();
        self.forwarded[side] = self.forwarded[side].saturating_add(1);
    }

    /// True when the segment, sent by `sender`, should be kept; false for a copy of a recent
    /// packet seen on another interface.
    pub fn admit(&mut self, sender: Side, interface: u32, segment: &Segment) -> bool {
        let direction = sender.index();
        let print = fingerprint(segment);
        let known = &self.recent[direction][..self.filled[direction]];
        if known
            .iter()
            .any(|&(seen, on)| seen == print && on != interface)
        {
            self.note_copy(sender);
            return false;
        }
        let slot = self.next[direction];
        self.recent[direction][slot] = (print, interface);
        self.next[direction] = (slot + 1) % RECENT;
        self.filled[direction] = (self.filled[direction] + 1).min(RECENT);
        true
    }
}

/// What stays the same when a router forwards a packet (not the TTL, not the checksums).
fn fingerprint(segment: &Segment) -> u64 {
    let ack = segment.ack.map_or(0, |ack| ack.0);
    let mut print = u64::from(segment.seq.0) << 32 | u64::from(ack);
    print ^= u64::from(segment.flags.0).rotate_left(8)
        ^ u64::from(segment.len).rotate_left(16)
        ^ u64::from(segment.ip.ip_id.unwrap_or(0)).rotate_left(48)
        ^ u64::from(segment.wnd).rotate_left(24);
    print
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{A, P, R, c, s, segment};

    #[test]
    fn a_forwarded_copy_on_another_interface_is_left_out() {
        let mut copies = InterfaceCopies::default();
        let data = segment(c(A | P, 1000, 5000, 100));
        let forwarded = crate::decode::Segment {
            ip: crate::decode::IpFacts {
                ttl: data.ip.ttl - 1,
                ..data.ip
            },
            ..data.clone()
        };
        assert!(copies.admit(Side::Client, 3, &data));
        assert!(!copies.admit(Side::Client, 4, &forwarded));
        assert_eq!(copies.dropped, 1);
    }

    #[test]
    fn a_retransmission_on_the_same_interface_is_kept() {
        let mut copies = InterfaceCopies::default();
        let data = segment(c(A | P, 1000, 5000, 100));
        assert!(copies.admit(Side::Client, 3, &data));
        assert!(copies.admit(Side::Client, 3, &data));
        assert_eq!(copies.dropped, 0);
    }

    #[test]
    fn a_packet_seen_on_one_interface_only_is_kept() {
        let mut copies = InterfaceCopies::default();
        assert!(copies.admit(Side::Server, 3, &segment(s(A, 5000, 1000, 0))));
        // The capturing host's own reset leaves by the other interface alone.
        assert!(copies.admit(Side::Server, 4, &segment(s(R | A, 5000, 1100, 0))));
        // The same packet in the other direction is not a copy.
        assert!(copies.admit(Side::Client, 4, &segment(s(A, 5000, 1000, 0))));
        assert_eq!(copies.dropped, 0);
    }
}
