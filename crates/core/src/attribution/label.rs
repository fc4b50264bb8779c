//! The IPv6 flow label of the RST against the claimed sender's: a stack that labels a
//! connection's packets labels the resets it sends through that connection's socket.

use super::context::Context;
use super::hosts::is_refusal_shaped;
use super::model::{Clue, Situation};
use super::{Finding, Signal};
use crate::flow::Side;

/// The flow-label clue: an unlabelled RST from a sender whose every other packet in the flow
/// carried a label, while it still had its socket (it had sent no FIN and no earlier labelled
/// RST: an unlabelled earlier one is no more its own than this one).
///
/// RFC 6437 §3 asks a source to give all packets of a flow one label, and Linux labels every
/// TCP packet by default (`net.ipv6.auto_flowlabels`), its resets included. Without a socket
/// a stack answers from its control path: FreeBSD and macOS then send the RST unlabelled
/// (seen in `corpus/wild`: a client's RSTs after its own FIN), so only a sender that still
/// had its connection is held to its label.
pub(super) fn clue(ctx: &Context<'_>) -> Option<Finding> {
    let rst = &ctx.reset;
    if !rst.segment.src.is_ipv6() || rst.flow_label != 0 {
        return None;
    }
    let side = ctx.sender_side;
    let always_labelled = side.ordinary_packets >= 2 && !side.unlabelled_seen;
    let sender_closed = match ctx.sender {
        Side::Client => rst.before.client_fin,
        Side::Server => rst.before.server_fin,
    };
    // An earlier RST of the sender's own (labelled, as its packets were) ended its socket; an
    // earlier unlabelled one is as doubtful as this one and proves nothing of the kind.
    let own_earlier_reset = ctx.flow.resets.iter().any(|other| {
        other.segment.src == rst.segment.src
            && (other.segment.at.input, other.segment.at.frame)
                < (rst.segment.at.input, rst.segment.at.frame)
            && other.flow_label != 0
    });
    let had_socket = matches!(
        ctx.situation(),
        Situation::MidStream | Situation::AfterClose | Situation::AfterReset
    ) && !sender_closed
        && !own_earlier_reset;
    (always_labelled && had_socket).then(|| {
        Finding::new(
            Signal::FlowLabelMissing,
            Clue::FlowLabelMissing,
            format!(
                "RST carried no IPv6 flow label; the {}'s other {} packets in this flow all had one, and it still had its connection",
                ctx.sender_name(),
                side.ordinary_packets
            ),
        )
    })
}

/// The host-wide flow-label clue: an unlabelled refusal from an address whose every ordinary
/// packet in the capture carried a label and whose other refusals did too. Its stack labels
/// the resets of its control path (Linux's `tcp_v6_send_reset` goes through `ip6_xmit`, which
/// labels by the flow's hash), so an unlabelled one came from elsewhere: netfilter's `reject
/// with tcp reset` writes label 0 (`nf_reject_ip6hdr_put`, net/ipv6/netfilter/nf_reject_ipv6.c).
/// A BSD stack sends its refusals unlabelled, but then none of them carries a label, and the
/// clue stays silent.
pub(super) fn host_clue(ctx: &Context<'_>) -> Option<Finding> {
    let rst = &ctx.reset;
    if !rst.segment.src.is_ipv6()
        || rst.flow_label != 0
        || !is_refusal_shaped(rst.segment.flags, rst.segment.seq)
        || ctx.situation() != Situation::AnswersSyn
    {
        return None;
    }
    let labels = ctx.hosts.host(ctx.sender_ip())?.labels;
    labels.labels_its_refusals().then(|| {
        Finding::new(
            Signal::FlowLabelMissing,
            Clue::FlowLabelMissingHost,
            format!(
                "RST carried no IPv6 flow label; {} labelled all its {} other packets in the capture, and {} of its refusals",
                ctx.sender_ip(),
                labels.labelled,
                labels.labelled_refusals
            ),
        )
    })
}
