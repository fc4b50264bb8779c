//! The RST frame's link-layer source address against the claimed sender's. A host on the
//! capture link sends every frame from its own MAC, which its other frames and ARP (or IPv6
//! neighbour discovery) name; a routed host's frames all arrive from its router's MAC, so there
//! a different MAC only says another router or a device beside the path put the RST on the link.

use super::context::Context;
use super::model::Clue;
use super::ttl::hops;
use super::{Finding, Signal};
use crate::decode::Mac;
use crate::flow::LinkSummary;

/// The link-address clue, when the frame and the sender's frames say something.
pub(super) fn clue(ctx: &Context<'_>) -> Option<Finding> {
    let mac = ctx.reset.link_src?;
    let sender = ctx.sender_ip();
    let announced = ctx.hosts.announced_mac(sender);
    let seen = ctx
        .hosts
        .host(sender)
        .map(|host| host.link)
        .unwrap_or_default();
    let untouched = ctx
        .baseline()
        .and_then(|baseline| baseline.ttl.usual())
        .is_some_and(|usual| hops(usual) == 0 || usual <= 2);
    if untouched || announced.is_some() {
        on_link(ctx, mac, announced, seen)
    } else {
        routed(ctx, mac, seen)
    }
}

fn on_link(
    ctx: &Context<'_>,
    mac: Mac,
    announced: Option<Mac>,
    seen: LinkSummary,
) -> Option<Finding> {
    let sender = ctx.sender_ip();
    let own = announced.or(seen.only())?;
    let how = if announced == Some(own) {
        format!("the link address ARP (or neighbour discovery) gave for {sender}")
    } else {
        format!("the link address every other frame of {sender} came from")
    };
    if mac == own {
        return Some(Finding::new(
            Signal::LinkAddressMatch,
            Clue::LinkSame,
            format!("the RST came from {mac}, {how} on the capture link"),
        ));
    }
    (!seen.includes(mac)).then(|| {
        Finding::new(
            Signal::LinkAddressMismatch,
            Clue::LinkOther,
            format!(
                "the RST came from link address {mac}, but {sender} is on the capture link at {own} ({how}): another device on the link sent it"
            ),
        )
    })
}

fn routed(ctx: &Context<'_>, mac: Mac, seen: LinkSummary) -> Option<Finding> {
    let router = seen.only()?;
    (mac != router).then(|| {
        Finding::new(
            Signal::LinkAddressMismatch,
            Clue::LinkOtherRouted,
            format!(
                "the RST came from link address {mac}; every other packet of {} arrived from {router} (its router): another router or a device beside the path put it on the link",
                ctx.sender_ip()
            ),
        )
    })
}

/// A RST the capturing box made: the sender's packets passed through it (the capture holds
/// each twice, before and after it), this RST was seen once, and with another TTL or link
/// address than the sender's packets as they came in.
pub(super) fn forwarding(ctx: &Context<'_>) -> Option<Finding> {
    let side = usize::from(ctx.sender == crate::flow::Side::Server);
    let passed = ctx.flow.forwarded()[side];
    if passed < 2 || ctx.reset.forwarded {
        return None;
    }
    let rst = &ctx.reset.segment;
    let ttl_differs = ctx
        .sender_side
        .ttl
        .usual()
        .is_some_and(|usual| usual != rst.ttl);
    let seen = ctx
        .hosts
        .host(ctx.sender_ip())
        .map(|host| host.link)
        .unwrap_or_default();
    let link_differs = ctx
        .reset
        .link_src
        .zip(seen.only())
        .is_some_and(|(mac, own)| mac != own);
    (ttl_differs || link_differs).then(|| {
        Finding::new(
            Signal::NotForwarded,
            Clue::NotForwarded,
            format!(
                "the {who}'s packets passed through the capturing box ({passed} of them seen twice, before and after it), but this RST was seen once, with {}: the box made it",
                if ttl_differs {
                    "another TTL than the sender's packets had as they came in"
                } else {
                    "another link address than the sender's packets"
                },
                who = ctx.sender_name()
            ),
        )
    })
}
