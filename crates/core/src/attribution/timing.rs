//! How soon the RST came after the segment it provably answers, against the round trip from
//! the capture point to the claimed sender: a RST cannot beat its sender's round trip.

use super::context::Context;
use super::model::Clue;
use super::ttl::{hops, initial_ttl, is_untouched};
use super::{Finding, Signal};
use crate::time::Span;

/// The timing clue, only for a RST that provably answers a segment (so a server abort that
/// crosses an ACK in flight is not mistaken for a fast forgery).
pub(super) fn clue(ctx: &Context<'_>) -> Option<Finding> {
    let trigger = ctx.answered_trigger()?;
    let round_trip = ctx.round_trip_to_sender()?;
    if round_trip < Span::from_millis(1) {
        return None;
    }
    let latency = ctx.reset.segment.at.ts.since(trigger.at.ts);
    if latency.0 < 0 {
        // Time ran backwards in the capture: nothing can be measured.
        return None;
    }
    let said = format!(
        "RST came {latency} after the segment it answers (frame {}); a round trip to the {} takes {round_trip}",
        trigger.at.frame,
        ctx.sender_name()
    );
    if latency.0.saturating_mul(2) < round_trip.0 && is_other_stack_at_sender_distance(ctx) {
        // Another machine at the sender's hop count (a standby, or a transparent device on its
        // last link): timing only says where along that link, which both would be.
        Some(Finding::neutral(
            Signal::TooFast,
            format!(
                "{said}: sooner than the {}, as a machine on its last link would be, whether a standby or a device",
                ctx.sender_name()
            ),
        ))
    } else if latency.0.saturating_mul(2) < round_trip.0 {
        Some(Finding::new(
            Signal::TooFast,
            Clue::TooFast,
            format!("{said}: it came from nearer than the {}", ctx.sender_name()),
        ))
    } else if latency.0.saturating_mul(5) >= round_trip.0.saturating_mul(4) {
        let consistent = format!("{said}: consistent with the {}", ctx.sender_name());
        Some(if is_just_before_sender(ctx) {
            // The TTL puts whoever sent the RST a hop or two in front of the claimed sender:
            // a device there answers as late as the sender would, so timing tells nothing.
            Finding::neutral(
                Signal::TimingConsistent,
                format!(
                    "{consistent}, and with a device a hop or two in front of it, where the TTL puts the RST's sender"
                ),
            )
        } else {
            Finding::new(Signal::TimingConsistent, Clue::TimingConsistent, consistent)
        })
    } else {
        None
    }
}

/// True when the RST arrived one or two hops nearer than the claimed sender's packets, with
/// the same initial TTL, or both were sent on the capture link.
fn is_just_before_sender(ctx: &Context<'_>) -> bool {
    let rst = ctx.reset.segment.ttl;
    ctx.baseline()
        .and_then(|baseline| baseline.ttl.usual())
        .is_some_and(|usual| {
            // Both untouched: whoever sent the RST is on the sender's own link; another stack
            // as many routers away: at the sender's place.
            (is_untouched(usual) && is_untouched(rst))
                || (initial_ttl(usual) != initial_ttl(rst) && hops(usual) == hops(rst))
                || initial_ttl(usual) == initial_ttl(rst)
                    && (1..=2).contains(&(i32::from(rst) - i32::from(usual)))
        })
}

/// True when the RST has another initial TTL than the claimed sender's packets in this flow but
/// crossed as many routers.
fn is_other_stack_at_sender_distance(ctx: &Context<'_>) -> bool {
    let rst = ctx.reset.segment.ttl;
    ctx.sender_side.ttl.usual().is_some_and(|usual| {
        initial_ttl(usual) != initial_ttl(rst) && hops(usual) == hops(rst) && hops(rst) > 0
    })
}
