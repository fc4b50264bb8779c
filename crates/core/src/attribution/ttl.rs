//! The TTL (IPv6 hop limit) of the RST against the claimed sender's other packets, and what an
//! untouched TTL says about where a RST was sent: on the capturing host, on its link, or
//! (when the address is elsewhere) forged on the link. All of these read one byte, so they
//! form one group and only the strongest counts.
//!
//! Distances are stated only where they can be known: a RST with another initial TTL than
//! its claimed sender comes from another stack at a distance the TTL cannot tell.

use std::net::IpAddr;

use super::context::{Baseline, Context};
use super::model::Clue;
use super::{Finding, Signal};
use crate::flow::TtlSummary;

/// The initial TTL a sender most likely used: the smallest common default not below `ttl`.
pub(crate) fn initial_ttl(ttl: u8) -> u8 {
    [32u8, 64, 128, 255]
        .into_iter()
        .find(|&initial| initial >= ttl)
        .unwrap_or(255)
}

/// Routers between the sender and the capture point, from the TTL left.
pub(crate) fn hops(ttl: u8) -> u8 {
    initial_ttl(ttl).saturating_sub(ttl)
}

/// TTLs this low arrive only from the capture link: applications set them (eBGP sends at 1)
/// and a router would have dropped them.
const LINK_ONLY_TTL: u8 = 2;

/// True when an application setting its own TTL on a link explains both values: eBGP sends at
/// 1 (no kernel uses that default), GTSM at 255 (RFC 5082) from a host whose kernel resets at
/// 32, 64 or 128. A kernel at 64 does not reset at 255: that is another stack.
fn explains_app_ttl(usual: u8, rst_ttl: u8) -> bool {
    usual <= LINK_ONLY_TTL || (usual == 255 && rst_ttl < 255)
}

/// True when a packet with this TTL crossed no router.
pub(super) fn is_untouched(ttl: u8) -> bool {
    hops(ttl) == 0 || ttl <= LINK_ONLY_TTL
}

pub(super) fn describe(ttl: u8) -> String {
    match hops(ttl) {
        0 => format!("TTL {ttl} (untouched)"),
        1 => format!("TTL {ttl} (1 hop if sent at {})", initial_ttl(ttl)),
        n => format!("TTL {ttl} ({n} hops if sent at {})", initial_ttl(ttl)),
    }
}

/// The TTL clue for a reset: the strongest that applies.
pub(super) fn clue(ctx: &Context<'_>) -> Finding {
    let rst_ttl = ctx.reset.segment.ttl;
    let sender = ctx.sender_ip();
    if ctx.hosts.is_own_address(sender) {
        return Finding::new(
            Signal::OwnAddress,
            Clue::OwnAddress,
            format!(
                "the RST carries {sender}, an address of the capturing host's interface: this host sent it"
            ),
        );
    }
    let Some(baseline) = ctx.baseline() else {
        return without_baseline(ctx, rst_ttl);
    };
    let values = baseline.ttl.values();
    let Some(usual) = baseline.ttl.usual() else {
        return without_baseline(ctx, rst_ttl);
    };
    let what = baseline_words(ctx, &baseline);
    // A host that sends crafted packets (a scanner's raw probes carry random TTLs) has no
    // usual TTL, even where one flow holds a single probe.
    let host_noisy = ctx
        .hosts
        .ttl(sender)
        .is_some_and(|host| baseline.in_flow && baseline.packets <= 3 && is_noisy(host));
    if is_noisy(baseline.ttl) || host_noisy {
        let seen: Vec<String> = values.iter().map(|v| v.0.to_string()).collect();
        return Finding::neutral(
            Signal::TtlUnreliable,
            format!(
                "RST arrived with {}; {what} arrived with many different TTLs ({}{}): crafted packets (a scanner's) or several machines, so TTL cannot tell who sent the RST",
                describe(rst_ttl),
                seen.join(", "),
                if baseline.ttl.others > 0 {
                    " and more"
                } else {
                    ""
                }
            ),
        );
    }
    if let Some(finding) = crafted_in_flow(ctx, &baseline, usual) {
        return finding;
    }
    let mut stacks: Vec<u8> = values.iter().map(|v| initial_ttl(v.0)).collect();
    stacks.sort_unstable();
    stacks.dedup();
    if stacks.len() > 1 {
        let seen: Vec<String> = values.iter().map(|v| v.0.to_string()).collect();
        return Finding::neutral(
            Signal::TtlUnreliable,
            format!(
                "RST arrived with {}; {what} arrived from more than one stack (TTLs {}): the address is shared (NAT, proxy, load balancer), so TTL cannot tell who sent the RST",
                describe(rst_ttl),
                seen.join(", ")
            ),
        );
    }
    compare(ctx, &baseline, usual, &what)
}

