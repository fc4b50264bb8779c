//! The IPv4 identification and don't-fragment bit of the RST against the claimed sender's
//! habits: its counter in this flow, its one counter across flows (Windows), and DF.

use super::context::Context;
use super::model::{Clue, Situation};
use super::{Finding, Signal};

/// How far ahead of the last ID a continuing counter may be.
const FLOW_STEP: u16 = 2048;
/// A host's one counter runs on between sampled packets; allow it more room.
const HOST_STEP: u16 = 8192;

/// The IP ID clue.
pub(super) fn clue(ctx: &Context<'_>) -> Option<Finding> {
    let rst = &ctx.reset.segment;
    let id = rst.ip_id?;
    if id == 0 {
        return Some(Finding::neutral(
            Signal::IpIdZero,
            format!(
                "IP ID 0{}: how Linux sends a reply RST when it has no socket, and also how Linux-based firewalls send theirs",
                if rst.df { " with DF" } else { "" }
            ),
        ));
    }
    let flow_ids = &ctx.sender_side.ip_id;
    let flow_counts = flow_ids.last.is_some()
        && flow_ids.small_steps >= 1
        && flow_ids.small_steps > flow_ids.jumps * 2;
    if let Some(last) = flow_ids.last.filter(|_| flow_counts)
        && (1..=FLOW_STEP).contains(&id.wrapping_sub(last))
    {
        return Some(Finding::new(
            Signal::IpIdContinues,
            Clue::IpIdContinues,
            format!(
                "IP ID {id} continues the {}'s counter in this flow (last {last})",
                ctx.sender_name()
            ),
        ));
    }
    let host = ctx.hosts.host(ctx.sender_ip());
    let host_counts = host.is_some_and(|h| h.ip_id.is_one_counter());
    if let Some(last) = ctx.reset.host_ip_id_before.filter(|_| host_counts)
        && (1..=HOST_STEP).contains(&id.wrapping_sub(last))
    {
        return Some(Finding::new(
            Signal::IpIdContinues,
            Clue::IpIdHostCounter,
            format!(
                "IP ID {id} continues {}'s one counter across its connections (last {last} before the RST)",
                ctx.sender_ip()
            ),
        ));
    }
    // An address answered by two stacks (a SYN proxy in front of a server, a NAT) has two
    // counters: a break says nothing.
    let mut stacks: Vec<u8> = ctx
        .sender_side
        .ttl
        .values()
        .iter()
        .map(|v| super::ttl::initial_ttl(v.0))
        .collect();
    stacks.sort_unstable();
    stacks.dedup();
    if stacks.len() > 1 {
        return None;
    }
    let last = flow_ids.last.filter(|_| flow_counts)?;
    // Only after an earlier reset, after both FINs (TIME-WAIT, answered from Linux's control
    // socket) or alone is the host without its socket; after its own FIN it still has it.
    let before = &ctx.reset.before;
    let no_socket = matches!(ctx.situation(), Situation::AfterReset | Situation::Alone)
        || (before.client_fin && before.server_fin);
    Some(Finding::new(
        Signal::IpIdJump,
        if no_socket {
            Clue::IpIdJumpNoSocket
        } else {
            Clue::IpIdJump
        },
        format!(
            "IP ID {id} does not continue the {}'s counter (last {last})",
            ctx.sender_name()
        ),
    ))
}

/// The don't-fragment bit against the sender's habit.
pub(super) fn dont_fragment(ctx: &Context<'_>) -> Option<Finding> {
    let rst = &ctx.reset.segment;
    let side = ctx.sender_side;
    let always_df = side.ordinary_packets >= 2 && side.df_packets == side.ordinary_packets;
    (rst.ip_id.is_some_and(|id| id != 0) && !rst.df && always_df).then(|| {
        Finding::new(
            Signal::DfMismatch,
            Clue::DfMismatch,
            format!(
                "RST was sent without DF; every other packet of the {} had it",
                ctx.sender_name()
            ),
        )
    })
}
