//! The flow sections: for each group with a section, its first flows in full (facts, ladder,
//! then for each reset its verdict, explanation, advice, evidence and the Wireshark filter
//! that finds it) and its next flows as table rows; then one table of the other groups'
//! flows. What goes where is `plan`'s choice; the ladder is drawn by `ladder`.

use std::io::{self, Write};

use super::format::{badge, flag_names, human_duration, points_class};
use super::ladder::write_ladder;
use super::plan::{Plan, Section};
use super::{escape, fact};
use crate::report::diagnosis::{self, count, hops_in_words};
use crate::report::ticket::weight;
use crate::report::view::{View, display_path, seq_text, stream_filter};
use crate::report::{FlowReport, PacketReport, Report, ResetReport};

/// The group sections and the table of the other flows.
pub(super) fn write_flows(
    report: &Report,
    view: &View,
    plan: &Plan<'_>,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out, "<main class=\"flows\">")?;
    for section in &plan.sections {
        write_section(report, view, section, out)?;
    }
    if !plan.others.is_empty() {
        writeln!(
            out,
            "<section class=\"group\" id=\"other-flows\">\n<h2>Flows of the other groups</h2>"
        )?;
        write_rows(report, view, &plan.others, out)?;
        if plan.others_not_shown > 0 {
            writeln!(
                out,
                "<p class=\"note\">{} not shown: --all lists every flow, --format json gives them all.</p>",
                count(plan.others_not_shown, "more flow")
            )?;
        }
        writeln!(out, "</section>")?;
    }
    if plan.sections.iter().all(|s| s.full.is_empty()) && plan.others.is_empty() {
        writeln!(
            out,
            "<p class=\"no-resets\">No listed flow has a reset.</p>"
        )?;
    }
    writeln!(out, "</main>")
}

/// One group: its sentence, its first flows in full, the next as rows.
fn write_section(
    report: &Report,
    view: &View,
    section: &Section<'_>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let Some(group) = report.summary.groups.get(section.group) else {
        return Ok(());
    };
    let n = section.group + 1;
    writeln!(
        out,
        "<section class=\"group\" id=\"group-{n}-flows\">\n<h2>Group {n}: {} <code>{}</code>, {}</h2>",
        badge(group.verdict),
        escape(group.scenario),
        escape(&diagnosis::size_in_words(group))
    )?;
    writeln!(out, "<p>{}.</p>", escape(&diagnosis::sentence(group)))?;
    for flow in &section.full {
        write_flow(report, view, flow, out)?;
    }
    if !section.rows.is_empty() {
        writeln!(out, "<h3>More flows of group {n}</h3>")?;
        write_rows(report, view, &section.rows, out)?;
    }
    if section.not_shown > 0 {
        writeln!(
            out,
            "<p class=\"note\">{} of this group not shown: --all lists every flow, --format json gives them all with their evidence.</p>",
            count(section.not_shown, "more flow")
        )?;
    }
    writeln!(out, "</section>")
}

/// Flows one per row: id, time, ends, first RST, verdict, scenario, further resets.
fn write_rows(
    report: &Report,
    view: &View,
    flows: &[&FlowReport],
    out: &mut dyn Write,
) -> io::Result<()> {
    let several = report.inputs.len() > 1;
    writeln!(
        out,
        "<table class=\"flow-rows\">\n<tr><th>Flow</th><th>Time</th>{}<th>Client</th>\
         <th>Server</th><th>First RST</th><th>Sent by</th><th>Scenario</th><th>More</th></tr>",
        if several { "<th>File</th>" } else { "" }
    )?;
    for flow in flows {
        let Some(first) = flow.resets.first() else {
            continue;
        };
        let file = if several {
            let name = report
                .inputs
                .get(first.input)
                .map_or_else(String::new, |i| display_path(&i.path));
            format!("<td>{}</td>", escape(&name))
        } else {
            String::new()
        };
        let more = (flow.resets.len() - 1) as u64 + flow.resets_not_listed;
        writeln!(
            out,
            "<tr><td class=\"num\">{}</td><td>{}</td>{file}<td>{}</td><td>{}</td>\
             <td>frame {} from the {}, {}</td><td>{} {:.2}</td><td><code>{}</code></td>\
             <td class=\"num\">{}</td></tr>",
            flow.id,
            escape(&view.time(&first.ts)),
            escape(&flow.client.to_string()),
            escape(&flow.server.to_string()),
            first.frame,
            escape(first.from),
            escape(&flag_names(&first.flags)),
            badge(first.verdict),
            first.confidence,
            escape(first.scenario),
            if more > 0 {
                format!("+{more}")
            } else {
                String::new()
            },
        )?;
    }
    writeln!(out, "</table>")
}

/// A flow's facts, its ladder diagram, then each of its resets.
fn write_flow(
    report: &Report,
    view: &View,
    flow: &FlowReport,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(
        out,
        "<section class=\"flow\" id=\"flow-{id}\">\n<h3>Flow {id}: {} &rarr; {}</h3>",
        escape(&flow.client.to_string()),
        escape(&flow.server.to_string()),
        id = flow.id,
    )?;
    write_flow_facts(report, flow, view, out)?;
    let [_, second] = crate::report::comparison::input_names(report);
    if let Some(text) = crate::report::comparison::path_in_words(flow, &second) {
        writeln!(out, "<p class=\"path-changes\">{}</p>", escape(&text))?;
    }
    write_ladder(flow, report.inputs.len() > 1, view, out)?;
    super::vantage::write_vantage(report, flow, out)?;
    for reset in &flow.resets {
        write_reset(report, view, flow.id, reset, out)?;
    }
    if flow.resets_not_listed > 0 {
        writeln!(
            out,
            "<p class=\"note\">{} in this flow counted but not listed.</p>",
            count(flow.resets_not_listed, "more RST segment")
        )?;
    }
    writeln!(out, "</section>")
}

