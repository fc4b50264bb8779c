//! What the clues read about one reset: the flow, the reset, the capture-wide host baselines,
//! and the questions several clues ask (the round trip to the sender, what the RST answered,
//! whether an end is the capturing host, which TTLs to compare with).

use std::net::IpAddr;

use crate::flow::{Endpoint, Flow, Reset, SegmentNote, Side, TtlSummary};
use crate::time::Span;

use super::hosts::HostBaselines;
use super::model::{IDLE_FROM_SECS, Situation};
use super::ttl::{hops, initial_ttl};

/// Everything the clues read about one reset.
pub(super) struct Context<'a> {
    pub flow: &'a Flow,
    pub reset: &'a Reset,
    pub hosts: &'a HostBaselines,
    /// The side whose address the RST carries.
    pub sender: Side,
    pub sender_side: &'a Endpoint,
    /// The other side: the RST's receiver.
    pub receiver_side: &'a Endpoint,
}

/// The TTLs the RST is compared with, and where they come from.
pub(super) struct Baseline<'a> {
    pub ttl: &'a TtlSummary,
    /// True for the sender's packets in this flow, false for its other flows.
    pub in_flow: bool,
    /// How many packets, for the sentence.
    pub packets: u32,
}

impl<'a> Context<'a> {
    pub(super) fn new(flow: &'a Flow, reset: &'a Reset, hosts: &'a HostBaselines) -> Context<'a> {
        let sender = flow.side_of(reset.segment.src);
        let (sender_side, receiver_side) = match sender {
            Side::Client => (&flow.client_side, &flow.server_side),
            Side::Server => (&flow.server_side, &flow.client_side),
        };
        Context {
            flow,
            reset,
            hosts,
            sender,
            sender_side,
            receiver_side,
        }
    }

    pub(super) fn sender_name(&self) -> &'static str {
        match self.sender {
            Side::Client => "client",
            Side::Server => "server",
        }
    }

    pub(super) fn sender_ip(&self) -> IpAddr {
        self.reset.segment.src.ip()
    }

    pub(super) fn receiver_ip(&self) -> IpAddr {
        self.reset.dst.ip()
    }

