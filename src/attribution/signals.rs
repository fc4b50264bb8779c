//! The signals: each looks at one kind of evidence about one reset and says which way it
//! points, how strongly, and why, in words a support engineer can paste.
//!
//! Weights are votes: positive for "something on the path sent it", negative for "the host
//! that owns the address sent it". Each signal stays silent when its evidence is missing.

use std::net::IpAddr;

use crate::flow::{Endpoint, Flow, Reset, SegmentNote, Side, TtlSummary};
use crate::time::Span;

use super::hosts::HostBaselines;
use super::{Evidence, Signal};

/// Everything the signals read about one reset.
pub(super) struct Context<'a> {
    pub flow: &'a Flow,
    pub reset: &'a Reset,
    pub hosts: &'a HostBaselines,
    /// The side whose address the RST carries.
    pub sender: Side,
    pub sender_side: &'a Endpoint,
}

impl Context<'_> {
    pub fn sender_name(&self) -> &'static str {
        match self.sender {
            Side::Client => "client",
            Side::Server => "server",
        }
    }

    fn sender_ip(&self) -> IpAddr {
        self.reset.segment.src.ip()
    }

    /// The round trip from the capture point to the claimed sender and back.
    pub fn round_trip_to_sender(&self) -> Option<Span> {
        let handshake = &self.flow.handshake;
        match self.sender {
            // The shortest round trip seen to this server: a slow SYN-ACK must not make a
            // genuine reset look fast.
            Side::Server => match (
                handshake.server_leg(),
                self.hosts.round_trip(self.sender_ip()),
            ) {
                (Some(here), Some(elsewhere)) => Some(here.min(elsewhere)),
                (here, elsewhere) => here.or(elsewhere),
            },
            Side::Client => handshake.client_leg(),
        }
    }

    /// The trigger, when the RST provably answers it: the trigger took sequence space that
    /// the RST acknowledges (or, for a RST without ACK, the RST's sequence number is the
    /// trigger's acknowledgment), and it was not a retransmission of something older.
    pub fn answered_trigger(&self) -> Option<&SegmentNote> {
        let trigger = self.reset.trigger.as_ref()?;
        let rst = &self.reset.segment;
        let used = trigger.len + u32::from(trigger.flags.syn()) + u32::from(trigger.flags.fin());
        if used == 0 || self.is_retransmitted(trigger) {
            return None;
        }
        let end = trigger.seq.plus(used);
        let answers = match rst.ack {
            Some(ack) => !ack.is_before(end),
            None => trigger.ack == Some(rst.seq),
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
}

/// The initial TTL a sender most likely used: the smallest common default not below `ttl`.
pub fn initial_ttl(ttl: u8) -> u8 {
    [32u8, 64, 128, 255]
        .into_iter()
        .find(|&initial| initial >= ttl)
        .unwrap_or(255)
}

/// Routers between the sender and the capture point, from the TTL left.
pub fn hops(ttl: u8) -> u8 {
    initial_ttl(ttl).saturating_sub(ttl)
}

fn describe_ttl(ttl: u8) -> String {
    match hops(ttl) {
        0 => format!("TTL {ttl} (untouched)"),
        1 => format!("TTL {ttl} (1 hop)"),
        n => format!("TTL {ttl} ({n} hops)"),
    }
}

/// Where the sender's TTL baseline comes from.
/// Packets from other flows vote one less: one address can front several machines (a load
/// balancer's backends) at different distances.
fn ttl_baseline<'a>(ctx: &'a Context<'_>) -> Option<(&'a TtlSummary, String, bool)> {
    if ctx.sender_side.ordinary_packets > 0 {
        let n = ctx.sender_side.ordinary_packets;
        let what = if n == 1 {
            format!("the {}'s one other packet in this flow", ctx.sender_name())
        } else {
            format!("the {}'s other {n} packets in this flow", ctx.sender_name())
        };
        return Some((&ctx.sender_side.ttl, what, true));
    }
    let host = ctx.hosts.ttl(ctx.sender_ip())?;
    Some((
        host,
        format!("{}'s packets in other flows", ctx.sender_ip()),
        false,
    ))
}

