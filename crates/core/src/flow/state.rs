//! Zeek's TCP endpoint state machine and the `conn_state` summary derived from it.
//!
//! Each side of a flow is in one of Zeek's endpoint states. A segment moves its sender's state
//! (and sometimes the peer's) by the rules of Zeek's TCP session adapter
//! (`src/packet_analysis/protocol/tcp/TCPSessionAdapter.cc`): one handler per state, each
//! named after the Zeek function it mirrors. `conn_state` reads the two final states exactly
//! as Zeek's `scripts/base/protocols/conn/main.zeek` does, so anyone who knows Zeek can read it.

use std::fmt;

use super::Side;
use super::endpoint::Endpoint;
use crate::tcp::{Flags, SeqNum};

/// Zeek's endpoint states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointState {
    Inactive,
    SynSent,
    SynAckSent,
    Partial,
    Established,
    Closed,
    Reset,
}

impl EndpointState {
    /// Inactive in `conn_state`'s sense: nothing, or only a mid-stream partial side.
    fn is_inactive(self) -> bool {
        matches!(self, EndpointState::Inactive | EndpointState::Partial)
    }
}

/// What one segment did to the flow beyond the endpoint states.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Transition {
    /// The sender closed (FIN) or reset its side with this segment.
    pub close: bool,
    /// A SYN answered an unflipped SYN-ACK: the roles must be swapped.
    pub flip: bool,
}

/// Moves the sender's (and maybe the peer's) state for one segment: Zeek's
/// `TCPSessionAdapter::UpdateStateMachine` (`src/packet_analysis/protocol/tcp/TCPSessionAdapter.cc`),
/// which hands each state to its own handler below.
pub(super) fn update_state_machine(
    sender: &mut Endpoint,
    peer: &mut Endpoint,
    segment: StateInput,
) -> Transition {
    use EndpointState::*;
    match sender.state {
        Inactive => update_inactive_state(sender, peer, segment),
        SynSent | SynAckSent => update_syn_sent_state(sender, segment.flags),
        Established | Partial => update_established_state(sender, peer, segment.flags),
        Closed => update_closed_state(sender, peer, segment.flags),
        // Zeek's UpdateResetState only reports weirds: a reset side is terminal.
        Reset => Transition::default(),
    }
}

/// What the state machine reads of one segment.
#[derive(Debug, Clone, Copy)]
pub(super) struct StateInput {
    pub flags: Flags,
    /// SEG.SEQ.
    pub seq: SeqNum,
    /// SEG.LEN (payload only).
    pub len: u32,
    /// Which side sent the segment.
    pub side: Side,
    /// The client's state before this segment.
    pub client_state: EndpointState,
}

/// A first segment from this side: SYN, SYN-ACK, FIN, RST, or mid-stream data (Zeek's
/// `TCPSessionAdapter::UpdateInactiveState`).
fn update_inactive_state(
    sender: &mut Endpoint,
    peer: &mut Endpoint,
    segment: StateInput,
) -> Transition {
    use EndpointState::*;
    let StateInput {
        flags,
        seq,
        len,
        side,
        client_state,
    } = segment;
    let mut out = Transition::default();
    if flags.syn() {
        match side {
            Side::Client => {
                sender.set_state(if flags.ack() { SynAckSent } else { SynSent });
            }
            Side::Server => {
                // A SYN answering an unflipped SYN-ACK: the SYN and SYN-ACK were captured
                // in reverse order (Zeek's SYN/SYN-ACK reversal).
                if !flags.ack() && peer.state == SynAckSent && seq == sender.start_seq {
                    out.flip = true;
                    peer.set_state(Established);
                }
                // The responder's SYN-ACK establishes the originator.
                if peer.state == SynSent {
                    peer.set_state(Established);
                }
                sender.set_state(Established);
            }
        }
    }
    if flags.fin() {
        sender.set_state(Closed);
        out.close = true;
    }
    if flags.rst() {
        sender.set_state(Reset);
        out.close = true;
    }
    if sender.state == Inactive {
        if side == Side::Server && len == 0 && client_state == SynSent {
            // Some stacks ACK a SYN before answering it: not a partial connection.
        } else if flags.ack() && peer.state == Established {
            // The SYN was missed but the SYN-ACK was seen.
            sender.set_state(Established);
        } else {
            sender.set_state(Partial);
        }
    }
    out
}

