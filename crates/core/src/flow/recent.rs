//! The last few segments of a flow, kept compactly inline (32 bytes each, no allocation), for
//! the context a reset needs: what it answered, the silence before, and the packets the
//! ladder diagram draws. A reset turns them into full [`SegmentNote`]s.

use std::net::SocketAddr;

use super::reset::SegmentNote;
use super::{FrameRef, Side};
use crate::decode::{Checksum, Segment};
use crate::tcp::{Flags, SeqNum};
use crate::time::Timestamp;

/// How many of a flow's most recent segments are kept.
pub(super) const RECENT_SEGMENTS: usize = 4;

/// How far apart a packet and its forwarded copy may be captured: a router forwards in
/// microseconds; 50 ms allows for a slow, busy one.
const COPY_WINDOW: crate::time::Span = crate::time::Span(50_000_000);

const FROM_CLIENT: u8 = 1;
const HAS_ACK: u8 = 2;
const HAS_IP_ID: u8 = 4;
const DF: u8 = 8;
/// The checksum's code (see `checksum_code`) sits in bits 4 and 5 of `bits`.
const CHECKSUM_SHIFT: u8 = 4;

/// Frame numbers keep 48 bits (281 trillion frames per file); the input's index the 16 above.
const FRAME_BITS: u32 = 48;
/// SEG.LEN keeps 24 bits: an IP packet carries at most 65,535 bytes, a jumbogram or a
/// merged (GRO) frame at most a few hundred kB, far below 16 MB.
const LEN_MAX: u32 = (1 << 24) - 1;

/// One segment, packed into 32 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Packed {
    /// The frame number (low 48 bits) and the input's index (high 16 bits), each saturated.
    frame_and_input: u64,
    ts: Timestamp,
    seq: u32,
    ack: u32,
    /// The low 16 bits of SEG.LEN; the next 8 are in `len_high`.
    len_low: u16,
    ip_id: u16,
    len_high: u8,
    ttl: u8,
    flags: u8,
    bits: u8,
}

/// A ring of the last `RECENT_SEGMENTS` segments, oldest first.
#[derive(Debug, Clone, Default)]
pub(super) struct RecentSegments {
    ring: [Packed; RECENT_SEGMENTS],
    /// Where the oldest is.
    start: u8,
    len: u8,
}

impl RecentSegments {
    /// Keeps a segment, forgetting the oldest when full.
    pub(super) fn push(&mut self, segment: &Segment, at: FrameRef, sender: Side) {
        let frame = at.frame.min((1 << FRAME_BITS) - 1);
        let input = u64::from(u16::try_from(at.input).unwrap_or(u16::MAX));
        let len = segment.len.min(LEN_MAX);
        let packed = Packed {
            frame_and_input: input << FRAME_BITS | frame,
            ts: at.ts,
            seq: segment.seq.0,
            ack: segment.ack.map_or(0, |ack| ack.0),
            len_low: len as u16,
            ip_id: segment.ip.ip_id.unwrap_or(0),
            len_high: (len >> 16) as u8,
            ttl: segment.ip.ttl,
            flags: segment.flags.0,
            bits: bit(sender == Side::Client, FROM_CLIENT)
                | bit(segment.ack.is_some(), HAS_ACK)
                | bit(segment.ip.ip_id.is_some(), HAS_IP_ID)
                | bit(segment.ip.df, DF)
                | checksum_code(segment.checksum) << CHECKSUM_SHIFT,
        };
        let len = usize::from(self.len);
        let start = usize::from(self.start);
        if len < RECENT_SEGMENTS {
            self.ring[(start + len) % RECENT_SEGMENTS] = packed;
            self.len += 1;
        } else {
            self.ring[start] = packed;
            self.start = ((start + 1) % RECENT_SEGMENTS) as u8;
        }
    }

    /// True when `segment` is a router's copy of a segment just kept: the same segment (seq,
    /// ack, flags, length, and IPv4 ID) in the same direction, one or two TTL apart, within
    /// `COPY_WINDOW`. A capture on a router, or two captures merged, holds each forwarded
    /// packet twice; a retransmission keeps its TTL (and, in IPv4, takes a new ID).
    pub(super) fn holds_forwarded_copy(
        &self,
        segment: &Segment,
        at: FrameRef,
        sender: Side,
    ) -> bool {
        let len = segment.len.min(LEN_MAX);
        (0..usize::from(self.len)).any(|i| {
            let kept = &self.ring[(usize::from(self.start) + i) % RECENT_SEGMENTS];
            let same_direction = (kept.bits & FROM_CLIENT != 0) == (sender == Side::Client);
            let kept_len = u32::from(kept.len_high) << 16 | u32::from(kept.len_low);
            let kept_id = (kept.bits & HAS_IP_ID != 0).then_some(kept.ip_id);
            let ttl_apart = kept.ttl.abs_diff(segment.ip.ttl);
            // The sequence number first: it tells almost every other segment apart.
            kept.seq == segment.seq.0
                && same_direction
                && kept.ack == segment.ack.map_or(0, |ack| ack.0)
                && kept.flags == segment.flags.0
                && kept_len == len
                && kept_id == segment.ip.ip_id
                && (1..=2).contains(&ttl_apart)
                && at.ts.since(kept.ts).0.unsigned_abs() <= COPY_WINDOW.0.unsigned_abs()
        })
    }

    /// The kept segments, oldest first, as notes with the flow's addresses.
    pub(super) fn notes(&self, client: SocketAddr, server: SocketAddr) -> Vec<SegmentNote> {
        (0..usize::from(self.len))
            .map(|i| {
                let packed = &self.ring[(usize::from(self.start) + i) % RECENT_SEGMENTS];
                unpack(packed, client, server)
            })
            .collect()
    }
}

