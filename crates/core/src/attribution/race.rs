//! What the claimed sender and its neighbours did around the RST: a host that really reset a
//! connection falls silent (Weaver, Sommer, Paxson, "Detecting Forged TCP Reset Packets",
//! NDSS 2009), and an injector covering a window sends several RSTs with other sequence
//! numbers or TTLs.

use super::context::Context;
use super::model::Clue;
use super::{Finding, Signal};
use crate::flow::Reset;

/// The claimed sender kept talking after "its" reset.
pub(super) fn clue(ctx: &Context<'_>) -> Option<Finding> {
    let after = ctx.reset.after;
    let who = ctx.sender_name();
    let plural = |n: u32| if n == 1 { "" } else { "s" };
    if after.sender_data_segments > 0 {
        let n = after.sender_data_segments;
        Some(Finding::new(
            Signal::DataAfterReset,
            Clue::DataAfterReset,
            format!(
                "the {who} sent {n} more data segment{} after this RST: the real {who} was still talking",
                plural(n)
            ),
        ))
    } else if after.sender_segments > 0 {
        let n = after.sender_segments;
        Some(Finding::new(
            Signal::TrafficAfterReset,
            Clue::TrafficAfterReset,
            format!(
                "the {who} sent {n} more segment{} (ACK or FIN) after this RST: it did not know of it",
                plural(n)
            ),
        ))
    } else {
        later_own_reset(ctx)
    }
}

/// A later RST from the same address with the sender's own TTL, where this one carries
/// another: the real host was still there to reset the connection itself, so this RST was not
/// its (a forged RST racing the real close; Weaver et al.'s RST_ACK_CHANGE). The other order, a
/// host's own RST and then others with a strange TTL, is a device answering after the
/// connection ended, and does not count here.
fn later_own_reset(ctx: &Context<'_>) -> Option<Finding> {
    let rst = &ctx.reset.segment;
    let own = ctx.sender_side.ttl.usual()?;
    if ctx.sender_side.ttl.spread() > 1 || rst.ttl.abs_diff(own) <= 1 {
        return None;
    }
    let position = ctx
        .flow
        .resets
        .iter()
        .position(|other| std::ptr::eq(other, ctx.reset))?;
    let genuine = ctx.flow.resets[position + 1..]
        .iter()
        .find(|other| other.segment.src == rst.src && other.segment.ttl == own)?;
    Some(Finding::new(
        Signal::TrafficAfterReset,
        Clue::TrafficAfterReset,
        format!(
            "the {who} reset the connection itself later (frame {}, with its own TTL {own}; this RST has TTL {}): the real {who} was still there after this one",
            genuine.segment.at.frame,
            rst.ttl,
            who = ctx.sender_name()
        ),
    ))
}

/// RSTs back to back from one address with different sequence numbers and nothing from the
/// other side between them: a volley covering the receive window, which only an injector sends
/// (Weaver et al.'s RST_SEQ_CHANGE). A host without a socket answers each arriving segment once.
fn volley(ctx: &Context<'_>) -> Option<Finding> {
    let rst = &ctx.reset.segment;
    let notes = ctx
        .reset
        .packets_before
        .iter()
        .rev()
        .take(1)
        .chain(ctx.reset.packets_after.iter().take(1));
    let neighbours: Vec<_> = notes
        .filter(|n| n.src == rst.src && n.flags.rst() && n.seq != rst.seq)
        .filter(|n| n.at.ts.since(rst.at.ts).0.unsigned_abs() <= 10_000_000)
        .collect();
    let next_to = neighbours.first()?;
    // A host without a socket answers each segment with that segment's ack, which never lies
    // beyond what the host sent; an injector's volley steps past it to cover the window.
    let sent = ctx.reset.sender_next_seq?;
    if [rst.seq, next_to.seq]
        .iter()
        .all(|seq| seq.distance(sent) <= 0)
    {
        return None;
    }
    Some(Finding::new(
        Signal::ResetBurst,
        Clue::ResetVolley,
        format!(
            "RSTs back to back from the same address (this and frame {}), {} bytes apart in sequence, with nothing from the other side between them: a volley covering the receive window, as injectors send",
            next_to.at.frame,
            next_to.seq.distance(rst.seq).unsigned_abs()
        ),
    ))
}

/// Several resets from one address within a second that differ in sequence number or TTL:
/// an injector covering the receive window, or several devices (Weaver et al.'s
/// RST_SEQ_CHANGE). A host without a socket also answers several segments, so this only
/// corroborates.
pub(super) fn burst(ctx: &Context<'_>) -> Option<Finding> {
    if let Some(finding) = volley(ctx) {
        return Some(finding);
    }
    let rst = &ctx.reset.segment;
    let close_by = |other: &&Reset| {
        other.segment.src == rst.src
            && other.segment.at != rst.at
            && other.segment.at.ts.since(rst.at.ts).0.unsigned_abs() <= 1_000_000_000
    };
    let others: Vec<&Reset> = ctx.flow.resets.iter().filter(close_by).collect();
    let seq_differs = others.iter().any(|o| o.segment.seq != rst.seq);
    let ttl_differs = others.iter().any(|o| o.segment.ttl != rst.ttl);
    (seq_differs || ttl_differs).then(|| {
        let what = match (seq_differs, ttl_differs) {
            (true, true) => "sequence numbers and TTLs",
            (true, false) => "sequence numbers",
            _ => "TTLs",
        };
        Finding::new(
            Signal::ResetBurst,
            Clue::ResetBurst,
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
pub(super) fn sequence(ctx: &Context<'_>) -> Option<Finding> {
    let expected = ctx.reset.sender_next_seq?;
    let seq = ctx.reset.segment.seq;
    let off = seq.distance(expected);
    let who = ctx.sender_name();
    Some(if off == 0 {
        Finding::new(
            Signal::SeqExact,
            Clue::SeqExact,
            format!("RST seq {seq} is exactly the {who}'s next sequence number"),
        )
    } else {
        Finding::new(
            Signal::SeqOff,
            if off > 0 {
                Clue::SeqBeyond
            } else if echoes_an_ack(ctx) {
                Clue::SeqOff
            } else {
                Clue::SeqUnexplained
            },
            format!(
                "RST seq {seq} is {} bytes {} the {who}'s next sequence number {expected}",
                off.unsigned_abs(),
                if off > 0 { "beyond" } else { "behind" },
            ),
        )
    })
}

/// True when the RST's seq is the ack of a segment the other side sent before it (the recent
/// ones the flow kept): what a stack without a socket answers with.
fn echoes_an_ack(ctx: &Context<'_>) -> bool {
    let rst = &ctx.reset.segment;
    ctx.reset
        .packets_before
        .iter()
        .chain(ctx.reset.trigger.iter())
        .any(|seg| seg.src != rst.src && seg.ack == Some(rst.seq))
}
