//! One side of a flow: its Zeek endpoint state, its sequence bookkeeping, and its counters
//! and bounded summaries (`summaries.rs`) for attribution.
//!
//! Sequence bookkeeping follows Zeek's TCP endpoint (start, last and acknowledged sequence
//! numbers with wrap counts), so that `history`, `conn_state` and byte counts agree with Zeek.
//! Each step names the Zeek function it mirrors; unless said otherwise they are static
//! functions in Zeek's `src/packet_analysis/protocol/tcp/TCPSessionAdapter.cc`.

use super::history::LetterMemory;
use super::state::EndpointState;
use super::summaries::{IpIdSummary, TtlSummary};
use crate::decode::{Checksum, Segment};
use crate::tcp::SeqNum;

/// Zeek's TOO_LARGE_SEQ_DELTA: a jump this far is taken for a broken number, not progress.
const TOO_LARGE_SEQ_DELTA: i64 = 1_048_576;

/// What one side of a flow has shown.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub state: EndpointState,
    pub prev_state: EndpointState,
    /// Zeek's start_seq: the ISN, or one before the first sequence number seen.
    pub(super) start_seq: SeqNum,
    /// One past the highest sequence number sent.
    pub(super) last_seq: SeqNum,
    pub(super) seq_wraps: u32,
    /// Highest acknowledgment the peer sent for this side's data.
    pub(super) ack_seq: SeqNum,
    pub(super) ack_wraps: u32,
    /// True once this side sent a FIN.
    pub(super) sent_fin: bool,
    pub(super) did_close: bool,
    pub(super) letters: LetterMemory,
    /// This side's last_seq when a content gap was last counted for it.
    gap_at: SeqNum,
    /// False until a content gap was counted for this side (`gap_at` means nothing before).
    gap_counted: bool,
    /// What this side's first checked segment said about checksums (see `is_dropped_for_checksum`).
    checksums: ChecksumTrust,
    pub packets: u32,
    /// Segments without RST (those the TTL and IP ID summaries describe).
    pub ordinary_packets: u32,
    /// Of those, segments with the IPv4 don't-fragment bit.
    pub df_packets: u32,
    /// True once one of those carried no IPv6 flow label (RFC 6437), or was IPv4: one bit,
    /// not a counter, so a live flow stays small.
    pub unlabelled_seen: bool,
    pub retransmissions: u32,
    pub zero_windows: u32,
    pub keepalives: u32,
    pub ttl: TtlSummary,
    pub ip_id: IpIdSummary,
}

impl Default for Endpoint {
    fn default() -> Self {
        Endpoint {
            state: EndpointState::Inactive,
            prev_state: EndpointState::Inactive,
            start_seq: SeqNum(0),
            last_seq: SeqNum(0),
            seq_wraps: 0,
            ack_seq: SeqNum(0),
            ack_wraps: 0,
            sent_fin: false,
            did_close: false,
            letters: LetterMemory::default(),
            checksums: ChecksumTrust::Unknown,
            gap_at: SeqNum(0),
            gap_counted: false,
            packets: 0,
            ordinary_packets: 0,
            df_packets: 0,
            unlabelled_seen: false,
            retransmissions: 0,
            zero_windows: 0,
            keepalives: 0,
            ttl: TtlSummary::default(),
            ip_id: IpIdSummary::default(),
        }
    }
}

impl Endpoint {
    /// Zeek's `TCP_Endpoint::SetState` (`src/analyzer/protocol/tcp/TCP_Endpoint.cc`): the
    /// previous state is kept, as some rules look one state back.
    pub(super) fn set_state(&mut self, state: EndpointState) {
        if state != self.state {
            self.prev_state = self.state;
            self.state = state;
        }
    }

    /// Sequence bookkeeping before anything else looks at a segment (Zeek's `init_endpoint`):
    /// a first segment, or a SYN with a new ISN, (re)starts this side's sequence space.
    pub(super) fn init_endpoint(&mut self, syn: bool, seq: SeqNum, one_past: SeqNum) {
        let restart = match self.state {
            EndpointState::Inactive => {
                if !syn {
                    // Mid-stream: numbered as though a SYN had come just before.
                    self.start_seq = seq.minus(1);
                    self.ack_seq = self.start_seq;
                    self.last_seq = seq;
                    return;
                }
                true
            }
            EndpointState::SynSent | EndpointState::SynAckSent => syn && seq != self.start_seq,
            EndpointState::Established | EndpointState::Partial => syn,
            // A SYN after a RST that started this side: the RST may have been forged.
            EndpointState::Reset => syn && self.prev_state == EndpointState::Inactive,
            EndpointState::Closed => false,
        };
        if restart {
            self.start_seq = seq;
            self.ack_seq = seq;
            self.last_seq = one_past;
        }
    }