    /// The sender's TTLs: its other packets in this flow, else its packets in other flows.
    pub(super) fn baseline(&self) -> Option<Baseline<'a>> {
        if self.sender_side.ordinary_packets > 0 {
            return Some(Baseline {
                ttl: &self.sender_side.ttl,
                in_flow: true,
                packets: self.sender_side.ordinary_packets,
            });
        }
        let host = self.hosts.host(self.sender_ip())?;
        (host.packets > 0).then_some(Baseline {
            ttl: &host.ttl,
            in_flow: false,
            packets: host.packets,
        })
    }

    /// True when the capture was made on the RST's receiver: its own address (live capture),
    /// or every packet it sent carries an untouched initial TTL.
    pub(super) fn receiver_is_capture_host(&self) -> bool {
        if self.hosts.knows_own_addresses() {
            return self.hosts.is_own_address(self.receiver_ip());
        }
        // A capture that spans links (on a router, `any`) has no one capture link.
        if self.hosts.spans_links() {
            return false;
        }
        let ttl = match self.receiver_side.ordinary_packets {
            0 => self.hosts.ttl(self.receiver_ip()),
            _ => Some(&self.receiver_side.ttl),
        };
        ttl.is_some_and(|ttl| {
            ttl.values().len() == 1 && ttl.usual().is_some_and(|usual| hops(usual) == 0)
        })
    }

    /// The round trip from the capture point to the claimed sender and back.
    pub(super) fn round_trip_to_sender(&self) -> Option<Span> {
        let handshake = &self.flow.handshake;
        let positive = |span: Option<Span>| span.filter(|span| span.0 > 0);
        match self.sender {
            // The shortest round trip seen to this server: a slow SYN-ACK must not make a
            // genuine reset look fast.
            Side::Server => match (
                positive(handshake.server_leg()),
                self.hosts.round_trip(self.sender_ip()),
            ) {
                (Some(here), Some(elsewhere)) => Some(here.min(elsewhere)),
                (here, elsewhere) => here.or(elsewhere),
            },
            Side::Client => positive(handshake.client_leg()),
        }
    }

    /// The trigger, when the RST provably answers it: it came right after the trigger, the
    /// trigger took sequence space that the RST acknowledges (or, for a RST without ACK, the
    /// RST's sequence number is the trigger's acknowledgment), and it was not a retransmission
    /// of something older.
    pub(super) fn answered_trigger(&self) -> Option<&SegmentNote> {
        let trigger = self.reset.trigger.as_ref()?;
        // The RST follows the trigger directly: a sender that spoke after it (a host resetting
        // every segment of a connection it aborted) answers something earlier, maybe in flight.
        if self
            .reset
            .previous
            .as_ref()
            .is_none_or(|p| p.at != trigger.at)
        {
            return None;
        }
        let rst = &self.reset.segment;
        let used = trigger.len + u32::from(trigger.flags.syn()) + u32::from(trigger.flags.fin());
        if used == 0 || self.is_retransmitted(trigger) {
            return None;
        }
        let end = trigger.seq.plus(used);
        let answers = match rst.ack {
            Some(ack) => !ack.is_before(end),
            // A bare RST echoes an ack; if earlier segments of the other side carried the
            // same ack, it may answer one of those (still in flight to the sender).
            None => {
                trigger.ack == Some(rst.seq)
                    && !self.reset.packets_before.iter().any(|seg| {
                        seg.src == trigger.src && seg.at != trigger.at && seg.ack == trigger.ack
                    })
            }
        };
        answers.then_some(trigger)
    }

    fn is_retransmitted(&self, trigger: &SegmentNote) -> bool {
        let end = trigger.seq.plus(trigger.len);
        self.reset.packets_before.iter().any(|seg| {
            seg.src == trigger.src
                && seg.at.frame < trigger.at.frame
                && !seg.seq.plus(seg.len).is_before(end)
                && seg.len > 0
        })
    }

    /// The silence before what the RST answered, when the capture shows it.
    pub(super) fn silence(&self) -> Option<Span> {
        self.reset.silence_before_trigger.filter(|gap| gap.0 > 0)
    }

    /// True when the silence before the trigger is long for this connection: at least
    /// `IDLE_FROM_SECS` and many round trips.
    pub(super) fn is_idle(&self) -> bool {
        let Some(gap) = self.silence() else {
            return false;
        };
        gap.as_secs_f64() >= IDLE_FROM_SECS
            && self
                .round_trip_to_sender()
                .is_none_or(|rtt| gap.0 >= rtt.0.saturating_mul(20))
    }

    /// True when the flow holds nothing but RST segments.
    pub(super) fn is_alone(&self) -> bool {
        self.flow.client_side.ordinary_packets == 0 && self.flow.server_side.ordinary_packets == 0
    }

    /// Where in the connection the reset came.
    pub(super) fn situation(&self) -> Situation {
        let trigger = self.reset.trigger.as_ref();
        let trigger_is = |syn: bool, ack: bool| {
            trigger.is_some_and(|t| t.flags.syn() == syn && t.flags.ack() == ack)
        };
        if self.is_alone() {
            Situation::Alone
        } else if trigger_is(true, false) {
            Situation::AnswersSyn
        } else if self.sender == Side::Client
            && self
                .reset
                .previous
                .as_ref()
                .is_some_and(|p| p.flags.syn() && p.flags.ack())
        {
            Situation::AnswersSynAck
        } else if !self
            .flow
            .resets
            .first()
            .is_some_and(|first| std::ptr::eq(first, self.reset))
        {
            Situation::AfterReset
        } else if self.reset.before.client_fin || self.reset.before.server_fin {
            Situation::AfterClose
        } else {
            Situation::MidStream
        }
    }

    /// The prior P(path) for this reset: its situation's, raised by a long silence before
    /// what it answered (a refusal answers a new connection, which no silence concerns).
    pub(super) fn prior(&self) -> f64 {
        let situation = self.situation();
        match (situation, self.silence()) {
            (Situation::AnswersSyn | Situation::Alone, _) => situation.prior(),
            (_, Some(gap)) if self.is_idle() => {
                super::model::idle_prior(situation, gap.as_secs_f64())
            }
            _ => situation.prior(),
        }
    }

    /// The distance of whoever sent the RST, in hops from the capture point, when it can be
    /// told: its TTL was not lowered below the sender's own (so its initial TTL is plausibly a
    /// common default), else None.
    pub(super) fn device_hops(&self) -> Option<u8> {
        let rst = self.reset.segment.ttl;
        let usual = self.baseline().and_then(|b| b.ttl.usual());
        match usual {
            Some(usual) if initial_ttl(usual) == initial_ttl(rst) && rst >= usual => {
                Some(hops(rst))
            }
            None if hops(rst) == 0 => Some(0),
            _ => None,
        }
    }
}
