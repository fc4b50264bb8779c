//! TCP flows: each side's state and counters, the close kind, and every reset with its context.
//!
//! A [`Flow`] is one TCP connection in Zeek's sense, fed segment by segment (`observe`). The
//! [`FlowTable`] finds the flow for each segment, starts new flows (first packet, port reuse,
//! expiry), and hands finished flows back. Nothing here decides who sent a reset or formats
//! anything: that is attribution's and the report's job.

mod copies;
mod endpoint;
mod ends;
mod history;
mod orientation;
mod recent;
mod reset;
mod session;
mod state;
mod summaries;
mod table;
mod wireshark;

use std::net::SocketAddr;

pub(crate) use endpoint::Endpoint;
pub use reset::Reset;
pub(crate) use reset::{BeforeReset, SegmentNote};
pub(crate) use state::EndpointState;
pub(crate) use summaries::{LinkSummary, TtlSummary};
pub use table::FlowConfig;
pub(crate) use table::{FlowTable, Observed};
pub use wireshark::{Conversation, Numbering};

use crate::decode::Segment;
use crate::time::{MaybeTime, Span, Timestamp};
use copies::InterfaceCopies;
use ends::Ends;
pub(crate) use ends::address_pair;
use history::History;
use recent::RecentSegments;

/// How many of a flow's latest resets keep counting the segments that follow them.
const RESETS_WATCHED: usize = 16;

/// Which end of a flow: the client sent the first SYN without ACK (or Zeek's rules decided).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

impl Side {
    /// The other end.
    pub fn peer(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }

    /// 0 for the client, 1 for the server: where a side's entry sits in a pair.
    pub fn index(self) -> usize {
        match self {
            Side::Client => 0,
            Side::Server => 1,
        }
    }
}

/// Where a segment came from: input file, 1-based frame number, and frame time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRef {
    pub input: usize,
    pub frame: u64,
    pub ts: Timestamp,
}

/// How a flow was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Close {
    Fin,
    Rst,
    None,
}

/// Why the flow table let go of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowEnd {
    /// Closed and quiet for the linger time.
    Closed,
    /// A connection attempt that got no answer in time.
    Attempt,
    /// No segment for longer than the idle timeout.
    Idle,
    /// A new SYN on the same 4-tuple started a new flow.
    Reused,
    /// The flow table was full and this flow was the closest to expiring.
    Evicted,
    /// The input ended.
    EndOfInput,
}

/// Handshake times at the capture point.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Handshake {
    /// The client's last SYN before the SYN-ACK.
    syn: MaybeTime,
    /// The server's first SYN-ACK.
    syn_ack: MaybeTime,
    /// The client's first ACK after the SYN-ACK.
    ack: MaybeTime,
}

impl Handshake {
    /// SYN → SYN-ACK → ACK as seen at the capture point: one full round trip.
    pub fn rtt(&self) -> Option<Span> {
        Some(self.ack.get()?.since(self.syn.get()?))
    }

    /// SYN → SYN-ACK: the round trip from the capture point to the server and back.
    pub fn server_leg(&self) -> Option<Span> {
        Some(self.syn_ack.get()?.since(self.syn.get()?))
    }

    /// SYN-ACK → ACK: the round trip from the capture point to the client and back.
    pub fn client_leg(&self) -> Option<Span> {
        Some(self.ack.get()?.since(self.syn_ack.get()?))
    }
}

/// One TCP connection.
#[derive(Debug, Clone)]
pub struct Flow {
    pub id: u64,
    /// The client's (Zeek's originator's) and the server's addresses.
    ends: Ends,
    pub client_side: Endpoint,
    pub server_side: Endpoint,
    history: History,
    pub first_ts: Timestamp,
    /// The last segment's time.
    pub last_ts: Timestamp,
    /// Zeek's last_time: stops moving once both sides have closed.
    zeek_last_ts: Timestamp,
    attempt_deadline: MaybeTime,
    /// Set when a close completed the connection (Zeek's close timer): the flow ends then.
    close_deadline: MaybeTime,
    pub handshake: Handshake,
    pub resets: Vec<Reset>,
    /// RST segments beyond the per-flow cap, counted but not kept.
    pub resets_not_listed: u32,
    recent: RecentSegments,
    pub tunneled: bool,
    /// True once a segment matched `analyze --filter` (always, without a filter): the flow is
    /// one to report. Unselected flows are analysed all the same, for their hosts' baselines.
    pub selected: bool,
    /// Copies of packets seen on several interfaces (`any` captures only).
    pub copies: Option<Box<InterfaceCopies>>,
    pub end: FlowEnd,
    /// Wireshark's `tcp.stream` of the flow's first segment Wireshark dissects (and the file
    /// it is counted in), and the conversation of its latest; None when Wireshark sees none
    /// of it (a tunnel it does not follow).
    pub wireshark: Option<Numbering>,
}