/// TTL / hop limit of the RST against the claimed sender's other packets.
pub(super) fn ttl(ctx: &Context<'_>) -> Evidence {
    let rst_ttl = ctx.reset.segment.ttl;
    let Some((baseline, what, in_flow)) = ttl_baseline(ctx) else {
        return Evidence::neutral(
            Signal::TtlBaseline,
            format!(
                "RST arrived with {}; no other packets from {} to compare it with",
                describe_ttl(rst_ttl),
                ctx.sender_ip()
            ),
        );
    };
    let Some(usual) = baseline.usual() else {
        return Evidence::neutral(Signal::TtlBaseline, "no TTL baseline".to_string());
    };
    let mut stacks: Vec<u8> = baseline.values().iter().map(|v| initial_ttl(v.0)).collect();
    stacks.sort_unstable();
    stacks.dedup();
    if stacks.len() > 1 {
        let seen: Vec<String> = baseline.values().iter().map(|v| v.0.to_string()).collect();
        return Evidence::neutral(
            Signal::TtlBaseline,
            format!(
                "RST arrived with {}; {what} arrived from more than one stack (TTLs {}): the address is shared (NAT, proxy, load balancer), so TTL cannot tell who sent the RST",
                describe_ttl(rst_ttl),
                seen.join(", ")
            ),
        );
    }
    let spread = baseline.spread();
    let delta = i32::from(rst_ttl) - i32::from(usual);
    let told = format!(
        "RST arrived with {}; {what} with {}",
        describe_ttl(rst_ttl),
        describe_ttl(usual)
    );
    let evidence = if initial_ttl(rst_ttl) != initial_ttl(usual) {
        Evidence::path(
            Signal::TtlMismatch,
            4,
            format!("{told}: a different initial TTL, so a different sender"),
        )
    } else {
        match delta {
            d if d.unsigned_abs() <= u32::from(spread.min(1)) => {
                Evidence::peer(Signal::TtlMatch, 2, format!("{told}: the same distance"))
            }
            d if d > 0 => Evidence::path(
                Signal::TtlMismatch,
                if d >= 2 { 4 } else { 3 },
                format!(
                    "{told}: it came from {d} hop{} nearer",
                    if d == 1 { "" } else { "s" }
                ),
            ),
            d if d <= -2 => Evidence::path(
                Signal::TtlMismatch,
                3,
                format!("{told}: it came from {} hops farther away", -d),
            ),
            _ => Evidence::path(
                Signal::TtlMismatch,
                1,
                format!("{told}: one hop farther, which a route change can also explain"),
            ),
        }
    };
    if in_flow || evidence.points_to != super::PointsTo::Path {
        evidence
    } else {
        Evidence {
            weight: (evidence.weight - 1).max(1),
            ..evidence
        }
    }
}

/// The claimed sender is the capturing host itself: its packets leave with an untouched
/// initial TTL, and so did the RST.
pub(super) fn capture_host(ctx: &Context<'_>) -> Option<Evidence> {
    let usual = ctx.sender_side.ttl.usual()?;
    let rst_ttl = ctx.reset.segment.ttl;
    (hops(usual) == 0 && rst_ttl == usual && ctx.sender_side.ttl.values().len() == 1).then(|| {
        Evidence::peer(
            Signal::CaptureHost,
            3,
            format!(
                "the {} is the capturing host: its packets, and this RST, carry an untouched initial TTL {usual}",
                ctx.sender_name()
            ),
        )
    })
}

