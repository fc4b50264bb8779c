//! A flow's per-segment processing, reuse check and timers, as Zeek's TCP session adapter
//! does them (`src/packet_analysis/protocol/tcp/TCPSessionAdapter.cc`; each step names the
//! Zeek function it mirrors). The endpoint steps live in `endpoint.rs`, the state machine in
//! `state.rs`, the history letters in `history.rs`.

use super::state::{self, EndpointState, StateInput};
use super::{Close, Flow, FlowEnd, Side, by_side};
use crate::decode::Segment;
use crate::time::{Span, Timestamp};

/// How long a flow stays after it closed, for stragglers and races (Zeek's tcp_close_delay).
pub(super) const CLOSE_LINGER: Span = Span(5_000_000_000);

/// How long an unanswered connection attempt lives (Zeek's tcp_attempt_delay).
const ATTEMPT_TIMEOUT: Span = Span(5_000_000_000);

impl Flow {
    /// The time after which the flow is finished, unless another segment comes first: the
    /// earliest of Zeek's inactivity, close (`ConnectionClosed`), attempt (`AttemptTimer`)
    /// and partial-connection timers.
    pub(super) fn deadline(&self, idle_timeout: Span) -> Timestamp {
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
    pub(super) fn end_reason(&self, idle_timeout: Span) -> FlowEnd {
        if self.last_ts.after(idle_timeout) <= self.deadline(idle_timeout) {
            FlowEnd::Idle
        } else if self.close() == Close::None && self.attempt_deadline.is_some() {
            FlowEnd::Attempt
        } else {
            FlowEnd::Closed
        }
    }

    /// Would this segment start a new connection on the same 4-tuple (Zeek's
    /// `TCPSessionAdapter::IsReuse`)?
    pub(super) fn is_reused_by(&self, segment: &Segment) -> bool {
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
        let seq = segment.seq;
        if seq == first_side.start_seq {
            return false;
        }
        // A SYN answering a SYN-ACK captured before it: the reversal, not a reuse.
        !(!segment.flags.ack()
            && c.state == EndpointState::SynAckSent
            && s.state == EndpointState::Inactive
            && seq == s.start_seq)
    }

    /// Handshake times at the capture point (not a Zeek step: the round trips attribution
    /// measures against).
    pub(super) fn note_handshake(&mut self, segment: &Segment, side: Side, ts: Timestamp) {
        let flags = segment.flags;
        let hs = &mut self.handshake;
        match (side, flags.syn(), flags.ack()) {
            (Side::Client, true, false) if hs.syn_ack.is_none() => hs.syn.set(ts),
            (Side::Server, true, true) if hs.syn.is_some() && hs.syn_ack.is_none() => {
                hs.syn_ack.set(ts);
            }
            (Side::Client, false, true) if hs.syn_ack.is_some() && hs.ack.is_none() => {
                hs.ack.set(ts);
            }
            _ => {}
        }
    }

    /// One segment from `side` through Zeek's `TCPSessionAdapter::Process`: sequence
    /// bookkeeping, history letters, acknowledgments, the state machine, the close timer.
    pub(super) fn process(&mut self, segment: &Segment, side: Side, ts: Timestamp) {
        let flags = segment.flags;
        let (seq, len) = (segment.seq, segment.len);
        // get_segment_len: SYN and FIN take one number each; a RST's payload takes none.
        let seg_len =
            if flags.rst() { 0 } else { len } + u32::from(flags.syn()) + u32::from(flags.fin());
        let one_past = seq.plus(seg_len);
        let client_state = self.client_side.state;
        let (sender, peer) = by_side(&mut self.client_side, &mut self.server_side, side);
        // UpdateInactiveState's AttemptTimer, set by the originator's first SYN.
        if flags.syn()
            && side == Side::Client
            && sender.state == EndpointState::Inactive
            && self.attempt_deadline.is_none()
        {
            self.attempt_deadline.set(ts.after(ATTEMPT_TIMEOUT));
        }
        sender.init_endpoint(flags.syn(), seq, one_past);
        let (rel_seq, _) = sender.relative_seq(seq);
        self.history
            .observe(flags, &mut sender.letters, rel_seq, len, side);
        // update_window's zero-window rule ('W').
        if segment.wnd == 0 && !flags.rst() {
            sender.zero_windows = sender.zero_windows.saturating_add(1);
            if peer.state != EndpointState::Closed && sender.state != EndpointState::Reset {
                self.history
                    .scaled(&mut sender.letters.zero_window, 'W', side);
            }
        }
        // Conn()->SetLastTime, frozen once both sides closed.
        if !(sender.did_close && peer.did_close) {
            self.zeek_last_ts = ts;
        }
        sender.sent_fin |= flags.fin();
        if let Some(ack) = segment.ack {
            if peer.state == EndpointState::Inactive {
                peer.init_peer(ack);
            } else {
                peer.update_ack_seq(ack, flags.rst());
            }
        }
        if sender.update_last_seq(one_past, flags.syn() || flags.rst(), flags.fin(), len) {
            sender.retransmissions = sender.retransmissions.saturating_add(1);
            self.history
                .scaled(&mut sender.letters.retransmit, 'T', side);
        }
        let input = StateInput {
            flags,
            seq,
            len,
            side,
            client_state,
        };
        let change = state::update_state_machine(sender, peer, input);
        if change.close && !sender.did_close {
            sender.did_close = true;
            // ConnectionClosed: a reset, or a close the peer has nothing left to say to,
            // ends the connection a linger time after its last segment.
            let complete = sender.state == EndpointState::Reset
                || peer.did_close
                || peer.state == EndpointState::Inactive;
            if complete && self.close_deadline.is_none() {
                self.close_deadline
                    .set(self.zeek_last_ts.after(CLOSE_LINGER));
            }
        }
        // AckReceived, after the state machine: a content gap the ack reveals ('G').
        if let Some(ack) = segment.ack
            && !flags.rst()
        {
            let both_clean = sender.is_clean() && peer.is_clean();
            if peer.is_gap_acknowledged(ack, both_clean) {
                self.history.scaled(&mut peer.letters.gap, 'G', side.peer());
            }
        }
        // The SYN/SYN-ACK reversal UpdateInactiveState found: Conn()->FlipRoles().
        if change.flip {
            self.ends.swap();
            std::mem::swap(&mut self.client_side, &mut self.server_side);
            self.history.flip();
        }
    }
}
