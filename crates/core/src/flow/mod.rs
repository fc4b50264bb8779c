//! TCP flows: each side's state and counters, the close kind, and every reset with its context.
//!
//! A [`Flow`] is one TCP connection in Zeek's sense, fed segment by segment (`observe`). The
//! [`FlowTable`] finds the flow for each segment, starts new flows (first packet, port reuse,
//! expiry), and hands finished flows back. Nothing here decides who sent a reset or formats
//! anything: that is attribution's and the report's job.

mod copies;
mod endpoint;
mod history;
mod orientation;
mod recent;
mod reset;
mod state;
mod table;

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

pub(crate) use endpoint::{Endpoint, LinkSummary, TtlSummary};
pub use reset::Reset;
pub(crate) use reset::{BeforeReset, SegmentNote};
pub(crate) use state::EndpointState;
pub use table::FlowConfig;
pub(crate) use table::{FlowTable, Observed};

use crate::decode::Segment;
use crate::tcp::SeqNum;
use crate::time::{MaybeTime, Span, Timestamp};
use copies::InterfaceCopies;
use history::History;
use recent::RecentSegments;

/// How many of a flow's latest resets keep counting the segments that follow them.
const RESETS_WATCHED: usize = 16;

/// How long a flow stays after it closed, for stragglers and races (Zeek's tcp_close_delay).
const CLOSE_LINGER: Span = Span(5_000_000_000);

/// How long an unanswered connection attempt lives (Zeek's tcp_attempt_delay).
const ATTEMPT_TIMEOUT: Span = Span(5_000_000_000);

/// Which end of a flow: the client sent the first SYN without ACK (or Zeek's rules decided).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
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

/// A flow's two addresses in 38 bytes (two `SocketAddr`s take 64): IPv4 addresses are kept
/// IPv4-mapped. Decoded segments carry no IPv6 flow label or scope, so nothing is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ends {
    client_ip: [u8; 16],
    server_ip: [u8; 16],
    client_port: u16,
    server_port: u16,
    v6: bool,
}

