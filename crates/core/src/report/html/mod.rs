//! The HTML view: one self-contained page (inline CSS and inline SVG; no script, no font, no
//! URL) that opens with the headline verdict and the diagnosis, then what was read with a
//! timeline of the resets, then a section per heavy group with its first flows in full
//! (explanation, evidence, ladder diagram) and the others as rows. It stays small on any
//! capture (`plan` bounds it). It renders a [`Report`] and decides nothing: verdicts,
//! scenarios and evidence come from the report; only the drawing (hop estimates from TTLs,
//! where the capture point and the blamed device stand, idle breaks) is worked out here.
//!
//! Every string that came from a capture or a user goes through [`escape`], inside SVG too,
//! so the page is safe to open whatever the capture held. The output is deterministic (no
//! clock, no hash order) so golden tests can compare it.
//!
//! This file writes the page: its head, the capture facts and the summary. The rest is one
//! job per module: `diagnosis` (headline and groups), `plan` (what is shown in full),
//! `flow` (the group, flow and reset sections), `timeline` (the summary's SVG), `ladder`
//! (each flow's SVG) with `rows` and `lanes` (what it draws, and where its lines stand),
//! `timestamps` (the report's times and the capture's span), `format` (small text helpers)
//! and `style` (the CSS).

mod diagnosis;
#[cfg(test)]
mod fixtures;
mod flow;
mod format;
mod ladder;
mod lanes;
mod plan;
mod rows;
mod style;
mod timeline;
mod timestamps;
mod vantage;

use std::io::{self, Write};

use super::view::{View, display_command, display_path};
use super::{InputReport, Report, table};
use diagnosis::{write_diagnosis, write_headline};
use flow::write_flows;
use format::{badge, human_span};
use plan::Plan;
use style::CSS;
use timeline::write_timeline;
use timestamps::capture_span;

/// Writes the whole report as one self-contained HTML page.
pub fn write_html(report: &Report, view: &View, out: &mut dyn Write) -> io::Result<()> {
    let plan = Plan::new(report, view.all);
    write_head(out)?;
    writeln!(out, "<body>")?;
    writeln!(out, "<header class=\"top\">\n<h1>rstscope report</h1>")?;
    if report.anonymized {
        writeln!(
            out,
            "<p class=\"note anonymized\">Anonymised report: every address (and file name) is \
             replaced, consistently and prefix-preserving. Ports and TCP details are real.</p>"
        )?;
    }
    write_headline(report, out)?;
    writeln!(out, "</header>")?;
    write_diagnosis(report, view, &|id| plan.is_full(id), out)?;
    write_facts(report, view, out)?;
    write_summary(report, view, out)?;
    write_flows(report, view, &plan, out)?;
    writeln!(out, "</body>\n</html>")
}

/// Escapes text for HTML content and attribute values (`& < > " '`).
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

// ---------------------------------------------------------------------------------------------
// Page head, capture facts, summary

/// The doctype and `<head>`: charset, viewport, a CSP that forbids every fetch, and the CSS.
fn write_head(out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>")?;
    writeln!(out, "<meta charset=\"utf-8\">")?;
    writeln!(
        out,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; img-src data:\">"
    )?;
    writeln!(
        out,
        "<title>rstscope report</title>\n<style>{CSS}</style>\n</head>"
    )
}

/// Version, command line, time range and the inputs table.
fn write_facts(report: &Report, view: &View, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<section class=\"facts\">\n<h2>What was read</h2>")?;
    writeln!(out, "<dl class=\"facts run\">")?;
    fact(out, "rstscope version", &escape(report.tool.version))?;
    if let Some(span) = capture_span(report) {
        let range = format!(
            "{} to {} ({})",
            escape(&view.moment(span.start_text)),
            escape(&view.moment(span.end_text)),
            human_span(span.seconds())
        );
        fact(out, "Time range", &range)?;
    }
    writeln!(out, "</dl>")?;
    if !report.command.is_empty() {
        writeln!(
            out,
            "<p>Command:</p>\n<pre><code class=\"command\">{}</code></pre>",
            escape(&display_command(&report.command, &report.inputs))
        )?;
    }
    write_inputs(&report.inputs, view, out)?;
    writeln!(out, "</section>")
}

