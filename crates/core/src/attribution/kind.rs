//! What happened, once the evidence said who sent the reset: for a device, which kind (a
//! stateful filter, or a content device or injector) from what it did; for the host, which of
//! its stack's or application's paths sent the RST.
//!
//! A stateful filter (firewall) resets new connections it does not allow, and segments of
//! connections it no longer tracks (after idle expiry, a table flush or failover, a policy
//! change, or after the connection ended). A content device (IPS, WAF, censor) resets right
//! after a request it dislikes; an injector beside the path races the real traffic.

use super::context::Context;
use super::model::Situation;
use super::{Evidence, Scenario, Signal, Verdict};
use crate::flow::{SegmentNote, Side};

/// The kind of device, the scenario, and how sure the kind is given that a device sent it.
pub(super) struct PathStory {
    pub verdict: Verdict,
    pub scenario: Scenario,
    pub certainty: f64,
}

fn story(verdict: Verdict, scenario: Scenario, certainty: f64) -> PathStory {
    PathStory {
        verdict,
        scenario,
        certainty,
    }
}

/// Which device sent it, from the evidence about the device and where the RST fell.
pub(super) fn path_story(ctx: &Context<'_>, evidence: &[Evidence]) -> PathStory {
    let counted = |signal: Signal| {
        evidence
            .iter()
            .any(|e| e.signal == signal && e.counted && e.ratio > 1.0)
    };
    // Certainties are the kinds' accuracy measured on the lab generator's tuning seeds 1-199,
    // rounded down (resets the path sent: 30 of 30 SYN rejects, 10 of 10 idle timeouts, 74 of
    // 74 races, 16 of 16 mid-stream non-requests, 14 of 14 after a reset or close once volleys
    // count as races, 4 of 6 later requests).
    let raced = counted(Signal::DataAfterReset) || counted(Signal::TrafficAfterReset);
    let volley = evidence
        .iter()
        .any(|e| e.signal == Signal::ResetBurst && e.counted && e.ratio > 10.0);
    if raced || volley {
        return story(Verdict::Middlebox, Scenario::InjectedReset, 0.97);
    }
    if counted(Signal::DeviceSignature) {
        let scenario = if ctx.is_idle() {
            Scenario::IdleTimeout
        } else {
            Scenario::InPathReject
        };
        return story(Verdict::Middlebox, scenario, 0.9);
    }
    match ctx.situation() {
        Situation::AnswersSyn => story(Verdict::Firewall, Scenario::FirewallReject, 0.95),
        // A device that resets without a trigger in the capture, at the end of a silence, or
        // after the connection ended tore down state it kept: a stateful filter or NAT.
        Situation::Alone => story(Verdict::Firewall, Scenario::StateLoss, 0.7),
        _ if ctx.is_idle() => story(Verdict::Firewall, Scenario::IdleTimeout, 0.95),
        Situation::AfterReset | Situation::AfterClose => {
            story(Verdict::Firewall, Scenario::StateLoss, 0.9)
        }
        Situation::AnswersSynAck => story(Verdict::Firewall, Scenario::StateLoss, 0.7),
        // In the sender's name right after the sender's own request: a content device
        // reacting to what passed it, resetting towards both ends. (A stateful filter resets
        // the sender of the segment it refuses, in the other side's name.)
        Situation::MidStream if follows_own_request(ctx) => {
            story(Verdict::Middlebox, Scenario::InPathReject, 0.8)
        }
        Situation::MidStream => match ctx.reset.trigger.as_ref() {
            // A content device inspects a connection's first request (a Host header, a TLS
            // server name); state is seldom lost right after it was made.
            Some(trigger) if starts_a_request(ctx, trigger) && is_first_payload(ctx, trigger) => {
                story(Verdict::Middlebox, Scenario::InPathReject, 0.8)
            }
            // A later request: a content device's block, or a filter that lost the connection
            // (a flush, failover or policy change resets whatever comes next) alike.
            Some(trigger) if starts_a_request(ctx, trigger) => {
                story(Verdict::Firewall, Scenario::StateLoss, 0.6)
            }
            Some(_) => story(Verdict::Firewall, Scenario::StateLoss, 0.9),
            None => story(Verdict::Middlebox, Scenario::InPathReject, 0.6),
        },
    }
}

