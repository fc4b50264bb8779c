//! The ticket view: Markdown to paste into GitHub, GitLab, Jira or ServiceNow. A summary, then
//! one section per flow that carried a reset: endpoints, the packets around the reset, the
//! verdict with its confidence, the evidence as a table, the explanation and the advice.
//!
//! Everything that came from the capture is escaped, so a hostile string renders as text.

use std::io::{self, Write};

use super::table::summary_paragraph;
use super::{FlowReport, PacketReport, Report, ResetReport};

/// Writes the whole Markdown report.
pub fn write_markdown(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "# rstscope report")?;
    writeln!(out)?;
    write_facts(report, out)?;
    writeln!(out, "## Summary")?;
    writeln!(out)?;
    writeln!(out, "{}", escape(&summary_paragraph(report)))?;
    writeln!(out)?;
    let v = &report.summary.verdicts;
    writeln!(out, "| Verdict | Resets |")?;
    writeln!(out, "|---|---:|")?;
    for (name, count) in [
        ("peer", v.peer),
        ("firewall", v.firewall),
        ("middlebox", v.middlebox),
        ("unknown", v.unknown),
    ] {
        writeln!(out, "| {name} | {count} |")?;
    }
    writeln!(out)?;
    if !report.warnings.is_empty() {
        writeln!(out, "**Warnings**")?;
        writeln!(out)?;
        for warning in &report.warnings {
            writeln!(out, "- {}", escape(warning))?;
        }
        writeln!(out)?;
    }
    let with_resets: Vec<&FlowReport> = report
        .flows
        .iter()
        .filter(|f| !f.resets.is_empty())
        .collect();
    if with_resets.is_empty() {
        writeln!(out, "No flow carried a reset.")?;
    }
    for flow in with_resets {
        write_flow(flow, out)?;
    }
    Ok(())
}

/// What was read and how: inputs, rstscope's version, the command.
fn write_facts(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    if report.anonymized {
        writeln!(
            out,
            "> Addresses in this report are anonymised (prefix-preserving: hosts in one subnet \
             stay in one subnet). Ports and TCP details are real."
        )?;
        writeln!(out)?;
    }
    writeln!(out, "| Input | Link type | Packets | First | Last | Read |")?;
    writeln!(out, "|---|---|---:|---|---|---|")?;
    for input in &report.inputs {
        let mut read = if input.complete {
            "complete".to_string()
        } else {
            "cut off".to_string()
        };
        if let Some(dropped) = input.dropped_by_kernel {
            read.push_str(&format!(
                ", {} dropped by the kernel, {} by the interface",
                dropped,
                input.dropped_by_interface.unwrap_or(0)
            ));
        }
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            code(&input.path),
            escape(&input.link_type),
            input.packets,
            input.first_ts.as_deref().map_or("-".to_string(), escape),
            input.last_ts.as_deref().map_or("-".to_string(), escape),
            read
        )?;
    }
    writeln!(out)?;
    write!(out, "rstscope {}", escape(report.tool.version))?;
    if !report.command.is_empty() {
        write!(out, ", run as {}", code(&report.command))?;
    }
    writeln!(out)?;
    writeln!(out)
}

/// One flow with its resets.
fn write_flow(flow: &FlowReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "## Flow {}: {} → {}",
        flow.id,
        escape(&flow.client.to_string()),
        escape(&flow.server.to_string())
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{} to {} ({:.3} s), {} packets from the client and {} from the server, state `{}`, history `{}`, closed by {}.",
        escape(&flow.first_ts),
        escape(&flow.last_ts),
        flow.duration_s,
        flow.packets.client,
        flow.packets.server,
        flow.conn_state.replace('`', "'"),
        flow.history.replace('`', "'"),
        match flow.close {
            "rst" => "RST",
            "fin" => "FIN",
            _ => "neither (still open)",
        }
    )?;
    writeln!(out)?;
    for reset in &flow.resets {
        write_reset(reset, out)?;
    }
    if flow.resets_not_listed > 0 {
        writeln!(
            out,
            "{} more RST segments in this flow are counted but not listed.",
            flow.resets_not_listed
        )?;
        writeln!(out)?;
    }
    Ok(())
}

