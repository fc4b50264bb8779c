//! The last few segments of a flow, kept compactly inline (40 bytes each, no allocation), for
//! the context a reset needs: what it answered, the silence before, and the packets the
//! ladder diagram draws. A reset turns them into full [`SegmentNote`]s.

use std::net::SocketAddr;

use super::FrameRef;
use super::reset::SegmentNote;
use crate::decode::{Checksum, Segment};
use crate::tcp::{Flags, SeqNum};
use crate::time::Timestamp;

/// How many of a flow's most recent segments are kept.
pub const RECENT_SEGMENTS: usize = 4;

const FROM_CLIENT: u8 = 1;
const HAS_ACK: u8 = 2;
const HAS_IP_ID: u8 = 4;
const DF: u8 = 8;

/// One segment, packed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Packed {
    frame: u64,
    ts: Timestamp,
    seq: u32,
    ack: u32,
    len: u32,
    wnd: u16,
    ip_id: u16,
    /// The input's index, saturated (no one gives rstscope 65,535 files).
    input: u16,
    ttl: u8,
    flags: u8,
    bits: u8,
    checksum: u8,
}

/// A ring of the last `RECENT_SEGMENTS` segments, oldest first.
#[derive(Debug, Clone, Default)]
pub struct RecentSegments {
    ring: [Packed; RECENT_SEGMENTS],
    /// Where the oldest is.
    start: u8,
    len: u8,
}

impl RecentSegments {
    /// Keeps a segment, forgetting the oldest when full.
    pub fn push(&mut self, segment: &Segment, at: FrameRef, from_client: bool) {
        let packed = Packed {
            frame: at.frame,
            ts: at.ts,
            seq: segment.seq.0,
            ack: segment.ack.map_or(0, |ack| ack.0),
            len: segment.len,
            wnd: segment.wnd,
            ip_id: segment.ip.ip_id.unwrap_or(0),
            input: u16::try_from(at.input).unwrap_or(u16::MAX),
            ttl: segment.ip.ttl,
            flags: segment.flags.0,
            bits: bit(from_client, FROM_CLIENT)
                | bit(segment.ack.is_some(), HAS_ACK)
                | bit(segment.ip.ip_id.is_some(), HAS_IP_ID)
                | bit(segment.ip.df, DF),
            checksum: checksum_code(segment.checksum),
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

    /// The kept segments, oldest first, as notes with the flow's addresses.
    pub fn notes(&self, client: SocketAddr, server: SocketAddr) -> Vec<SegmentNote> {
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
            input: usize::from(packed.input),
            frame: packed.frame,
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
        len: packed.len,
        wnd: packed.wnd,
        ttl: packed.ttl,
        ip_id: (packed.bits & HAS_IP_ID != 0).then_some(packed.ip_id),
        df: packed.bits & DF != 0,
        checksum: checksum_of(packed.checksum),
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
            recent.push(&segment(step), at(frame), frame % 2 == 1);
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
        assert_eq!(std::mem::size_of::<Packed>(), 40);
    }
}