/// One `<dt>`/`<dd>` pair; `html` is already escaped.
fn fact(out: &mut dyn Write, term: &str, html: &str) -> io::Result<()> {
    writeln!(out, "<dt>{}</dt><dd>{html}</dd>", escape(term))
}

/// The inputs table: one row per capture file or interface.
fn write_inputs(inputs: &[InputReport], view: &View, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<table class=\"inputs\">")?;
    writeln!(
        out,
        "<tr><th>#</th><th>Path</th><th>Link type</th><th>Packets</th><th>TCP</th>\
         <th>First</th><th>Last</th><th>Truncated</th><th>Undecodable</th>\
         <th>Complete</th><th>Dropped</th></tr>"
    )?;
    for (index, input) in inputs.iter().enumerate() {
        writeln!(
            out,
            "<tr><td class=\"num\">{index}</td><td><code>{}</code></td><td>{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
            escape(&display_path(&input.path)),
            escape(&input.link_type),
            input.packets,
            input.tcp_packets,
            escape(
                &input
                    .first_ts
                    .as_deref()
                    .map_or("-".to_string(), |t| view.moment(t))
            ),
            escape(
                &input
                    .last_ts
                    .as_deref()
                    .map_or("-".to_string(), |t| view.moment(t))
            ),
            input.truncated_packets,
            input.undecodable_packets,
            if input.complete { "yes" } else { "no: cut off" },
            escape(&dropped_text(input)),
        )?;
    }
    writeln!(out, "</table>")
}

/// Live-capture drops and kernel tracing, or "-" when the input is a file.
fn dropped_text(input: &InputReport) -> String {
    let parts: Vec<String> = [
        ("by kernel", input.dropped_by_kernel),
        ("by interface", input.dropped_by_interface),
    ]
    .iter()
    .filter_map(|(by, n)| n.map(|n| format!("{n} {by}")))
    .chain(input.kernel_tracing.as_ref().map(|t| t.summary()))
    .collect();
    if parts.is_empty() {
        "-".to_string()
    } else {
        parts.join(", ")
    }
}

/// Summary paragraph, close and verdict counts, warnings and the timeline.
fn write_summary(report: &Report, view: &View, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<section class=\"summary\">\n<h2>Summary</h2>")?;
    writeln!(out, "<p>{}</p>", escape(&table::summary_paragraph(report)))?;
    if let Some(text) = super::comparison::comparison_paragraph(report) {
        writeln!(out, "<p class=\"comparison\">{}</p>", escape(&text))?;
    }
    writeln!(out, "<div class=\"counts\">")?;
    write_close_counts(report, out)?;
    write_verdict_counts(report, out)?;
    writeln!(out, "</div>")?;
    write_warnings(&report.warnings, out)?;
    write_timeline(report, view, out)?;
    writeln!(out, "</section>")
}

/// How the flows closed.
fn write_close_counts(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.summary;
    writeln!(
        out,
        "<table class=\"closes\">\n<tr><th>Flows</th><th>Count</th></tr>"
    )?;
    let mut rows = vec![
        ("TCP flows", s.tcp_flows),
        ("Closed by FIN", s.closed_fin),
        ("Closed by RST", s.closed_rst),
        ("Not closed", s.not_closed),
    ];
    if s.evicted_flows > 0 {
        rows.push(("Evicted (flow table full)", s.evicted_flows));
    }
    if s.flows_not_listed > 0 {
        rows.push(("Counted but not listed", s.flows_not_listed));
    }
    for (name, n) in rows {
        writeln!(out, "<tr><td>{name}</td><td class=\"num\">{n}</td></tr>")?;
    }
    writeln!(out, "</table>")
}