/// An address's 16 octets as `Ends` keeps them.
fn octets(addr: SocketAddr) -> [u8; 16] {
    match addr.ip() {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

impl Ends {
    fn new(client: SocketAddr, server: SocketAddr) -> Ends {
        Ends {
            client_ip: octets(client),
            server_ip: octets(server),
            client_port: client.port(),
            server_port: server.port(),
            v6: client.is_ipv6(),
        }
    }

    fn address(&self, ip: [u8; 16], port: u16) -> SocketAddr {
        let v6 = Ipv6Addr::from(ip);
        match v6.to_ipv4_mapped() {
            Some(v4) if !self.v6 => SocketAddr::new(IpAddr::V4(v4), port),
            _ => SocketAddr::new(IpAddr::V6(v6), port),
        }
    }

    fn client(&self) -> SocketAddr {
        self.address(self.client_ip, self.client_port)
    }

    fn server(&self) -> SocketAddr {
        self.address(self.server_ip, self.server_port)
    }

    /// True when `addr` is the client's address (without building either as a `SocketAddr`).
    fn is_client(&self, addr: SocketAddr) -> bool {
        addr.port() == self.client_port
            && addr.is_ipv6() == self.v6
            && octets(addr) == self.client_ip
    }

    /// True when the flow is between `a` and `b`, either way round.
    fn joins(&self, a: SocketAddr, b: SocketAddr) -> bool {
        if a.is_ipv6() != self.v6 {
            return false;
        }
        let (a_ip, b_ip) = (octets(a), octets(b));
        let (a_port, b_port) = (a.port(), b.port());
        (a_port == self.client_port
            && b_port == self.server_port
            && a_ip == self.client_ip
            && b_ip == self.server_ip)
            || (a_port == self.server_port
                && b_port == self.client_port
                && a_ip == self.server_ip
                && b_ip == self.client_ip)
    }

    fn swap(&mut self) {
        std::mem::swap(&mut self.client_ip, &mut self.server_ip);
        std::mem::swap(&mut self.client_port, &mut self.server_port);
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
        }
    }

    /// False when the segment is a copy of a packet this flow just carried: seen on another
    /// interface (see `copies`), or one router later in a capture that holds both; such
    /// copies are not observed.
    fn admit(&mut self, segment: &Segment, at: FrameRef) -> bool {
        let from_client = self.ends.is_client(segment.src);
        let admitted = match segment.interface {
            None if self.recent.holds_forwarded_copy(segment, at, from_client) => {
                self.copies
                    .get_or_insert_with(Box::default)
                    .note_copy(from_client);
                false
            }
            None => true,
            Some(interface) => {
                self.copies
                    .get_or_insert_with(Box::default)
                    .admit(from_client, interface, segment)
            }
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
    fn side_mut(&mut self, is_client: bool) -> &mut Endpoint {
        if is_client {
            &mut self.client_side
        } else {
            &mut self.server_side
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

    /// The time after which the flow is finished, unless another segment comes first.
    fn deadline(&self, idle_timeout: Span) -> Timestamp {
        use EndpointState::{Inactive, Reset, SynAckSent, SynSent};
        let (c, s) = (&self.client_side, &self.server_side);
        let mut deadline = self.last_ts.after(idle_timeout);
        let either = |state| c.state == state || s.state == state;
        let any_closed = c.did_close || s.did_close;
        if any_closed && ((c.did_close && s.did_close) || either(Reset) || either(Inactive)) {
            deadline = deadline.min(self.zeek_last_ts.after(CLOSE_LINGER));
        }
        if let Some(close) = self.close_deadline.get() {
            deadline = deadline.min(close);
        }
        if c.state == Inactive && s.state == Inactive {
            deadline = deadline.min(self.last_ts.after(CLOSE_LINGER));
        }
        if let Some(attempt) = self.attempt_deadline.get()
            && matches!(c.state, SynSent | SynAckSent)
            && s.state == Inactive
        {
            deadline = deadline.min(attempt);
        }
        deadline
    }

    /// Why the flow ends at its deadline.
    fn end_reason(&self, idle_timeout: Span) -> FlowEnd {
        if self.last_ts.after(idle_timeout) <= self.deadline(idle_timeout) {
            FlowEnd::Idle
        } else if self.close() == Close::None && self.attempt_deadline.is_some() {
            FlowEnd::Attempt
        } else {
            FlowEnd::Closed
        }
    }

    /// Would this segment start a new connection on the same 4-tuple (Zeek's IsReuse)?
    fn is_reused_by(&self, segment: &Segment) -> bool {
        if !segment.flags.syn() {
            return false;
        }
        let (c, s) = (&self.client_side, &self.server_side);
        let first_side = if segment.flags.ack() {
            if c.state != EndpointState::Inactive {
                return false;
            }
            s
        } else {
            c
        };
        if c.did_close || s.did_close {
            return true;
        }
        let seq = segment.seq.0;
        if seq == first_side.start_seq {
            return false;
        }
        // A SYN answering a SYN-ACK captured before it: the reversal, not a reuse.
        !(!segment.flags.ack()
            && c.state == EndpointState::SynAckSent
            && s.state == EndpointState::Inactive
            && seq == s.start_seq)
    }

    /// Feeds one segment to the flow.
    fn observe(&mut self, segment: &Segment, at: FrameRef, max_resets: usize) {
        let is_client = self.ends.is_client(segment.src);
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
        let sender = if is_client {
            &mut self.client_side
        } else {
            &mut self.server_side
        };
        if sender.is_dropped_for_checksum(segment.checksum) {
            // A receiver drops this segment; Zeek notes 'C' and ignores it otherwise.
            sender.packets = sender.packets.saturating_add(1);
            self.history
                .scaled(&mut sender.letters.checksum, 'C', is_client);
            return;
        }
        if sender.is_keepalive(segment) {
            sender.keepalives = sender.keepalives.saturating_add(1);
        }
        if !segment.flags.rst() && !self.resets.is_empty() {
            self.tell_resets(segment);
        }
        self.side_mut(is_client).note(segment);
        self.note_handshake(segment, is_client, at.ts);
        self.track(segment, is_client, at.ts);
        self.recent.push(segment, at, is_client);
    }

    fn record_reset(&mut self, note: &SegmentNote, rst: &Segment, max_resets: usize) {
        if self.resets.len() >= max_resets {
            self.resets_not_listed = self.resets_not_listed.saturating_add(1);
            return;
        }
        let sender = match self.side_of(note.src) {
            Side::Client => &self.client_side,
            Side::Server => &self.server_side,
        };
        let sender_next = (sender.sent_before_reset()).then_some(SeqNum(sender.last_seq));
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
        ));
    }

    /// Tells the latest resets about a later non-RST segment (bounded: the last few only).
    fn tell_resets(&mut self, segment: &Segment) {
        for reset in self.resets.iter_mut().rev().take(RESETS_WATCHED) {
            reset.saw_later(segment);
        }
    }

    fn note_handshake(&mut self, segment: &Segment, is_client: bool, ts: Timestamp) {
        let flags = segment.flags;
        let hs = &mut self.handshake;
        match (is_client, flags.syn(), flags.ack()) {
            (true, true, false) if hs.syn_ack.is_none() => hs.syn.set(ts),
            (false, true, true) if hs.syn.is_some() && hs.syn_ack.is_none() => hs.syn_ack.set(ts),
            (true, false, true) if hs.syn_ack.is_some() && hs.ack.is_none() => hs.ack.set(ts),
            _ => {}
        }
    }

    /// Zeek's per-segment processing: sequence bookkeeping, history, states.
    fn track(&mut self, segment: &Segment, is_client: bool, ts: Timestamp) {
        let flags = segment.flags;
        let (seq, len) = (segment.seq.0, segment.len);
        let seg_len =
            if flags.rst() { 0 } else { len } + u32::from(flags.syn()) + u32::from(flags.fin());
        let one_past = seq.wrapping_add(seg_len);
        let client_state = self.client_side.state;
        let (sender, peer) = if is_client {
            (&mut self.client_side, &mut self.server_side)
        } else {
            (&mut self.server_side, &mut self.client_side)
        };
        if flags.syn()
            && is_client
            && sender.state == EndpointState::Inactive
            && self.attempt_deadline.is_none()
        {
            self.attempt_deadline.set(ts.after(ATTEMPT_TIMEOUT));
        }
        sender.init_sequence(flags.syn(), seq, one_past);
        let (rel_seq, _) = sender.relative_seq(seq);
        self.history
            .observe(flags, &mut sender.letters, rel_seq, len, is_client);
        if segment.wnd == 0 && !flags.rst() {
            sender.zero_windows = sender.zero_windows.saturating_add(1);
            if peer.state != EndpointState::Closed && sender.state != EndpointState::Reset {
                self.history
                    .scaled(&mut sender.letters.zero_window, 'W', is_client);
            }
        }
        if !(sender.did_close && peer.did_close) {
            self.zeek_last_ts = ts;
        }
        sender.sent_fin |= flags.fin();
        if let Some(ack) = segment.ack {
            if peer.state == EndpointState::Inactive {
                peer.init_from_peer_ack(ack.0);
            } else {
                peer.acknowledged(ack.0, flags.rst());
            }
        }
        if sender.advance(one_past, flags.syn() || flags.rst(), flags.fin(), len) {
            sender.retransmissions = sender.retransmissions.saturating_add(1);
            self.history
                .scaled(&mut sender.letters.retransmit, 'T', is_client);
        }
        let change = state::update(sender, peer, flags, seq, len, is_client, client_state);
        if change.close && !sender.did_close {
            sender.did_close = true;
            // Zeek's ConnectionClosed: a reset, or a close the peer has nothing left to say
            // to, ends the connection a linger time after its last segment.
            let complete = sender.state == EndpointState::Reset
                || peer.did_close
                || peer.state == EndpointState::Inactive;
            if complete && self.close_deadline.is_none() {
                self.close_deadline
                    .set(self.zeek_last_ts.after(CLOSE_LINGER));
            }
        }
        if let Some(ack) = segment.ack
            && !flags.rst()
        {
            let both_clean = sender.is_clean() && peer.is_clean();
            if peer.is_gap_acknowledged(ack.0, both_clean) {
                self.history.scaled(&mut peer.letters.gap, 'G', !is_client);
            }
        }
        if change.flip {
            self.ends.swap();
            std::mem::swap(&mut self.client_side, &mut self.server_side);
            self.history.flip();
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

    /// True when `addr` is the client's address.
    pub fn is_client(&self, addr: SocketAddr) -> bool {
        self.ends.is_client(addr)
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

#[cfg(test)]
mod tests;