/// An IPv6 RST with an untouched hop limit was sent on the capture point's own link; when
/// the capturing host is the other end and the claimed sender's address lies in another /64
/// (another link, by IPv6 addressing convention), something on the capture link forged it.
pub(super) fn off_link(ctx: &Context<'_>) -> Option<Evidence> {
    let rst = &ctx.reset.segment;
    let (IpAddr::V6(sender), IpAddr::V6(receiver)) = (rst.src.ip(), ctx.reset.dst.ip()) else {
        return None;
    };
    let receiver_side = match ctx.sender {
        Side::Client => &ctx.flow.server_side,
        Side::Server => &ctx.flow.client_side,
    };
    let receiver_captures = receiver_side.ttl.usual().is_some_and(|ttl| hops(ttl) == 0);
    let same_link = sender.segments()[..4] == receiver.segments()[..4];
    let untouched = hops(rst.ttl) == 0;
    (receiver_captures && untouched && !same_link && ctx.sender_side.ordinary_packets == 0).then(|| {
        Evidence::path(
            Signal::OffLink,
            3,
            format!(
                "RST arrived with an untouched hop limit {}, so it was sent on the capture point's own link, but {sender} is on another network than the capturing host {receiver}",
                rst.ttl
            ),
        )
    })
}

/// How soon the RST followed the segment it answered, against the round trip to the sender.
pub(super) fn timing(ctx: &Context<'_>) -> Option<Evidence> {
    let trigger = ctx.answered_trigger()?;
    let round_trip = ctx.round_trip_to_sender()?;
    if round_trip < Span::from_millis(1) {
        return None;
    }
    let latency = ctx.reset.segment.at.ts.since(trigger.at.ts);
    let said = format!(
        "RST came {latency} after the segment it answers (frame {}); a round trip to the {} takes {round_trip}",
        trigger.at.frame,
        ctx.sender_name()
    );
    if latency.0.saturating_mul(2) < round_trip.0 {
        Some(Evidence::path(
            Signal::TooFast,
            3,
            format!("{said}: it came from nearer than the {}", ctx.sender_name()),
        ))
    } else if latency.0.saturating_mul(5) >= round_trip.0.saturating_mul(4) {
        // Consistent with the sender, but also with any device as far away: context only.
        Some(Evidence::neutral(
            Signal::TimingConsistent,
            format!("{said}: consistent with the {}", ctx.sender_name()),
        ))
    } else {
        None
    }
}

/// The IPv4 identification against the sender's counter.
pub(super) fn ip_id(ctx: &Context<'_>) -> Option<Evidence> {
    let rst = &ctx.reset.segment;
    let id = rst.ip_id?;
    if id == 0 {
        return Some(Evidence::neutral(
            Signal::IpIdZero,
            format!(
                "IP ID 0{}: how Linux sends a reply RST when it has no socket, and also how Linux-based firewalls send theirs",
                if rst.df { " with DF" } else { "" }
            ),
        ));
    }
    let ids = &ctx.sender_side.ip_id;
    let last = ids.last?;
    let counts_up = ids.small_steps >= 1 && ids.small_steps > ids.jumps * 2;
    if !counts_up {
        return None;
    }
    let step = id.wrapping_sub(last);
    if (1..=2048).contains(&step) {
        Some(Evidence::peer(
            Signal::IpIdContinues,
            2,
            format!(
                "IP ID {id} continues the {}'s counter (last {last})",
                ctx.sender_name()
            ),
        ))
    } else {
        Some(Evidence::path(
            Signal::IpIdJump,
            1,
            format!(
                "IP ID {id} does not continue the {}'s counter (last {last})",
                ctx.sender_name()
            ),
        ))
    }
}

/// The don't-fragment bit against the sender's habit.
pub(super) fn dont_fragment(ctx: &Context<'_>) -> Option<Evidence> {
    let rst = &ctx.reset.segment;
    let side = ctx.sender_side;
    let always_df = side.ordinary_packets >= 2 && side.df_packets == side.ordinary_packets;
    (rst.ip_id.is_some_and(|id| id != 0) && !rst.df && always_df).then(|| {
        Evidence::path(
            Signal::DfMismatch,
            1,
            format!(
                "RST was sent without DF; every other packet of the {} had it",
                ctx.sender_name()
            ),
        )
    })
}