/// One reset: verdict, timeline, evidence, explanation, advice.
fn write_reset(reset: &ResetReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "### Frame {}: **{}** ({:.2}), `{}`",
        reset.frame, reset.verdict, reset.confidence, reset.scenario
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "RST from the {} address {} at {}: flags {}, TTL {}, seq {}{}. In Wireshark: `frame.number == {}`.",
        reset.from,
        escape(&reset.src.to_string()),
        escape(&reset.ts),
        escape(&reset.flags),
        reset.ttl,
        reset.seq,
        reset
            .ack
            .map_or(String::new(), |ack| format!(", ack {ack}")),
        reset.frame
    )?;
    writeln!(out)?;
    writeln!(out, "{}", escape(&reset.explanation))?;
    writeln!(out)?;
    write_timeline(reset, out)?;
    writeln!(out, "| Evidence | Points to | Detail |")?;
    writeln!(out, "|---|---|---|")?;
    for evidence in &reset.evidence {
        writeln!(
            out,
            "| `{}` | {} | {} |",
            evidence.signal.replace('`', "'"),
            evidence.points_to,
            escape(&evidence.detail)
        )?;
    }
    writeln!(out)?;
    if !reset.advice.is_empty() {
        writeln!(out, "**Advice**")?;
        writeln!(out)?;
        for advice in &reset.advice {
            writeln!(out, "- {}", escape(advice))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// The packets around the reset as a table, the reset itself in bold.
fn write_timeline(reset: &ResetReport, out: &mut dyn Write) -> io::Result<()> {
    if reset.packets_before.is_empty() && reset.packets_after.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "| Time from RST | Frame | Direction | Flags | Seq | Ack | Len | TTL |"
    )?;
    writeln!(out, "|---:|---:|---|---|---:|---:|---:|---:|")?;
    for packet in &reset.packets_before {
        writeln!(out, "{}", timeline_row(packet))?;
    }
    writeln!(
        out,
        "| **0 ms** | **{}** | **{}** | **{}** | **{}** | **{}** | **{}** | **{}** |",
        reset.frame,
        direction(reset.from),
        escape(&reset.flags),
        reset.seq,
        reset.ack.map_or("-".to_string(), |ack| ack.to_string()),
        reset.len,
        reset.ttl
    )?;
    for packet in &reset.packets_after {
        writeln!(out, "{}", timeline_row(packet))?;
    }
    writeln!(out)
}

fn timeline_row(packet: &PacketReport) -> String {
    format!(
        "| {} | {} | {} | {} | {} | {} | {} | {} |",
        offset(packet.offset_ms),
        packet.frame,
        direction(packet.from),
        escape(&packet.flags),
        packet.seq,
        packet.ack.map_or("-".to_string(), |ack| ack.to_string()),
        packet.len,
        packet.ttl
    )
}

/// "client → server" or "client ← server", by who sent it.
fn direction(from: &str) -> &'static str {
    if from == "client" {
        "client → server"
    } else {
        "client ← server"
    }
}

/// Milliseconds from the RST, in seconds once they get long.
fn offset(ms: f64) -> String {
    if ms.abs() >= 10_000.0 {
        format!("{:+.1} s", ms / 1000.0)
    } else {
        format!("{ms:+.1} ms")
    }
}

/// Text that renders as itself in Markdown (and in the HTML Markdown may contain): HTML
/// special characters become entities, Markdown punctuation is backslash-escaped, and line
/// breaks become spaces so a table row stays one row.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    for (at, &c) in chars.iter().enumerate() {
        let word_char = |i: Option<usize>| {
            i.and_then(|i| chars.get(i))
                .is_some_and(|c| c.is_alphanumeric())
        };
        match c {
            // Inside a word (SO_KEEPALIVE) an underscore never starts emphasis: leave it.
            '_' if word_char(at.checked_sub(1)) && word_char(Some(at + 1)) => escaped.push(c),
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' | '~' => {
                escaped.push('\\');
                escaped.push(c);
            }
            '\n' | '\r' | '\t' => escaped.push(' '),
            c if c.is_control() => escaped.push('\u{fffd}'),
            c => escaped.push(c),
        }
    }
    escaped
}

/// An inline code span that holds any text: backticks and line breaks cannot end it early.
fn code(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let fence = if clean.contains('`') { "`` " } else { "`" };
    let close = if clean.contains('`') { " ``" } else { "`" };
    format!("{fence}{}{close}", clean.replace("``", "` `"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_renders_as_text() {
        let text = escape("<script>alert(1)</script> | **bold** [link](x) `code`\nnext");
        assert!(!text.contains('<') && !text.contains('\n'), "{text}");
        assert!(text.contains("&lt;script&gt;"), "{text}");
        assert!(text.contains("\\|") && text.contains("\\*\\*") && text.contains("\\["));
        assert_eq!(escape("SO_KEEPALIVE _x_"), "SO_KEEPALIVE \\_x\\_");
    }

    #[test]
    fn code_spans_survive_backticks() {
        assert_eq!(code("a.pcap"), "`a.pcap`");
        assert_eq!(code("a`b.pcap"), "`` a`b.pcap ``");
    }

    #[test]
    fn offsets_read_in_the_unit_that_fits() {
        assert_eq!(offset(-10.25), "-10.2 ms");
        assert_eq!(offset(-8000.0), "-8000.0 ms");
        assert_eq!(offset(-12_500.0), "-12.5 s");
    }
}