/// A flow whose few packets carry a TTL its host seldom uses, while the RST carries the host's
/// usual one: the flow's packets were crafted (a scanner's raw probes, sent beside its kernel's
/// own traffic), and the RST is the host's kernel answering what they drew.
fn crafted_in_flow(ctx: &Context<'_>, baseline: &Baseline<'_>, in_flow: u8) -> Option<Finding> {
    let rst_ttl = ctx.reset.segment.ttl;
    let host = ctx.hosts.host(ctx.sender_ip())?;
    let host_usual = host.ttl.usual()?;
    let seen_with = |ttl: u8| {
        host.ttl
            .values()
            .iter()
            .find(|v| v.0 == ttl)
            .map_or(0, |v| u32::from(v.1))
    };
    let rare_in_flow_ttl = seen_with(in_flow) * 5 < host.packets;
    let fits = baseline.in_flow
        && baseline.packets <= 3
        && host.packets >= 8
        && host_usual == rst_ttl
        && in_flow != rst_ttl
        && rare_in_flow_ttl;
    fits.then(|| {
        Finding::new(
            Signal::TtlMatch,
            Clue::TtlSameElsewhere,
            format!(
                "RST arrived with {}, {}'s usual TTL (in {} of its {} packets sampled); this flow's other packets had TTL {in_flow}, which the host seldom uses: crafted packets (a raw socket, as scanners send), which its kernel's RST answered",
                describe(rst_ttl),
                ctx.sender_ip(),
                seen_with(rst_ttl),
                host.packets
            ),
        )
    })
}

/// The RST's TTL differs from the sender's in this flow but is one the address's packets
/// carry in other flows (RSTs never enter baselines): another machine answering for the same
/// address, a standby after a failover or another backend, not a device forging in its name.
fn shared_address(ctx: &Context<'_>, rst_ttl: u8, told: &str) -> Option<Finding> {
    let host = ctx.hosts.host(ctx.sender_ip())?;
    let in_flow = ctx.sender_side.ttl.values();
    let elsewhere = host
        .ttl
        .values()
        .iter()
        .find(|v| v.0 == rst_ttl)
        .map_or(0, |v| v.1);
    let here = in_flow.iter().find(|v| v.0 == rst_ttl).map_or(0, |v| v.1);
    (elsewhere >= here + 2).then(|| {
        Finding::new(
            Signal::TtlMatch,
            Clue::TtlSharedAddress,
            format!(
                "{told}, but {}'s packets in other flows carry TTL {rst_ttl} too ({} of them): another machine answers for this address (a standby that took it over, or another backend)",
                ctx.sender_ip(),
                elsewhere - here
            ),
        )
    })
}

/// The sentence's name for the baseline.
fn baseline_words(ctx: &Context<'_>, baseline: &Baseline<'_>) -> String {
    match (baseline.in_flow, baseline.packets) {
        (true, 1) => format!("the {}'s one other packet in this flow", ctx.sender_name()),
        (true, n) => format!("the {}'s other {n} packets in this flow", ctx.sender_name()),
        (false, _) => format!("{}'s packets in other flows", ctx.sender_ip()),
    }
}

/// Many TTL values with no clear usual one: raw probes with random TTLs, or a busy NAT.
fn is_noisy(ttl: &TtlSummary) -> bool {
    let values = ttl.values();
    let total: u32 = values.iter().map(|v| u32::from(v.1)).sum::<u32>() + ttl.others;
    let usual = values.iter().map(|v| u32::from(v.1)).max().unwrap_or(0);
    let (low, high) = values
        .iter()
        .fold((u8::MAX, 0), |(lo, hi), v| (lo.min(v.0), hi.max(v.0)));
    values.len() >= 3 && high.saturating_sub(low) > 3 && usual * 5 < total * 3
}