/// The claimed sender kept talking after "its" reset: it never sent it (Weaver et al.).
pub(super) fn race(ctx: &Context<'_>) -> Option<Evidence> {
    let after = ctx.reset.after;
    if after.sender_data_segments > 0 {
        Some(Evidence::path(
            Signal::DataAfterReset,
            4,
            format!(
                "the {} sent {} more data segment{} after this RST: the real {} was still talking",
                ctx.sender_name(),
                after.sender_data_segments,
                if after.sender_data_segments == 1 {
                    ""
                } else {
                    "s"
                },
                ctx.sender_name()
            ),
        ))
    } else if after.sender_segments > 0 {
        Some(Evidence::path(
            Signal::TrafficAfterReset,
            3,
            format!(
                "the {} sent {} more segment{} (ACK or FIN) after this RST: it did not know of it",
                ctx.sender_name(),
                after.sender_segments,
                if after.sender_segments == 1 { "" } else { "s" }
            ),
        ))
    } else {
        None
    }
}

/// Several resets from one address within a second that differ in sequence number or TTL:
/// an injector covering the receive window, or several devices (Weaver et al.'s RST_SEQ_CHANGE).
/// A host without a socket can also answer several segments, so this only corroborates.
pub(super) fn burst(ctx: &Context<'_>) -> Option<Evidence> {
    let rst = &ctx.reset.segment;
    let close_by = |other: &&crate::flow::Reset| {
        other.segment.src == rst.src
            && other.segment.at.frame != rst.at.frame
            && other.segment.at.ts.since(rst.at.ts).0.unsigned_abs() <= 1_000_000_000
    };
    let others: Vec<&crate::flow::Reset> = ctx.flow.resets.iter().filter(close_by).collect();
    let seq_differs = others.iter().any(|o| o.segment.seq != rst.seq);
    let ttl_differs = others.iter().any(|o| o.segment.ttl != rst.ttl);
    (seq_differs || ttl_differs).then(|| {
        let what = match (seq_differs, ttl_differs) {
            (true, true) => "sequence numbers and TTLs",
            (true, false) => "sequence numbers",
            _ => "TTLs",
        };
        Evidence::path(
            Signal::ResetBurst,
            1,
            format!(
                "{} other RST{} from the same address within 1 s, with different {what}",
                others.len(),
                if others.len() == 1 { "" } else { "s" }
            ),
        )
    })
}

/// The RST's sequence number against the sender's next sequence number (RFC 9293 §3.10.7,
/// RFC 5961 §3: a genuine stack resets at exactly SND.NXT).
pub(super) fn sequence(ctx: &Context<'_>) -> Option<Evidence> {
    let expected = ctx.reset.sender_next_seq?;
    let seq = ctx.reset.segment.seq;
    let off = seq.distance(expected);
    if off == 0 {
        Some(Evidence::neutral(
            Signal::SeqExact,
            format!(
                "RST seq {seq} is exactly the {}'s next sequence number",
                ctx.sender_name()
            ),
        ))
    } else {
        Some(Evidence::path(
            Signal::SeqOff,
            1,
            format!(
                "RST seq {seq} is {} bytes {} the {}'s next sequence number {expected}",
                off.unsigned_abs(),
                if off > 0 { "beyond" } else { "behind" },
                ctx.sender_name()
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_ttl_buckets() {
        assert_eq!(initial_ttl(61), 64);
        assert_eq!(initial_ttl(64), 64);
        assert_eq!(initial_ttl(65), 128);
        assert_eq!(initial_ttl(252), 255);
        assert_eq!(initial_ttl(30), 32);
        assert_eq!(hops(47), 17);
    }
}