/// Handshake in progress: only FIN and RST change anything (Zeek's
/// `TCPSessionAdapter::UpdateSYN_SentState`).
fn update_syn_sent_state(sender: &mut Endpoint, flags: Flags) -> Transition {
    let mut out = Transition::default();
    if flags.fin() {
        sender.set_state(EndpointState::Closed);
        out.close = true;
    }
    if flags.rst() {
        sender.set_state(EndpointState::Reset);
        out.close = true;
    }
    out
}

/// Data transfer (RFC 9293 ESTABLISHED), or a side first seen mid-stream (Zeek's
/// `TCPSessionAdapter::UpdateEstablishedState`).
fn update_established_state(
    sender: &mut Endpoint,
    peer: &mut Endpoint,
    flags: Flags,
) -> Transition {
    use EndpointState::*;
    let mut out = Transition::default();
    if flags.syn() && !flags.ack() && sender.state == Partial && peer.state == Inactive {
        sender.set_state(SynSent);
    }
    if flags.fin() && !flags.rst() {
        sender.set_state(Closed);
        if peer.state == Reset && peer.prev_state == Closed {
            // FIN, then RST from the peer, then this FIN: Zeek calls that a normal close.
            peer.set_state(Closed);
        }
        out.close = true;
    }
    if flags.rst() {
        sender.set_state(Reset);
        out.close = true;
    }
    out
}

/// This side sent FIN: a RST still counts unless the peer has closed too (Zeek's
/// `TCPSessionAdapter::UpdateClosedState`).
fn update_closed_state(sender: &mut Endpoint, peer: &Endpoint, flags: Flags) -> Transition {
    let mut out = Transition::default();
    if flags.rst() && peer.state != EndpointState::Closed {
        sender.set_state(EndpointState::Reset);
        // RST after FIN.
        out.close = !sender.did_close;
    }
    out
}

/// Zeek's `conn_state` for the final states of both sides.
pub(super) fn conn_state(client: &Endpoint, server: &Endpoint, history: &str) -> &'static str {
    use EndpointState::*;
    let (os, rs) = (client.state, server.state);
    if rs == Reset {
        let no_bytes = client.size(rs.is_inactive()) == 0 && server.size(os.is_inactive()) == 0;
        if os == SynSent || os == SynAckSent || (os == Reset && no_bytes) {
            "REJ"
        } else if os.is_inactive() {
            "RSTRH"
        } else {
            "RSTR"
        }
    } else if os == Reset {
        if !rs.is_inactive() {
            "RSTO"
        } else if is_syn_then_reset(history) {
            "RSTOS0"
        } else {
            "OTH"
        }
    } else if os == Closed && rs == Closed {
        "SF"
    } else if os == Closed {
        if rs.is_inactive() { "SH" } else { "S2" }
    } else if rs == Closed {
        if os.is_inactive() { "SHR" } else { "S3" }
    } else if os == SynSent && rs == Inactive {
        "S0"
    } else if os == Established && rs == Established {
        "S1"
    } else {
        "OTH"
    }
}

/// Zeek's RSTOS0 pattern `^?S[^HAFGIQ]*R.*`, matched against the whole history.
fn is_syn_then_reset(history: &str) -> bool {
    let rest = history.strip_prefix('^').unwrap_or(history);
    let Some(after_syn) = rest.strip_prefix('S') else {
        return false;
    };
    for letter in after_syn.chars() {
        match letter {
            'R' => return true,
            'H' | 'A' | 'F' | 'G' | 'I' | 'Q' => return false,
            _ => {}
        }
    }
    false
}

impl fmt::Display for EndpointState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            EndpointState::Inactive => "INACTIVE",
            EndpointState::SynSent => "SYN_SENT",
            EndpointState::SynAckSent => "SYN_ACK_SENT",
            EndpointState::Partial => "PARTIAL",
            EndpointState::Established => "ESTABLISHED",
            EndpointState::Closed => "CLOSED",
            EndpointState::Reset => "RESET",
        };
        f.write_str(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rstos0_pattern_matches_the_whole_history() {
        assert!(is_syn_then_reset("SR"));
        assert!(is_syn_then_reset("^SsR"));
        assert!(is_syn_then_reset("SdR"));
        // Lower-case letters may stand between S and R; conn_state only asks when the
        // responder is inactive, so a stealth scan's "ShR" is still RSTO.
        assert!(is_syn_then_reset("ShR"));
        assert!(!is_syn_then_reset("SHR"));
        assert!(!is_syn_then_reset("SAR"));
        assert!(!is_syn_then_reset("R"));
        assert!(!is_syn_then_reset("Q"));
    }
}