/// Endpoints, state, history, duration and per-side counters.
fn write_flow_facts(
    report: &Report,
    flow: &FlowReport,
    view: &View,
    out: &mut dyn Write,
) -> io::Result<()> {
    let per_side = |c: u64, s: u64| format!("client {c}, server {s}");
    writeln!(out, "<dl class=\"facts flow-facts\">")?;
    let endpoints = format!(
        "{} &rarr; {}",
        escape(&flow.client.to_string()),
        escape(&flow.server.to_string())
    );
    fact(out, "Client → server", &endpoints)?;
    fact(
        out,
        "Community ID",
        &format!(
            "<code>{}</code> (as Zeek, Suricata, Arkime and Elastic log it)",
            escape(&flow.community_id)
        ),
    )?;
    let stream_file = match flow.tcp_stream_input.and_then(|i| report.inputs.get(i)) {
        Some(input) if report.inputs.len() > 1 => {
            format!(" in <code>{}</code>", escape(&display_path(&input.path)))
        }
        _ => String::new(),
    };
    let wireshark = match flow.tcp_stream {
        Some(stream) => format!(
            "<code>{}</code>{stream_file}",
            escape(&stream_filter(stream))
        ),
        None => escape(crate::report::ticket::NOT_IN_WIRESHARK),
    };
    fact(out, "Wireshark", &wireshark)?;
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
        escape(&view.moment(&flow.first_ts)),
        escape(&view.moment(&flow.last_ts))
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

/// One reset: verdict, what it was, the explanation and advice, then the evidence and
/// where to find it.
fn write_reset(
    report: &Report,
    view: &View,
    flow: u64,
    reset: &ResetReport,
    out: &mut dyn Write,
) -> io::Result<()> {
    let follow = match reset.follow_up_of {
        Some(frame) => format!(" <span class=\"muted\">follows frame {frame}</span>"),
        None => String::new(),
    };
    writeln!(
        out,
        "<div class=\"reset\" id=\"reset-{flow}-{}-{}\">\n<h4>RST at frame {} {}{follow}</h4>",
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
        escape(&view.moment(&reset.ts))
    );
    fact(out, "Sent as", &sent_as)?;
    fact(out, "Segment", &escape(&segment_text(reset)))?;
    writeln!(out, "</dl>")?;
    writeln!(
        out,
        "<p class=\"explanation\">{}</p>",
        escape(&reset.explanation)
    )?;
    write_advice(&reset.advice, out)?;
    write_evidence(reset, out)?;
    write_wireshark_hint(report, reset, out)?;
    writeln!(out, "</div>")
}

/// The RST's header fields in one line, and the sender's distance when the verdict fixed it.
fn segment_text(reset: &ResetReport) -> String {
    let ack = reset
        .ack
        .map(|a| format!(" ack {}", seq_text(a, reset.ack_relative)))
        .unwrap_or_default();
    let ip_id = reset
        .ip_id
        .map(|i| format!(", IP ID {i}"))
        .unwrap_or_default();
    let distance = reset
        .device_hops
        .map(|h| format!(" (sent {})", hops_in_words(h)))
        .unwrap_or_default();
    format!(
        "{} seq {}{ack} len {}, TTL {}{distance}{ip_id}, checksum {}",
        flag_names(&reset.flags),
        seq_text(reset.seq, reset.seq_relative),
        reset.len,
        reset.ttl,
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
        .map_or_else(|| "the capture".to_string(), |i| display_path(&i.path));
    write!(
        out,
        "<p class=\"wireshark\">Open <code>{}</code> in Wireshark with the display filter \
         <code>frame.number == {}</code>{}.",
        escape(&path),
        reset.frame,
        reset.tcp_stream.map_or_else(String::new, |stream| format!(
            ", its stream <code>{}</code>",
            escape(&stream_filter(stream))
        ))
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
        "<table class=\"evidence\">\n<tr><th>Signal</th><th>Points to</th><th>Weight</th>\
         <th>Detail</th></tr>"
    )?;
    for evidence in &reset.evidence {
        writeln!(
            out,
            "<tr><td><code>{}</code></td><td class=\"points-{}\">{}</td>\
             <td class=\"num\">{}</td><td>{}</td></tr>",
            escape(&evidence.signal),
            points_class(evidence.points_to),
            escape(evidence.points_to),
            escape(&weight(evidence.ratio, evidence.counted)),
            escape(&evidence.detail)
        )?;
    }
    writeln!(
        out,
        "</table>\n<p class=\"muted reckoning\">Reckoning ({}): P(a device on the path) {:.3} \
         before the evidence, {:.3} after.</p>",
        escape(reset.reckoning.situation),
        reset.reckoning.prior_path,
        reset.reckoning.posterior_path
    )
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