impl Flow {
    /// A new flow whose first segment is `segment`; `flip` makes its receiver the client.
    fn new(id: u64, segment: &Segment, at: FrameRef, flip: bool) -> Flow {
        let (client, server) = if flip {
            (segment.dst, segment.src)
        } else {
            (segment.src, segment.dst)
        };
        let mut history = History::default();
        if flip {
            history.flip();
        }
        Flow {
            id,
            ends: Ends::new(client, server),
            client_side: Endpoint::default(),
            server_side: Endpoint::default(),
            history,
            first_ts: at.ts,
            last_ts: at.ts,
            zeek_last_ts: at.ts,
            attempt_deadline: MaybeTime::NONE,
            close_deadline: MaybeTime::NONE,
            handshake: Handshake::default(),
            resets: Vec::new(),
            resets_not_listed: 0,
            recent: RecentSegments::default(),
            tunneled: segment.tunneled,
            selected: false,
            copies: None,
            end: FlowEnd::EndOfInput,
            wireshark: None,
        }
    }

    /// False when the segment is a copy of a packet this flow just carried: seen on another
    /// interface (see `copies`), or one router later in a capture that holds both; such
    /// copies are not observed.
    fn admit(&mut self, segment: &Segment, at: FrameRef) -> bool {
        let sender = self.side_of(segment.src);
        let admitted = match segment.interface {
            None if self.recent.holds_forwarded_copy(segment, at, sender) => {
                self.copies
                    .get_or_insert_with(Box::default)
                    .note_copy(sender);
                false
            }
            None => true,
            Some(interface) => self
                .copies
                .get_or_insert_with(Box::default)
                .admit(sender, interface, segment),
        };
        if !admitted && segment.flags.rst() {
            // The RST passed through the capturing box: it was forwarded, not made there.
            if let Some(reset) = self
                .resets
                .iter_mut()
                .rev()
                .find(|r| r.segment.src == segment.src && r.segment.seq == segment.seq)
            {
                reset.forwarded = true;
            }
        }
        admitted
    }

    /// How many packets of each side (client, server) were seen twice, forwarded through the
    /// capturing box.
    pub fn forwarded(&self) -> [u32; 2] {
        self.copies
            .as_ref()
            .map_or([0, 0], |copies| copies.forwarded)
    }

    /// Packets left out as copies seen on another interface.
    pub fn copies_dropped(&self) -> u64 {
        self.copies.as_ref().map_or(0, |copies| copies.dropped)
    }

    pub fn history(&self) -> &str {
        self.history.as_str()
    }