/// True when the segment the RST answered begins what its sender says next: it carries
/// payload, and its sender had sent none since the other side last did (or since the
/// handshake). Content devices act on such segments; a filter that lost the connection's state
/// resets whatever comes next, acknowledgments and the middle of transfers included.
fn starts_a_request(ctx: &Context<'_>, trigger: &SegmentNote) -> bool {
    if trigger.len == 0 {
        return false;
    }
    let before = &ctx.reset.packets_before;
    let Some(at) = before.iter().rposition(|seg| seg.at == trigger.at) else {
        return true;
    };
    for seg in before[..at].iter().rev() {
        if seg.flags.syn() {
            return true;
        }
        if seg.len > 0 {
            return seg.src != trigger.src;
        }
    }
    // The ring reached no earlier payload: the flow's first bytes from this side, unless the
    // side had sent more before the ring's start.
    let sender_bytes = if trigger.src == ctx.flow.client() {
        ctx.flow.payload_bytes().0
    } else {
        ctx.flow.payload_bytes().1
    };
    sender_bytes <= u64::from(trigger.len)
}

/// True when the segment just before the RST (or the one before that, with only the other
/// side's acknowledgment between) came from the RST's claimed sender with payload, and the RST
/// followed within a few milliseconds: a device that saw that request go by resets in the
/// requester's own name at once.
fn follows_own_request(ctx: &Context<'_>) -> bool {
    let rst = &ctx.reset.segment;
    let before = &ctx.reset.packets_before;
    let own_request = |seg: &SegmentNote| {
        seg.src == rst.src
            && seg.len > 0
            && rst.at.ts.since(seg.at.ts).0 <= 5_000_000
            && starts_a_request(ctx, seg)
    };
    match before.as_slice() {
        [.., request, ack] if ack.src != rst.src && ack.len == 0 => own_request(request),
        [.., last] => own_request(last),
        [] => false,
    }
}

/// True when the trigger carries the first payload its sender sent on the connection.
fn is_first_payload(ctx: &Context<'_>, trigger: &SegmentNote) -> bool {
    let (client, server) = ctx.flow.payload_bytes();
    let sent = if trigger.src == ctx.flow.client() {
        client
    } else {
        server
    };
    sent <= u64::from(trigger.len)
}

/// What the host did, when the host sent the reset.
pub(super) fn peer_scenario(ctx: &Context<'_>) -> Scenario {
    let reset = ctx.reset;
    let no_socket_shape = reset.segment.ack.is_none()
        && reset
            .trigger
            .as_ref()
            .is_some_and(|t| t.ack == Some(reset.segment.seq));
    match ctx.situation() {
        Situation::Alone if reset.segment.ack.is_some() && reset.segment.seq.0 == 0 => {
            Scenario::Refused
        }
        Situation::Alone => Scenario::NoSocket,
        Situation::AnswersSyn => Scenario::Refused,
        Situation::AnswersSynAck | Situation::AfterReset => Scenario::NoSocket,
        // A FIN probe (a FIN, NULL or Xmas scan) to a port with no connection is not a close.
        Situation::AfterClose if ctx.flow.handshake.rtt().is_none() && !reset.before.payload => {
            Scenario::NoSocket
        }
        Situation::AfterClose => {
            let (client_fin, server_fin) = (reset.before.client_fin, reset.before.server_fin);
            let sender_closed = match ctx.sender {
                Side::Client => client_fin,
                Side::Server => server_fin,
            };
            if no_socket_shape && !sender_closed {
                Scenario::NoSocket
            } else {
                Scenario::ResetAfterClose
            }
        }
        Situation::MidStream if no_socket_shape => {
            if ctx.sender == Side::Server && reset.before.payload {
                Scenario::StaleConnection
            } else {
                Scenario::NoSocket
            }
        }
        Situation::MidStream if ctx.sender == Side::Client && !reset.before.payload => {
            Scenario::HealthCheck
        }
        Situation::MidStream => match ctx.sender {
            Side::Server => Scenario::PeerAbort,
            Side::Client => Scenario::LocalAbort,
        },
    }
}