    /// The sequence number relative to the start, and whether it lies before the start.
    pub(super) fn relative_seq(&self, seq: SeqNum) -> (u64, bool) {
        get_relative_seq(seq, self.last_seq, self.seq_wraps, self.start_seq)
    }

    /// Records the peer's acknowledgment of this side's data: Zeek's `update_ack_seq`, with
    /// the underflow check and the distrust of RST acks that `TCPSessionAdapter::Process`
    /// puts before it.
    pub(super) fn update_ack_seq(&mut self, ack: SeqNum, rst: bool) {
        let (_, underflow) = get_relative_seq(ack, self.ack_seq, self.ack_wraps, self.start_seq);
        let delta = ack.distance(self.ack_seq);
        let broken = ack == SeqNum(0) && delta > TOO_LARGE_SEQ_DELTA;
        if !underflow && !rst && delta > 0 && !broken {
            if ack.wrapped_since(self.ack_seq) {
                self.ack_wraps += 1;
            }
            self.ack_seq = ack;
        }
    }

    /// Starts this side's sequence space from the peer's first ACK (Zeek's `init_peer`).
    pub(super) fn init_peer(&mut self, ack: SeqNum) {
        self.start_seq = ack.minus(1);
        self.ack_seq = self.start_seq;
        self.last_seq = self.start_seq;
    }

    /// Advances the highest sequence number (Zeek's `update_last_seq`); true when the
    /// segment was a retransmission of payload (its `DidRxmit`, history letter 'T').
    pub(super) fn update_last_seq(
        &mut self,
        one_past: SeqNum,
        syn_or_rst: bool,
        fin: bool,
        len: u32,
    ) -> bool {
        let delta = one_past.distance(self.last_seq);
        if syn_or_rst && !(-TOO_LARGE_SEQ_DELTA..=TOO_LARGE_SEQ_DELTA).contains(&delta) {
            false
        } else if fin && self.last_seq == self.start_seq.plus(1) {
            // Only the SYN and the FIN seen: trust the FIN even if it seems to go back
            // (a connection of more than 2 GB).
            self.set_last(one_past);
            false
        } else if self.state == EndpointState::Reset {
            // Nothing after a reset is trusted.
            false
        } else if delta > 0 {
            self.set_last(one_past);
            false
        } else {
            len > 0
        }
    }

    /// Zeek's `TCP_Endpoint::UpdateLastSeq`: counts a wrap when the raw value goes down.
    fn set_last(&mut self, seq: SeqNum) {
        if seq.wrapped_since(self.last_seq) {
            self.seq_wraps += 1;
        }
        self.last_seq = seq;
    }

    /// Payload bytes in sequence space, as Zeek's orig_bytes/resp_bytes count them (Zeek's
    /// `TCP_Endpoint::Size`, `src/analyzer/protocol/tcp/TCP_Endpoint.cc`).
    pub fn size(&self, peer_inactive: bool) -> u64 {
        let last = (u64::from(self.seq_wraps) << 32) + u64::from(self.last_seq.0);
        let acked = (u64::from(self.ack_wraps) << 32) + u64::from(self.ack_seq.0);
        let start = u64::from(self.start_seq.0);
        let nothing_acked = acked == start || acked == start + 1;
        if self.prev_state == EndpointState::SynSent
            && self.state == EndpointState::Reset
            && peer_inactive
            && !nothing_acked
        {
            return 0;
        }
        let mut size = last.max(acked).wrapping_sub(start);
        if size > u64::from(u32::MAX) * 4 {
            return 0;
        }
        // The SYN octet, then the FIN octet, take sequence space but carry no payload.
        size = size.saturating_sub(1);
        if self.sent_fin {
            size = size.saturating_sub(1);
        }
        size
    }

    /// True when the peer acknowledged data of this side that the capture never held: a
    /// content gap, counted once per hole (a simplification of Zeek's reassembler, which
    /// also counts only where both sides are established and ignores holes at the very start
    /// of a mid-stream flow).
    pub(super) fn is_gap_acknowledged(&mut self, ack: SeqNum, both_clean: bool) -> bool {
        if !both_clean
            || !ack.is_after(self.last_seq)
            || (self.gap_counted && self.gap_at == self.last_seq)
        {
            return false;
        }
        let (up_to, _) = self.relative_seq(ack);
        let partial =
            self.prev_state == EndpointState::Partial || self.state == EndpointState::Partial;
        if partial && up_to <= 2 {
            return false;
        }
        self.gap_at = self.last_seq;
        self.gap_counted = true;
        true
    }

