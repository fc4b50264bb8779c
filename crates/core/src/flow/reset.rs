//! Resets and their context: the segment facts kept around a RST, what provoked it, how
//! long the connection had been silent before, and what its claimed sender did afterwards.
//!
//! Attribution reads these; the flow fills them in as segments arrive. Everything here is
//! bounded: a few segment notes per reset, and counters.

use std::net::SocketAddr;

use crate::decode::{Checksum, Mac, Segment, TcpOptions};
use crate::tcp::{Flags, SeqNum};
use crate::time::Span;

use super::{Conversation, FrameRef};

/// The facts of one segment kept for context (the last few before a reset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentNote {
    pub at: FrameRef,
    pub src: SocketAddr,
    pub flags: Flags,
    pub seq: SeqNum,
    pub ack: Option<SeqNum>,
    pub len: u32,
    pub ttl: u8,
    pub ip_id: Option<u16>,
    pub df: bool,
    pub checksum: Checksum,
}

impl SegmentNote {
    pub(super) fn new(segment: &Segment, at: FrameRef) -> SegmentNote {
        SegmentNote {
            at,
            src: segment.src,
            flags: segment.flags,
            seq: segment.seq,
            ack: segment.ack,
            len: segment.len,
            ttl: segment.ip.ttl,
            ip_id: segment.ip.ip_id,
            df: segment.ip.df,
            checksum: segment.checksum,
        }
    }
}

/// One RST segment and the context attribution needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reset {
    pub segment: SegmentNote,
    pub dst: SocketAddr,
    /// SEG.WND of the RST (some devices write a reset code there).
    pub wnd: u16,
    /// The RST's IPv6 flow label (0 for IPv4, or unlabelled).
    pub flow_label: u32,
    /// The frame's link-layer source address, when the link has one.
    pub link_src: Option<Mac>,
    /// The first bytes of the RST's payload, when it carried any (reset-cause text).
    pub payload: Option<Box<[u8]>>,
    /// The RST's TCP options (an MPTCP endpoint names its reason there).
    pub options: TcpOptions,
    /// The claimed sender's last IPv4 ID in any flow before this RST, when the capture had one
    /// (filled in by the pipeline, which sees every flow; a host with one counter for all its
    /// packets continues it in its resets).
    pub host_ip_id_before: Option<u16>,
    /// True when the capture also held this RST one router later (or on another interface):
    /// it passed through the capturing box.
    pub forwarded: bool,
    /// The flow's previous segment (either direction), if any.
    pub previous: Option<SegmentNote>,
    /// The last segment from the other side before the RST: what the RST answered, if it
    /// answered anything.
    pub trigger: Option<SegmentNote>,
    /// How long the flow had been silent before the trigger.
    pub silence_before_trigger: Option<Span>,
    /// One past the highest sequence number the claimed sender had sent (its SND.NXT as seen
    /// at the capture point), when it had sent anything.
    pub sender_next_seq: Option<SeqNum>,
    /// Earlier RST segments from the same address in this flow.
    pub earlier_resets_from_sender: u32,
    /// How far the connection had got when the RST came.
    pub before: BeforeReset,
    /// What the flow carried after the RST.
    pub after: AfterReset,
    /// The segments just before the RST (oldest first, at most `PACKETS_BEFORE`) and just
    /// after it (at most `PACKETS_AFTER`), both directions, for the report's ladder diagram.
    pub packets_before: Vec<SegmentNote>,
    pub packets_after: Vec<SegmentNote>,
    /// Wireshark's conversation as of the RST: its `tcp.stream` in the RST's input and the
    /// bases of its relative sequence numbers.
    pub wireshark: Option<Conversation>,
}

/// How many segments before a RST are kept with it for the ladder diagram (all the flow's
/// ring holds).
pub(super) const PACKETS_BEFORE: usize = super::recent::RECENT_SEGMENTS;
/// How many segments after a RST are kept with it.
pub(super) const PACKETS_AFTER: usize = 4;

/// What the connection had done before a RST.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BeforeReset {
    pub client_fin: bool,
    pub server_fin: bool,
    /// Either side had sent payload.
    pub payload: bool,
}

/// Segments seen after a RST: a host that really reset a connection falls silent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AfterReset {
    /// Non-RST segments from the RST's source address.
    pub sender_segments: u32,
    /// Of those, segments carrying payload.
    pub sender_data_segments: u32,
    /// Segments from the other side.
    pub peer_segments: u32,
}

impl Reset {
    /// A reset for `note`, with its context taken from the flow's recent segments (oldest
    /// first, not including the RST itself).
    pub(super) fn new(
        note: &SegmentNote,
        rst: &Segment,
        recent: &[SegmentNote],
        sender_next_seq: Option<SeqNum>,
        earlier_resets_from_sender: u32,
        before: BeforeReset,
        wireshark: Option<Conversation>,
    ) -> Reset {
        let trigger_at = recent.iter().rposition(|seg| seg.src != note.src);
        let trigger = trigger_at.and_then(|at| recent.get(at)).cloned();
        let silence_before_trigger = trigger_at
            .filter(|&at| at > 0)
            .and_then(|at| Some((recent.get(at)?, recent.get(at - 1)?)))
            .map(|(trigger, before)| trigger.at.ts.since(before.at.ts));
        Reset {
            segment: note.clone(),
            dst: rst.dst,
            wnd: rst.wnd,
            flow_label: rst.ip.flow_label,
            link_src: rst.link_src,
            payload: rst.rst_payload.clone(),
            options: rst.options,
            host_ip_id_before: None,
            forwarded: false,
            previous: recent.last().cloned(),
            trigger,
            silence_before_trigger,
            sender_next_seq,
            earlier_resets_from_sender,
            before,
            after: AfterReset::default(),
            packets_before: recent
                .iter()
                .skip(recent.len().saturating_sub(PACKETS_BEFORE))
                .cloned()
                .collect(),
            packets_after: Vec::new(),
            wireshark,
        }
    }

    /// Keeps a later segment (RST or not) of the flow, while there is room.
    pub(super) fn follow(&mut self, note: &SegmentNote) {
        if self.packets_after.len() < PACKETS_AFTER {
            self.packets_after.push(note.clone());
        }
    }

    /// Counts a later non-RST segment of the flow. A SYN or SYN-ACK retransmission does not
    /// count for the sender: a host in SYN-SENT or SYN-RECEIVED may reset a bad segment and
    /// keep its connection (RFC 9293 §3.10.7.3).
    pub(super) fn saw_later(&mut self, segment: &Segment) {
        if segment.src == self.segment.src && segment.flags.syn() {
            return;
        }
        if segment.src == self.segment.src {
            self.after.sender_segments += 1;
            if segment.len > 0 {
                self.after.sender_data_segments += 1;
            }
        } else {
            self.after.peer_segments += 1;
        }
    }
}