fn bit(set: bool, mask: u8) -> u8 {
    if set { mask } else { 0 }
}

fn unpack(packed: &Packed, client: SocketAddr, server: SocketAddr) -> SegmentNote {
    SegmentNote {
        at: FrameRef {
            input: (packed.frame_and_input >> FRAME_BITS) as usize,
            frame: packed.frame_and_input & ((1 << FRAME_BITS) - 1),
            ts: packed.ts,
        },
        src: if packed.bits & FROM_CLIENT != 0 {
            client
        } else {
            server
        },
        flags: Flags(packed.flags),
        seq: SeqNum(packed.seq),
        ack: (packed.bits & HAS_ACK != 0).then_some(SeqNum(packed.ack)),
        len: u32::from(packed.len_high) << 16 | u32::from(packed.len_low),
        ttl: packed.ttl,
        ip_id: (packed.bits & HAS_IP_ID != 0).then_some(packed.ip_id),
        df: packed.bits & DF != 0,
        checksum: checksum_of(packed.bits >> CHECKSUM_SHIFT),
    }
}

fn checksum_code(checksum: Checksum) -> u8 {
    match checksum {
        Checksum::Valid => 0,
        Checksum::Offloaded => 1,
        Checksum::Bad => 2,
        Checksum::Unverified => 3,
    }
}

fn checksum_of(code: u8) -> Checksum {
    match code {
        0 => Checksum::Valid,
        1 => Checksum::Offloaded,
        2 => Checksum::Bad,
        _ => Checksum::Unverified,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{A, P, c, client_addr, s, segment, server_addr};

    fn at(frame: u64) -> FrameRef {
        FrameRef {
            input: 0,
            frame,
            ts: Timestamp(i64::try_from(frame).unwrap_or(0) * 1000),
        }
    }

    #[test]
    fn keeps_the_last_segments_oldest_first_and_gives_them_back_whole() {
        let mut recent = RecentSegments::default();
        for frame in 1..=10u64 {
            let step = if frame % 2 == 0 {
                s(A, 5000, 1000, 0)
            } else {
                c(A | P, 1000, 5000, 10)
            };
            recent.push(
                &segment(step),
                at(frame),
                if frame % 2 == 1 {
                    Side::Client
                } else {
                    Side::Server
                },
            );
        }
        let notes = recent.notes(client_addr(), server_addr());
        let frames: Vec<u64> = notes.iter().map(|n| n.at.frame).collect();
        assert_eq!(frames, [7, 8, 9, 10]);
        let last = &notes[3];
        assert_eq!(last.src, server_addr());
        assert_eq!(last.ack, Some(SeqNum(1000)));
        assert_eq!(notes[2].src, client_addr());
        assert_eq!(notes[2].len, 10);
        assert_eq!(notes[2].ip_id, Some(1));
        assert!(notes[2].df);
        assert_eq!(std::mem::size_of::<Packed>(), 32);
    }

    #[test]
    fn a_forwarded_copy_is_recognised_and_a_retransmission_is_not() {
        let mut recent = RecentSegments::default();
        let data = segment(c(A | P, 1000, 5000, 10));
        recent.push(&data, at(1), Side::Client);
        let mut forwarded = data.clone();
        forwarded.ip.ttl -= 1;
        assert!(recent.holds_forwarded_copy(&forwarded, at(2), Side::Client));
        // The same segment again with its TTL: a retransmission, kept.
        assert!(!recent.holds_forwarded_copy(&data, at(2), Side::Client));
        // Another IP ID: another packet.
        forwarded.ip.ip_id = Some(9);
        assert!(!recent.holds_forwarded_copy(&forwarded, at(2), Side::Client));
        // The other direction, or long after: not a copy.
        let mut late = data.clone();
        late.ip.ttl -= 1;
        assert!(!recent.holds_forwarded_copy(&late, at(2), Side::Server));
        assert!(!recent.holds_forwarded_copy(&late, at(100_000), Side::Client));
    }

    #[test]
    fn big_numbers_and_every_checksum_survive_the_packing() {
        let checksums = [
            Checksum::Valid,
            Checksum::Offloaded,
            Checksum::Bad,
            Checksum::Unverified,
        ];
        for (n, checksum) in checksums.into_iter().enumerate() {
            let mut recent = RecentSegments::default();
            let mut seg = segment(c(A | P, 1000, 5000, 0));
            seg.len = 70_000 + n as u32;
            seg.checksum = checksum;
            let at = FrameRef {
                input: 300 + n,
                frame: 5_000_000_000 + n as u64,
                ts: Timestamp(-7),
            };
            recent.push(&seg, at, Side::Client);
            let note = &recent.notes(client_addr(), server_addr())[0];
            assert_eq!(note.at, at);
            assert_eq!(note.len, seg.len);
            assert_eq!(note.checksum, checksum);
            assert_eq!(note.flags, seg.flags);
        }
        // Beyond the packed widths, values saturate rather than wrap.
        let mut recent = RecentSegments::default();
        let mut seg = segment(c(A, 1000, 5000, 0));
        seg.len = u32::MAX;
        let far = FrameRef {
            input: usize::MAX,
            frame: u64::MAX,
            ts: Timestamp(0),
        };
        recent.push(&seg, far, Side::Server);
        let note = &recent.notes(client_addr(), server_addr())[0];
        assert_eq!(note.len, LEN_MAX);
        assert_eq!(note.at.input, usize::from(u16::MAX));
        assert_eq!(note.at.frame, (1 << FRAME_BITS) - 1);
    }
}
