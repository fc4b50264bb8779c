//! The per-flow sections: for each listed flow with resets, its facts and ladder diagram, then
//! for each reset its verdict, the Wireshark filter that finds it, the evidence table, the
//! explanation and the advice. The ladder itself is drawn by `ladder`.

use std::io::{self, Write};

use super::format::{badge, flag_names, human_duration, points_class};
use super::ladder::write_ladder;
use super::lanes::hops;
use super::{escape, fact};
use crate::report::{FlowReport, PacketReport, Report, ResetReport};

/// The listed flows that have at least one reset.
pub(super) fn reset_flows(report: &Report) -> impl Iterator<Item = &FlowReport> {
    report.flows.iter().filter(|f| !f.resets.is_empty())
}

/// One section per flow with resets.
pub(super) fn write_flows(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<main class=\"flows\">")?;
    let mut any = false;
    for flow in reset_flows(report) {
        any = true;
        write_flow(report, flow, out)?;
    }
    if !any {
        writeln!(
            out,
            "<p class=\"no-resets\">No listed flow has a reset.</p>"
        )?;
    }
    writeln!(out, "</main>")
}

/// A flow's facts, its ladder diagram, then each of its resets.
fn write_flow(report: &Report, flow: &FlowReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "<section class=\"flow\" id=\"flow-{id}\">\n<h2>Flow {id}: {} &rarr; {}</h2>",
        escape(&flow.client.to_string()),
        escape(&flow.server.to_string()),
        id = flow.id,
    )?;
    write_flow_facts(flow, out)?;
    write_ladder(flow, report.inputs.len() > 1, out)?;
    for reset in &flow.resets {
        write_reset(report, flow.id, reset, out)?;
    }
    if flow.resets_not_listed > 0 {
        writeln!(
            out,
            "<p class=\"note\">{} more RST segments in this flow were counted but not listed.</p>",
            flow.resets_not_listed
        )?;
    }
    writeln!(out, "</section>")
}

/// Endpoints, state, history, duration and per-side counters.
fn write_flow_facts(flow: &FlowReport, out: &mut dyn Write) -> io::Result<()> {
    let per_side = |c: u64, s: u64| format!("client {c}, server {s}");
    writeln!(out, "<dl class=\"facts flow-facts\">")?;
    let endpoints = format!(
        "{} &rarr; {}",
        escape(&flow.client.to_string()),
        escape(&flow.server.to_string())
    );
    fact(out, "Client → server", &endpoints)?;
    let state = format!(
        "<code>{}</code> (history <code>{}</code>), closed by {}",
        escape(&flow.conn_state),
        escape(&flow.history),
        escape(flow.close)
    );
    fact(out, "Zeek state", &state)?;
    let duration = format!(
        "{} ({} to {})",
        human_duration(flow.duration_s),
        escape(&flow.first_ts),
        escape(&flow.last_ts)
    );
    fact(out, "Duration", &duration)?;
    fact(
        out,
        "Packets",
        &per_side(flow.packets.client, flow.packets.server),
    )?;
    let bytes = per_side(flow.payload_bytes.client, flow.payload_bytes.server);
    fact(out, "Payload bytes", &bytes)?;
    if let Some(rtt) = flow.handshake_rtt_ms {
        fact(out, "Handshake RTT", &format!("{rtt:.1} ms"))?;
    }
    let r = &flow.retransmissions;
    fact(out, "Retransmissions", &per_side(r.client, r.server))?;
    let z = &flow.zero_windows;
    fact(out, "Zero windows", &per_side(z.client, z.server))?;
    if flow.tunneled {
        fact(
            out,
            "Tunnel",
            "found inside a tunnel (GRE, VXLAN, Geneve, ...)",
        )?;
    }
    writeln!(out, "</dl>")
}

/// One reset: verdict, where to find it, the evidence table, explanation and advice.
fn write_reset(
    report: &Report,
    flow: u64,
    reset: &ResetReport,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(
        out,
        "<div class=\"reset\" id=\"reset-{flow}-{}-{}\">\n<h3>RST at frame {} {}</h3>",
        reset.input,
        reset.frame,
        reset.frame,
        badge(reset.verdict)
    )?;
    writeln!(out, "<dl class=\"facts reset-facts\">")?;
    let verdict = format!(
        "{} confidence {:.0} %",
        badge(reset.verdict),
        reset.confidence * 100.0
    );
    fact(out, "Sent by", &verdict)?;
    fact(
        out,
        "Scenario",
        &format!("<code>{}</code>", escape(reset.scenario)),
    )?;
    let sent_as = format!(
        "the {} ({} &rarr; {}) at {}",
        escape(reset.from),
        escape(&reset.src.to_string()),
        escape(&reset.dst.to_string()),
        escape(&reset.ts)
    );
    fact(out, "Sent as", &sent_as)?;
    fact(out, "Segment", &escape(&segment_text(reset)))?;
    writeln!(out, "</dl>")?;
    write_wireshark_hint(report, reset, out)?;
    write_evidence(reset, out)?;
    writeln!(
        out,
        "<p class=\"explanation\">{}</p>",
        escape(&reset.explanation)
    )?;
    write_advice(&reset.advice, out)?;
    writeln!(out, "</div>")
}