/// How many resets got each verdict.
fn write_verdict_counts(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let v = &report.summary.verdicts;
    writeln!(
        out,
        "<table class=\"verdicts\">\n<tr><th>Reset sent by</th><th>Count</th></tr>"
    )?;
    for (verdict, n) in [
        ("peer", v.peer),
        ("firewall", v.firewall),
        ("middlebox", v.middlebox),
        ("unknown", v.unknown),
    ] {
        writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\">{n}</td></tr>",
            badge(verdict)
        )?;
    }
    writeln!(
        out,
        "<tr><th>All RST segments</th><td class=\"num\">{}</td></tr>\n</table>",
        report.summary.resets
    )
}

/// The warnings list, when there are any.
fn write_warnings(warnings: &[String], out: &mut dyn Write) -> io::Result<()> {
    if warnings.is_empty() {
        return Ok(());
    }
    writeln!(out, "<h3>Warnings</h3>\n<ul class=\"warnings\">")?;
    for warning in warnings {
        writeln!(out, "<li>{}</li>", escape(warning))?;
    }
    writeln!(out, "</ul>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use fixtures::{firewall_flow, peer_flow, render, report};

    const HOSTILE: &str = "<script>alert(1)</script>";

    #[test]
    fn hostile_text_is_escaped() {
        let mut fl = firewall_flow(1);
        fl.resets[0].evidence[0].detail = HOSTILE.to_string();
        fl.resets[0].explanation = HOSTILE.to_string();
        fl.resets[0].advice = vec![HOSTILE.to_string()];
        fl.client.ip = HOSTILE.to_string();
        fl.history = HOSTILE.to_string();
        let mut rep = report(vec![fl]);
        rep.inputs[0].path = format!("{HOSTILE}.pcap");
        rep.inputs[0].link_type = HOSTILE.to_string();
        rep.command = format!("rstscope analyze '{HOSTILE}.pcap'");
        rep.warnings = vec![HOSTILE.to_string()];
        let page = render(&rep);
        assert!(!page.to_lowercase().contains("<script"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;.pcap"));
        assert!(page.contains("&#39;&lt;script&gt;"));
    }

    #[test]
    fn escape_covers_the_five_characters() {
        assert_eq!(escape(r#"a&b<c>d"e'f"#), "a&amp;b&lt;c&gt;d&quot;e&#39;f");
    }

    #[test]
    fn page_has_no_urls_and_no_script() {
        let page = render(&report(vec![firewall_flow(1), peer_flow(2)]));
        assert!(!page.contains("http://"));
        assert!(!page.contains("https://"));
        assert!(!page.contains("<script"));
        assert!(
            page.contains(
                "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\""
            )
        );
        assert!(page.contains("<meta charset=\"utf-8\">"));
        assert!(page.contains("@media print"));
    }

    #[test]
    fn facts_and_summary_are_shown() {
        let mut rep = report(vec![firewall_flow(1)]);
        rep.anonymized = true;
        rep.inputs[0].complete = false;
        rep.inputs[0].dropped_by_kernel = Some(7);
        let page = render(&rep);
        assert!(page.contains("<h1>rstscope report</h1>"));
        assert!(page.contains("Anonymised report: every address"));
        assert!(page.contains("<code class=\"command\">rstscope analyze trace.pcap</code>"));
        assert!(page.contains("no: cut off"));
        assert!(page.contains("7 by kernel"));
        assert!(page.contains("<svg class=\"timeline\""));
        assert_eq!(page.matches("class=\"bar v-firewall\"").count(), 1);
        assert!(page.contains("frame.number == 6"));
        assert!(page.contains("<code>frame.number in {1 2 3 4 5 6}</code>"));
        assert!(page.contains("<table class=\"evidence\">"));
        assert!(page.contains("href=\"#flow-1\""));
    }

    #[test]
    fn output_is_deterministic() {
        let rep = report(vec![firewall_flow(1), peer_flow(2)]);
        assert_eq!(render(&rep), render(&rep));
    }
}
