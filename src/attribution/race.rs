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
        None
    }
}

/// Several resets from one address within a second that differ in sequence number or TTL:
/// an injector covering the receive window, or several devices (Weaver et al.'s
/// RST_SEQ_CHANGE). A host without a socket also answers several segments, so this only
/// corroborates.
pub(super) fn burst(ctx: &Context<'_>) -> Option<Finding> {
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
            Clue::SeqOff,
            format!(
                "RST seq {seq} is {} bytes {} the {who}'s next sequence number {expected}",
                off.unsigned_abs(),
                if off > 0 { "beyond" } else { "behind" },
            ),
        )
    })
}