    /// Established, or closed after being established: Zeek reports gaps only then.
    pub(super) fn is_clean(&self) -> bool {
        self.state == EndpointState::Established
            || (self.state == EndpointState::Closed
                && self.prev_state == EndpointState::Established)
    }

    /// True when this side had sent ordinary segments, so its sequence numbers are known.
    pub(super) fn sent_before_reset(&self) -> bool {
        self.ordinary_packets > 0
    }

    /// One past the highest sequence number this side sent.
    pub fn next_seq(&self) -> SeqNum {
        self.last_seq
    }

    /// True when a segment's bad checksum means a receiver dropped it, so the flow must ignore
    /// it as Zeek does. A side whose very first checked segment is already bad is taken to be
    /// the capturing host (checksum offload in a shape not recognised) or an anonymised
    /// capture (addresses rewritten, checksums not): its checksums say nothing, and are not
    /// held against it. Only a bad checksum from a side that showed good ones counts.
    pub(super) fn is_dropped_for_checksum(&mut self, checksum: Checksum) -> bool {
        match (self.checksums, checksum) {
            (_, Checksum::Unverified) => false,
            (ChecksumTrust::Unknown, Checksum::Bad) => {
                self.checksums = ChecksumTrust::Unreliable;
                false
            }
            (ChecksumTrust::Unknown, _) => {
                self.checksums = ChecksumTrust::Reliable;
                false
            }
            (ChecksumTrust::Reliable, Checksum::Bad) => true,
            _ => false,
        }
    }

    /// Updates the counters and summaries that do not depend on Zeek's rules.
    pub(super) fn note(&mut self, segment: &Segment) {
        self.packets = self.packets.saturating_add(1);
        if !segment.flags.rst() {
            // Baselines describe the host's ordinary segments, so a RST can be held up to them.
            self.ttl.note(segment.ip.ttl);
            self.ip_id.note(segment.ip.ip_id);
            self.ordinary_packets = self.ordinary_packets.saturating_add(1);
            self.df_packets = self.df_packets.saturating_add(u32::from(segment.ip.df));
            self.unlabelled_seen |= segment.ip.flow_label == 0;
        }
    }

    /// True when a segment is a keepalive probe: no new data, one byte before the next
    /// sequence number (RFC 9293 §3.8.4), with zero or one byte of payload.
    pub(super) fn is_keepalive(&self, segment: &Segment) -> bool {
        let flags = segment.flags;
        flags.ack()
            && !flags.syn()
            && !flags.fin()
            && !flags.rst()
            && segment.len <= 1
            && self.packets > 0
            && segment.seq == self.last_seq.minus(1)
    }
}

/// Whether a side's checksums can be believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChecksumTrust {
    Unknown,
    Reliable,
    Unreliable,
}

/// `cur` relative to `start` in a 64-bit space that counts wraps, and whether it lies before
/// `start` (Zeek's `get_relative_seq`): `last` and `wraps` place `cur` in the right lap.
fn get_relative_seq(cur: SeqNum, last: SeqNum, wraps: u32, start: SeqNum) -> (u64, bool) {
    let mut wraps = wraps;
    if cur.is_before(last) && wraps > 0 && last.wrapped_since(cur) {
        // Part of the previous lap.
        wraps -= 1;
    } else if cur.is_after(last) && cur.wrapped_since(last) {
        wraps += 1;
    }
    if wraps == 0 {
        let from_start = cur.distance(start);
        return (from_start as u64, from_start < 0);
    }
    let value = (u64::from(wraps) << 32)
        .wrapping_add(u64::from(cur.0))
        .wrapping_sub(u64::from(start.0));
    (value, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_sequence_survives_wraparound() {
        let mut side = Endpoint::default();
        side.init_endpoint(true, SeqNum(u32::MAX - 5), SeqNum(u32::MAX - 4));
        side.set_state(EndpointState::SynSent);
        assert!(!side.update_last_seq(SeqNum(10), false, false, 15));
        assert_eq!(side.seq_wraps, 1);
        assert_eq!(side.relative_seq(SeqNum(10)), (16, false));
    }

    #[test]
    fn retransmitted_payload_is_noticed() {
        let mut side = Endpoint::default();
        side.init_endpoint(true, SeqNum(1000), SeqNum(1001));
        assert!(!side.update_last_seq(SeqNum(1101), false, false, 100));
        assert!(side.update_last_seq(SeqNum(1101), false, false, 100));
    }
}