fn compare(ctx: &Context<'_>, baseline: &Baseline<'_>, usual: u8, what: &str) -> Finding {
    let rst_ttl = ctx.reset.segment.ttl;
    let in_flow = baseline.in_flow;
    let told = format!(
        "RST arrived with {}; {what} with {}",
        describe(rst_ttl),
        describe(usual)
    );
    if hops(rst_ttl) == 0 && !is_untouched(usual) {
        // An untouched RST was sent on the capture link, whatever its initial TTL; the
        // sender's packets crossed routers (at least this many, as no initial TTL is lower).
        let routers = hops(usual);
        let off_link = ctx.receiver_is_capture_host()
            && network_relation(ctx.sender_ip(), ctx.receiver_ip()) == Relation::Other;
        let clue = match (in_flow, routers) {
            (true, _) => Clue::TtlNearerInFlow,
            (false, 4..) => Clue::TtlMuchNearerElsewhere,
            // Sent on the capture link in the name of a host on another network.
            (false, _) if off_link => Clue::TtlOffLinkUntouched,
            (false, _) => Clue::TtlNearerElsewhere,
        };
        return Finding::new(
            Signal::TtlMismatch,
            clue,
            format!(
                "{told}: the RST was sent on the capture link, while the {} is {routers} or more hops away",
                ctx.sender_name()
            ),
        );
    }
    // TTL 1 or 2 is an application's own (eBGP), whatever bucket it falls in: the kernel's
    // untouched RST beside it is the same host's, not one "31 hops nearer".
    if usual <= LINK_ONLY_TTL && is_untouched(rst_ttl) && rst_ttl != usual {
        return Finding::new(
            Signal::TtlMismatch,
            Clue::TtlOtherStackSameLink,
            format!(
                "{told}: both were sent on the capture link; an application that sets its own TTL (BGP at 1) beside a kernel that resets at its default looks like this"
            ),
        );
    }
    if initial_ttl(rst_ttl) != initial_ttl(usual) {
        if in_flow && let Some(finding) = shared_address(ctx, rst_ttl, &told) {
            return finding;
        }
        if is_untouched(rst_ttl) && is_untouched(usual) && explains_app_ttl(usual, rst_ttl) {
            return Finding::new(
                Signal::TtlMismatch,
                Clue::TtlOtherStackSameLink,
                format!(
                    "{told}: both untouched, so both were sent on the capture link; an application that sets its own TTL (BGP, GTSM) beside a kernel that resets at its default looks like this"
                ),
            );
        }
        if hops(rst_ttl) == hops(usual) && in_flow {
            return Finding::new(
                Signal::TtlMismatch,
                Clue::TtlOtherStackSameDistance,
                format!(
                    "{told}: another initial TTL, but as many routers crossed: another machine at the {}'s place (a standby that took the address over, another backend, or a transparent device in front of it)",
                    ctx.sender_name()
                ),
            );
        }
        return Finding::new(
            Signal::TtlMismatch,
            pick(
                in_flow,
                Clue::TtlOtherStackInFlow,
                Clue::TtlOtherStackElsewhere,
            ),
            format!(
                "{told}: another initial TTL, so another stack sent the RST, at a distance its TTL cannot tell"
            ),
        );
    }
    let delta = i32::from(rst_ttl) - i32::from(usual);
    let spread = baseline.ttl.spread();
    if in_flow
        && delta.unsigned_abs() > u32::from(spread.min(1))
        && let Some(finding) = shared_address(ctx, rst_ttl, &told)
    {
        return finding;
    }
    if delta.unsigned_abs() <= u32::from(spread.min(1)) {
        if is_untouched(usual) && is_untouched(rst_ttl) && !ctx.hosts.spans_links() {
            return Finding::new(
                Signal::CaptureHost,
                Clue::TtlUntouchedSame,
                format!(
                    "{told}: the {} is the capturing host or on its link, and so was the RST's sender",
                    ctx.sender_name()
                ),
            );
        }
        return Finding::new(
            Signal::TtlMatch,
            pick(in_flow, Clue::TtlSameInFlow, Clue::TtlSameElsewhere),
            format!("{told}: the same distance"),
        );
    }
    let (clue, how) = match delta {
        1 => (
            pick(
                in_flow,
                Clue::TtlOneNearerInFlow,
                Clue::TtlOneNearerElsewhere,
            ),
            "it came from 1 hop nearer".to_string(),
        ),
        d if d > 1 => (
            match (in_flow, d) {
                (true, _) => Clue::TtlNearerInFlow,
                (false, 4..) => Clue::TtlMuchNearerElsewhere,
                (false, _) => Clue::TtlNearerElsewhere,
            },
            format!("it came from {d} hops nearer"),
        ),
        -1 => (
            Clue::TtlOneLower,
            "1 lower, which a route change can also explain".to_string(),
        ),
        d => (
            pick(in_flow, Clue::TtlLowerInFlow, Clue::TtlLowerElsewhere),
            format!(
                "{} lower: another sender (with its own initial TTL, or farther away)",
                -d
            ),
        ),
    };
    Finding::new(Signal::TtlMismatch, clue, format!("{told}: {how}"))
}