/// The RST's header fields in one line.
fn segment_text(reset: &ResetReport) -> String {
    let ack = reset.ack.map(|a| format!(" ack {a}")).unwrap_or_default();
    let ip_id = reset
        .ip_id
        .map(|i| format!(", IP ID {i}"))
        .unwrap_or_default();
    format!(
        "{} seq {}{ack} len {}, TTL {} ({} hops){ip_id}, checksum {}",
        flag_names(&reset.flags),
        reset.seq,
        reset.len,
        reset.ttl,
        hops(reset.ttl),
        reset.checksum
    )
}

/// How to find the reset and the ladder's packets in Wireshark.
fn write_wireshark_hint(
    report: &Report,
    reset: &ResetReport,
    out: &mut dyn Write,
) -> io::Result<()> {
    let path = report
        .inputs
        .get(reset.input)
        .map_or("the capture", |i| i.path.as_str());
    write!(
        out,
        "<p class=\"wireshark\">Open <code>{}</code> in Wireshark with the display filter \
         <code>frame.number == {}</code>.",
        escape(path),
        reset.frame
    )?;
    let frames_of = |packets: &[PacketReport]| -> Vec<u64> {
        packets
            .iter()
            .filter(|p| p.input == reset.input)
            .map(|p| p.frame)
            .collect()
    };
    let (before, after) = (
        frames_of(&reset.packets_before),
        frames_of(&reset.packets_after),
    );
    if !before.is_empty() || !after.is_empty() {
        let mut all: Vec<u64> = before.iter().chain(&after).copied().collect();
        all.push(reset.frame);
        all.sort_unstable();
        all.dedup();
        write!(
            out,
            " Frames drawn around it in the ladder: before {}; after {} (all: <code>frame.number \
             in {{{}}}</code>).",
            frame_list(&before),
            frame_list(&after),
            join_numbers(&all, " ")
        )?;
    }
    writeln!(out, "</p>")
}

fn frame_list(frames: &[u64]) -> String {
    if frames.is_empty() {
        "none".to_string()
    } else {
        join_numbers(frames, ", ")
    }
}

fn join_numbers(numbers: &[u64], separator: &str) -> String {
    let texts: Vec<String> = numbers.iter().map(u64::to_string).collect();
    texts.join(separator)
}

/// Every signal weighed, and which way it points.
fn write_evidence(reset: &ResetReport, out: &mut dyn Write) -> io::Result<()> {
    if reset.evidence.is_empty() {
        return writeln!(
            out,
            "<p class=\"evidence-none\">No evidence was weighed.</p>"
        );
    }
    writeln!(
        out,
        "<table class=\"evidence\">\n<tr><th>Signal</th><th>Points to</th><th>Detail</th></tr>"
    )?;
    for evidence in &reset.evidence {
        writeln!(
            out,
            "<tr><td><code>{}</code></td><td class=\"points-{}\">{}</td><td>{}</td></tr>",
            escape(&evidence.signal),
            points_class(evidence.points_to),
            escape(evidence.points_to),
            escape(&evidence.detail)
        )?;
    }
    writeln!(out, "</table>")
}

/// The advice list, when there is any.
fn write_advice(advice: &[String], out: &mut dyn Write) -> io::Result<()> {
    if advice.is_empty() {
        return Ok(());
    }
    writeln!(out, "<ul class=\"advice\">")?;
    for item in advice {
        writeln!(out, "<li>{}</li>", escape(item))?;
    }
    writeln!(out, "</ul>")
}

#[cfg(test)]
mod tests {
    use crate::report::html::fixtures::{
        firewall_flow, flow, packet, peer_flow, render, report, reset,
    };

    #[test]
    fn one_ladder_per_reset_flow() {
        // Flow 2 has two resets whose context overlaps; flow 3 has none.
        let mut second = reset(7, 70.0, "peer", 52);
        second.packets_before = vec![packet(5, 52.0, 70.0, "server", "A", 52)];
        second.packets_after = vec![packet(8, 80.0, 70.0, "client", "A", 64)];
        let mut two = peer_flow(2);
        two.resets.push(second);
        let page = render(&report(vec![firewall_flow(1), two, flow(3, Vec::new())]));
        assert_eq!(page.matches("<svg class=\"ladder\"").count(), 2);
        assert_eq!(page.matches("<section class=\"flow\"").count(), 2);
        assert!(page.contains("<svg class=\"ladder\" data-flow=\"1\""));
        assert!(page.contains("<svg class=\"ladder\" data-flow=\"2\""));
        assert!(page.contains("id=\"flow-2\""));
        assert!(!page.contains("id=\"flow-3\""));
        // Frame 5 is context of both resets of flow 2, and is drawn once.
        let ladder2 = &page[page.find("data-flow=\"2\"").unwrap()..];
        let ladder2 = &ladder2[..ladder2.find("</svg>").unwrap()];
        assert_eq!(ladder2.matches("data-frame=\"5\"").count(), 1);
        assert_eq!(ladder2.matches("class=\"pkt rst\"").count(), 2);
        assert_eq!(ladder2.matches("data-frame=").count(), 8);
    }
}
