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