    /// Zeek's conn_state code.
    pub fn conn_state(&self) -> &'static str {
        state::conn_state(&self.client_side, &self.server_side, self.history.as_str())
    }

    /// Payload bytes sent by each side, counted in sequence space as Zeek does.
    pub fn payload_bytes(&self) -> (u64, u64) {
        let client_inactive = self.client_side.state == EndpointState::Inactive;
        let server_inactive = self.server_side.state == EndpointState::Inactive;
        (
            self.client_side.size(server_inactive),
            self.server_side.size(client_inactive),
        )
    }

    /// How the connection ended: by a reset, by FIN, or not at all.
    pub fn close(&self) -> Close {
        let states = [self.client_side.state, self.server_side.state];
        if states.contains(&EndpointState::Reset) {
            Close::Rst
        } else if states.contains(&EndpointState::Closed) {
            Close::Fin
        } else {
            Close::None
        }
    }

    /// The client's or the server's endpoint.
    pub fn endpoint(&self, side: Side) -> &Endpoint {
        match side {
            Side::Client => &self.client_side,
            Side::Server => &self.server_side,
        }
    }

    /// Which side sent from `addr`.
    pub fn side_of(&self, addr: SocketAddr) -> Side {
        if self.ends.is_client(addr) {
            Side::Client
        } else {
            Side::Server
        }
    }

    /// Feeds one segment to the flow.
    fn observe(&mut self, segment: &Segment, at: FrameRef, max_resets: usize) {
        let side = self.side_of(segment.src);
        self.last_ts = self.last_ts.max(at.ts);
        self.selected |= segment.selected;
        // Notes are made only where a reset needs them: for the reset itself, and for the
        // resets already seen, which keep the segments that follow them.
        if segment.flags.rst() || !self.resets.is_empty() {
            let note = SegmentNote::new(segment, at);
            for reset in self.resets.iter_mut().rev().take(RESETS_WATCHED) {
                reset.follow(&note);
            }
            if segment.flags.rst() {
                self.record_reset(&note, segment, max_resets);
            }
        }
        let (sender, _) = by_side(&mut self.client_side, &mut self.server_side, side);
        if sender.is_dropped_for_checksum(segment.checksum) {
            // A receiver drops this segment; Zeek notes 'C' and ignores it otherwise.
            sender.packets = sender.packets.saturating_add(1);
            self.history.scaled(&mut sender.letters.checksum, 'C', side);
            return;
        }
        if sender.is_keepalive(segment) {
            sender.keepalives = sender.keepalives.saturating_add(1);
        }
        if !segment.flags.rst() && !self.resets.is_empty() {
            self.tell_resets(segment);
        }
        by_side(&mut self.client_side, &mut self.server_side, side)
            .0
            .note(segment);
        self.note_handshake(segment, side, at.ts);
        self.process(segment, side, at.ts);
        self.recent.push(segment, at, side);
    }

    fn record_reset(&mut self, note: &SegmentNote, rst: &Segment, max_resets: usize) {
        if self.resets.len() >= max_resets {
            self.resets_not_listed = self.resets_not_listed.saturating_add(1);
            return;
        }
        let sender = self.endpoint(self.side_of(note.src));
        let sender_next = sender.sent_before_reset().then_some(sender.last_seq);
        let earlier = self
            .resets
            .iter()
            .filter(|reset| reset.segment.src == note.src)
            .count();
        let (client_bytes, server_bytes) = self.payload_bytes();
        let before = BeforeReset {
            client_fin: self.client_side.sent_fin,
            server_fin: self.server_side.sent_fin,
            payload: client_bytes + server_bytes > 0,
        };
        if self.resets.is_empty() {
            // Most flows see one reset: room for exactly one, not the usual four.
            self.resets.reserve_exact(1);
        }
        self.resets.push(Reset::new(
            note,
            rst,
            &self.recent.notes(self.client(), self.server()),
            sender_next,
            u32::try_from(earlier).unwrap_or(u32::MAX),
            before,
            self.wireshark.map(|numbering| numbering.now),
        ));
    }

    /// Tells the latest resets about a later non-RST segment (bounded: the last few only).
    fn tell_resets(&mut self, segment: &Segment) {
        for reset in self.resets.iter_mut().rev().take(RESETS_WATCHED) {
            reset.saw_later(segment);
        }
    }
}

impl Flow {
    /// The client's address (Zeek's originator).
    pub fn client(&self) -> SocketAddr {
        self.ends.client()
    }

    /// The server's address (Zeek's responder).
    pub fn server(&self) -> SocketAddr {
        self.ends.server()
    }

    /// True when the flow is between `a` and `b`, either way round.
    pub fn joins(&self, a: SocketAddr, b: SocketAddr) -> bool {
        self.ends.joins(a, b)
    }

    /// Segments seen from both sides.
    pub fn packets(&self) -> u64 {
        u64::from(self.client_side.packets) + u64::from(self.server_side.packets)
    }
}

/// The sender's endpoint and its peer's, for `side` the sender.
fn by_side<'a>(
    client: &'a mut Endpoint,
    server: &'a mut Endpoint,
    side: Side,
) -> (&'a mut Endpoint, &'a mut Endpoint) {
    match side {
        Side::Client => (client, server),
        Side::Server => (server, client),
    }
}

#[cfg(test)]
mod tests;