fn pick(in_flow: bool, here: Clue, elsewhere: Clue) -> Clue {
    if in_flow { here } else { elsewhere }
}

/// No packet of the sender to compare with: an untouched RST still tells where it was sent.
fn without_baseline(ctx: &Context<'_>, rst_ttl: u8) -> Finding {
    let (sender, receiver) = (ctx.sender_ip(), ctx.receiver_ip());
    if let Some(finding) = nearer_than_other_resets(ctx, rst_ttl) {
        return finding;
    }
    if is_untouched(rst_ttl) && ctx.receiver_is_capture_host() {
        let on = match network_relation(sender, receiver) {
            Relation::Same => {
                return Finding::new(
                    Signal::OnLink,
                    Clue::TtlOnLinkNoBaseline,
                    format!(
                        "RST arrived with {}, so it was sent on the capture link, and {sender} is on the capturing host {receiver}'s own network: a host on the link answered for itself",
                        describe(rst_ttl)
                    ),
                );
            }
            Relation::Other => "another network",
            Relation::Unclear => return no_baseline(ctx, rst_ttl),
        };
        return Finding::new(
            Signal::OffLink,
            Clue::TtlOffLinkUntouched,
            format!(
                "RST arrived with {}, so it was sent on the capture link, but {sender} is on {on} than the capturing host {receiver}: its own packets would have crossed a router",
                describe(rst_ttl)
            ),
        );
    }
    no_baseline(ctx, rst_ttl)
}

/// A host that sent nothing but RSTs, from two distances: the nearer ones came from a device
/// in front of it (distances estimated from each RST's own initial TTL).
fn nearer_than_other_resets(ctx: &Context<'_>, rst_ttl: u8) -> Option<Finding> {
    let resets = &ctx.hosts.host(ctx.sender_ip())?.reset_ttl;
    let farthest = resets
        .values()
        .iter()
        .map(|v| v.0)
        .max_by_key(|&ttl| hops(ttl))?;
    let nearer_by = hops(farthest)
        .checked_sub(hops(rst_ttl))
        .filter(|&n| n > 0)?;
    Some(Finding::new(
        Signal::TtlMismatch,
        Clue::TtlNearerThanOtherResets,
        format!(
            "RST arrived with {}; {} sent nothing but RSTs, and others of them came from {nearer_by} hop{} farther ({}): two senders, and a device in front of the host is the nearer one",
            describe(rst_ttl),
            ctx.sender_ip(),
            if nearer_by == 1 { "" } else { "s" },
            describe(farthest)
        ),
    ))
}

fn no_baseline(ctx: &Context<'_>, rst_ttl: u8) -> Finding {
    Finding::neutral(
        Signal::TtlBaseline,
        format!(
            "RST arrived with {}; the capture holds no other packet from {} to compare it with",
            describe(rst_ttl),
            ctx.sender_ip()
        ),
    )
}

/// Whether two addresses share a link by the usual addressing: the same /64 for IPv6, the
/// same /24 for IPv4; another network is another /64, or another /16.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relation {
    Same,
    Other,
    Unclear,
}

fn network_relation(a: IpAddr, b: IpAddr) -> Relation {
    match (a, b) {
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            if a.segments()[..4] == b.segments()[..4] {
                Relation::Same
            } else {
                Relation::Other
            }
        }
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let (a, b) = (a.octets(), b.octets());
            if a[..3] == b[..3] {
                Relation::Same
            } else if a[..2] != b[..2] {
                Relation::Other
            } else {
                Relation::Unclear
            }
        }
        _ => Relation::Unclear,
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

    #[test]
    fn networks_by_prefix() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            network_relation(ip("192.0.2.1"), ip("192.0.2.9")),
            Relation::Same
        );
        assert_eq!(
            network_relation(ip("192.0.2.1"), ip("198.51.100.9")),
            Relation::Other
        );
        assert_eq!(
            network_relation(ip("10.1.2.1"), ip("10.1.3.9")),
            Relation::Unclear
        );
        assert_eq!(
            network_relation(ip("2001:db8:c::10"), ip("2001:db8:5::7")),
            Relation::Other
        );
    }
}
