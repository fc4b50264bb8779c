//! The terminal view: a table of flows (those with resets, or all with `--all`) and a
//! one-paragraph summary of what was read, skipped and how flows closed.

use std::io::{self, Write};

use comfy_table::{Cell, Color, ContentArrangement, Table, presets};

use super::{FlowReport, Report, ResetReport};

/// How many resets one table cell lists before it says "+N more".
const RESETS_PER_CELL: usize = 3;

/// Table drawing options.
#[derive(Debug, Clone, Copy)]
pub struct TableStyle {
    /// Output goes to a terminal: box-drawing characters, fitted to its width. Otherwise
    /// (a file, a pipe, a ticket) plain ASCII at full width.
    pub terminal: bool,
    /// Colour the verdicts (only on a terminal, and only when NO_COLOR is not set).
    pub colour: bool,
}

/// Writes the flows table (if any flow is listed) and the summary paragraph.
pub fn write_table(report: &Report, style: TableStyle, out: &mut dyn Write) -> io::Result<()> {
    if report.flows.is_empty() {
        writeln!(out, "No flows to list.")?;
    } else {
        writeln!(out, "{}", flows_table(&report.flows, style))?;
        for text in explanations(&report.flows) {
            writeln!(out)?;
            writeln!(out, "{text}")?;
        }
    }
    writeln!(out)?;
    writeln!(out, "{}", summary_paragraph(report))
}

fn flows_table(flows: &[FlowReport], style: TableStyle) -> Table {
    let mut table = Table::new();
    if style.terminal {
        table.load_style(presets::UTF8_FULL_CONDENSED);
        table.set_content_arrangement(ContentArrangement::Dynamic);
    } else {
        table.load_style(presets::ASCII_FULL_CONDENSED);
        table.set_content_arrangement(ContentArrangement::Disabled);
    }
    table.set_header([
        "Flow",
        "Client",
        "Server",
        "State",
        "History",
        "Close",
        "Duration",
        "Packets c/s",
        "RST (frame, from, flags, TTL)",
        "Verdict",
        "Scenario",
        "Why",
    ]);
    for flow in flows {
        let shown = &flow.resets[..flow.resets.len().min(RESETS_PER_CELL)];
        let column = |cell: &dyn Fn(&ResetReport) -> String| -> String {
            if shown.is_empty() {
                return "-".to_string();
            }
            let mut lines: Vec<String> = shown.iter().map(cell).collect();
            let more = (flow.resets.len() - shown.len()) as u64 + flow.resets_not_listed;
            if more > 0 {
                lines.push(format!("+{more} more"));
            }
            lines.join("\n")
        };
        let mut verdict = Cell::new(column(&|r| format!("{} {:.2}", r.verdict, r.confidence)));
        if style.colour
            && let Some(first) = flow.resets.first()
        {
            verdict = verdict.fg(verdict_colour(first.verdict));
        }
        table.add_row(vec![
            Cell::new(flow.id),
            Cell::new(&flow.client),
            Cell::new(&flow.server),
            Cell::new(&flow.conn_state),
            Cell::new(&flow.history),
            Cell::new(flow.close),
            Cell::new(human_duration(flow.duration_s)),
            Cell::new(format!("{}/{}", flow.packets.client, flow.packets.server)),
            Cell::new(column(&|r| {
                format!("#{} {} {} ttl {}", r.frame, r.from, r.flags, r.ttl)
            })),
            verdict,
            Cell::new(column(&|r| r.scenario.to_string())),
            Cell::new(column(&short_reason)),
        ]);
    }
    table
}

/// A verdict's colour on a terminal: the same as the HTML report's badges.
fn verdict_colour(verdict: &str) -> Color {
    match verdict {
        "peer" => Color::Green,
        "firewall" => Color::Yellow,
        "middlebox" => Color::Red,
        _ => Color::Grey,
    }
}

/// The signals that carried the verdict, by name.
fn short_reason(reset: &ResetReport) -> String {
    let wanted = match reset.verdict {
        "peer" => Some("peer"),
        "firewall" | "middlebox" => Some("path"),
        _ => None,
    };
    let names: Vec<&str> = reset
        .evidence
        .iter()
        .filter(|e| wanted.is_none_or(|w| e.points_to == w))
        .filter(|e| e.points_to != "neither")
        .take(2)
        .map(|e| e.signal.as_str())
        .collect();
    if names.is_empty() {
        "-".to_string()
    } else {
        names.join(", ")
    }
}

/// The explanation of each listed flow's first reset, and its first piece of advice.
fn explanations(flows: &[FlowReport]) -> Vec<String> {
    flows
        .iter()
        .filter_map(|flow| {
            let reset = flow.resets.first()?;
            let advice = reset
                .advice
                .first()
                .map(|a| format!("\n  Advice: {a}"))
                .unwrap_or_default();
            Some(format!(
                "Flow {}, frame {}: {}{advice}",
                flow.id, reset.frame, reset.explanation
            ))
        })
        .collect()
}

/// A duration in the unit that keeps it readable (plain ASCII: tables go into tickets).
pub(super) fn human_duration(secs: f64) -> String {
    if secs < 0.001 {
        format!("{:.3} ms", secs * 1e3)
    } else if secs < 1.0 {
        format!("{:.1} ms", secs * 1e3)
    } else {
        format!("{secs:.3} s")
    }
}

/// Counts as words: "1 flow", "2 flows".
fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// One paragraph: inputs and packets, what was skipped and why, and how flows closed.
pub fn summary_paragraph(report: &Report) -> String {
    let inputs = &report.inputs;
    let packets: u64 = inputs.iter().map(|i| i.packets).sum();
    let tcp: u64 = inputs.iter().map(|i| i.tcp_packets).sum();
    let skipped = [
        (
            inputs.iter().map(|i| i.filtered_packets).sum::<u64>(),
            "filtered out",
        ),
        (inputs.iter().map(|i| i.non_tcp_packets).sum(), "not TCP"),
        (
            inputs.iter().map(|i| i.truncated_packets).sum(),
            "truncated",
        ),
        (
            inputs.iter().map(|i| i.undecodable_packets).sum(),
            "undecodable",
        ),
        (
            inputs.iter().map(|i| i.copies_on_other_interfaces).sum(),
            "copies seen on another interface",
        ),
    ];
    let reasons: Vec<String> = skipped
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, why)| format!("{n} {why}"))
        .collect();
    let skipped_text = if reasons.is_empty() {
        "none skipped".to_string()
    } else {
        format!("skipped: {}", reasons.join(", "))
    };
    let s = &report.summary;
    format!(
        "Read {} from {} ({} TCP; {}). {}: {} closed by FIN, {} by RST, {} not closed; {}.",
        count(packets, "packet", "packets"),
        count(inputs.len() as u64, "input", "inputs"),
        tcp,
        skipped_text,
        count(s.tcp_flows, "TCP flow", "TCP flows"),
        s.closed_fin,
        s.closed_rst,
        s.not_closed,
        count(s.resets, "RST segment", "RST segments"),
    )
}
