//! The HTML view: one self-contained page (inline CSS and inline SVG; no script, no font, no
//! URL) with the capture facts, a summary with a timeline of the resets, and for each flow
//! with resets its evidence and a ladder diagram. It renders a [`Report`] and decides
//! nothing: verdicts, scenarios and evidence come from the report; only the drawing (hop
//! estimates from TTLs, where the forging device stands, idle breaks) is worked out here.
//!
//! Every string that came from a capture or a user goes through [`escape`], inside SVG too,
//! so the page is safe to open whatever the capture held. The output is deterministic (no
//! clock, no hash order) so golden tests can compare it.

use std::collections::BTreeMap;
use std::io::{self, Write};

use chrono::{DateTime, FixedOffset};

use super::{Endpoint, FlowReport, InputReport, PacketReport, Report, ResetReport, table};

/// Width of a ladder diagram, in SVG units.
const LADDER_WIDTH: f64 = 900.0;
/// Where the client's and the server's vertical lines stand.
const CLIENT_X: f64 = 210.0;
const SERVER_X: f64 = 750.0;
/// Right edge of the time labels, and left edge of the frame labels.
const TIME_X: f64 = CLIENT_X - 14.0;
const FRAME_X: f64 = SERVER_X + 14.0;
/// Height of one packet's row; a forged RST's row is taller by its "claims to be" line.
const ROW: f64 = 34.0;
const CLAIM_ROW: f64 = 14.0;
/// Height of an idle break.
const GAP_ROW: f64 = 46.0;
/// A pause is drawn as a break when longer than this and than the factor times the median.
const IDLE_MIN_MS: f64 = 5000.0;
const IDLE_MEDIAN_FACTOR: f64 = 10.0;
/// Rough width of one character of an 11px monospace label.
const CHAR_WIDTH: f64 = 6.6;
/// The forging device's line never comes closer to an endpoint's than this share of the span.
const DEVICE_MARGIN: f64 = 0.12;

/// Timeline geometry: the SVG's size and the axis ends.
const TIMELINE_WIDTH: f64 = 1000.0;
const TIMELINE_HEIGHT: f64 = 84.0;
const AXIS_LEFT: f64 = 40.0;
const AXIS_RIGHT: f64 = 960.0;
const AXIS_Y: f64 = 46.0;

const CSS: &str = r#"
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1d1d1f; background: #fff; max-width: 1100px; margin: 0 auto; padding: 1.5rem; line-height: 1.45; }
h1 { font-size: 1.8rem; margin: 0 0 .6rem; }
h2 { font-size: 1.35rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; margin-top: 2rem; }
h3 { font-size: 1.1rem; margin: 1.2rem 0 .4rem; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: .9em; }
pre { background: #f5f5f7; border: 1px solid #ddd; border-radius: 4px; padding: .6rem .8rem;
  white-space: pre-wrap; word-break: break-all; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .92rem; }
th, td { border: 1px solid #ccc; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f0f0f2; }
table.inputs { font-size: .82rem; }
table.inputs td { overflow-wrap: anywhere; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .5rem 0; }
dl.facts dt { font-weight: 600; color: #444; }
dl.facts dd { margin: 0; }
.counts { display: flex; flex-wrap: wrap; gap: 0 2rem; }
.note { background: #fff8e1; border-left: 4px solid #f9a825; padding: .4rem .7rem; }
.badge { display: inline-block; padding: .05rem .55rem; border-radius: 999px; color: #fff;
  font-size: .85rem; font-weight: 600; }
.badge.v-peer { background: #2e7d32; }
.badge.v-firewall { background: #ef6c00; }
.badge.v-middlebox { background: #c62828; }
.badge.v-unknown { background: #757575; }
.points-peer { color: #2e7d32; font-weight: 600; }
.points-path { color: #c62828; font-weight: 600; }
.points-neither { color: #757575; }
ul.warnings li { color: #8a4b00; }
section.flow { border: 1px solid #ddd; border-radius: 6px; padding: .2rem 1rem 1rem; margin: 1.5rem 0; }
section.flow h2 { margin-top: .8rem; }
.reset { border-top: 1px dashed #ccc; margin-top: 1rem; }
figure { margin: 1rem 0; }
figcaption { font-size: .85rem; color: #555; }
svg { max-width: 100%; height: auto;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
svg text { font-size: 11px; fill: #222; }
svg .lbl { paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
svg .head { font-weight: 700; font-size: 12px; }
svg .muted { fill: #666; }
svg .claim { fill: #c62828; font-style: italic; }
svg .gap-label { font-style: italic; fill: #555; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  section.flow, figure, tr { page-break-inside: avoid; break-inside: avoid; }
  .badge, svg { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
}
"#;

/// Writes the whole report as one self-contained HTML page.
pub fn write_html(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    write_head(out)?;
    writeln!(out, "<body>")?;
    write_facts(report, out)?;
    write_summary(report, out)?;
    write_flows(report, out)?;
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

/// Title, version, command line, anonymisation note, time range and the inputs table.
fn write_facts(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<header class=\"facts\">\n<h1>rstscope report</h1>")?;
    if report.anonymized {
        writeln!(
            out,
            "<p class=\"note anonymized\">Addresses in this report are anonymised \
             (prefix-preserving).</p>"
        )?;
    }
    writeln!(out, "<dl class=\"facts run\">")?;
    fact(out, "rstscope version", &escape(report.tool.version))?;
    if let Some(span) = capture_span(report) {
        let range = format!(
            "{} to {} ({})",
            escape(span.start_text),
            escape(span.end_text),
            human_span(span.seconds())
        );
        fact(out, "Time range", &range)?;
    }
    writeln!(out, "</dl>")?;
    if !report.command.is_empty() {
        writeln!(
            out,
            "<p>Command:</p>\n<pre><code class=\"command\">{}</code></pre>",
            escape(&report.command)
        )?;
    }
    write_inputs(&report.inputs, out)?;
    writeln!(out, "</header>")
}

/// One `<dt>`/`<dd>` pair; `html` is already escaped.
fn fact(out: &mut dyn Write, term: &str, html: &str) -> io::Result<()> {
    writeln!(out, "<dt>{}</dt><dd>{html}</dd>", escape(term))
}

/// The inputs table: one row per capture file or interface.
fn write_inputs(inputs: &[InputReport], out: &mut dyn Write) -> io::Result<()> {
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
            escape(&input.path),
            escape(&input.link_type),
            input.packets,
            input.tcp_packets,
            escape(input.first_ts.as_deref().unwrap_or("-")),
            escape(input.last_ts.as_deref().unwrap_or("-")),
            input.truncated_packets,
            input.undecodable_packets,
            if input.complete { "yes" } else { "no: cut off" },
            dropped_text(input),
        )?;
    }
    writeln!(out, "</table>")
}

/// Live-capture drops, or "-" when the input is a file (or nothing was counted).
fn dropped_text(input: &InputReport) -> String {
    let parts: Vec<String> = [
        ("by kernel", input.dropped_by_kernel),
        ("by interface", input.dropped_by_interface),
    ]
    .iter()
    .filter_map(|(by, n)| n.map(|n| format!("{n} {by}")))
    .collect();
    if parts.is_empty() {
        "-".to_string()
    } else {
        parts.join(", ")
    }
}

/// Summary paragraph, close and verdict counts, warnings, the timeline and the flow index.
fn write_summary(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<section class=\"summary\">\n<h2>Summary</h2>")?;
    writeln!(out, "<p>{}</p>", escape(&table::summary_paragraph(report)))?;
    writeln!(out, "<div class=\"counts\">")?;
    write_close_counts(report, out)?;
    write_verdict_counts(report, out)?;
    writeln!(out, "</div>")?;
    write_warnings(&report.warnings, out)?;
    write_timeline(report, out)?;
    write_flow_index(report, out)?;
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

/// A table of the flows with resets, each linking to its section.
fn write_flow_index(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let flows: Vec<&FlowReport> = reset_flows(report).collect();
    if flows.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "<h3>Flows with resets</h3>\n<table class=\"flow-index\">\n<tr><th>Flow</th>\
         <th>Client</th><th>Server</th><th>Resets</th><th>Verdicts</th><th>Scenarios</th></tr>"
    )?;
    for flow in flows {
        let verdicts: Vec<String> = flow.resets.iter().map(|r| badge(r.verdict)).collect();
        let scenarios: Vec<String> = flow.resets.iter().map(|r| escape(r.scenario)).collect();
        writeln!(
            out,
            "<tr><td><a href=\"#flow-{id}\">{id}</a></td><td>{}</td><td>{}</td>\
             <td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
            escape(&address(&flow.client)),
            escape(&address(&flow.server)),
            flow.resets.len() as u64 + flow.resets_not_listed,
            verdicts.join(" "),
            scenarios.join(", "),
            id = flow.id,
        )?;
    }
    writeln!(out, "</table>")
}

// ---------------------------------------------------------------------------------------------
// Timeline

/// A timestamp parsed from the report's RFC 3339 text.
type Time = DateTime<FixedOffset>;

/// The capture's time range, and the report's text for both ends.
struct Span<'a> {
    start: Time,
    start_text: &'a str,
    end: Time,
    end_text: &'a str,
}

impl Span<'_> {
    /// Length in seconds (0 when the ends are equal or out of order).
    fn seconds(&self) -> f64 {
        seconds_between(&self.start, &self.end).max(0.0)
    }

    /// Where `time` falls on the axis, from 0 (start) to 1 (end); the middle when the span
    /// has no length.
    fn fraction(&self, time: &Time) -> f64 {
        let length = self.seconds();
        if length > 0.0 {
            (seconds_between(&self.start, time) / length).clamp(0.0, 1.0)
        } else {
            0.5
        }
    }
}

fn parse_ts(text: &str) -> Option<Time> {
    DateTime::parse_from_rfc3339(text).ok()
}

/// Seconds from `from` to `to` (negative when `to` is earlier).
fn seconds_between(from: &Time, to: &Time) -> f64 {
    let delta = to.signed_duration_since(*from);
    match delta.num_nanoseconds() {
        Some(nanos) => nanos as f64 / 1e9,
        None => delta.num_milliseconds() as f64 / 1e3,
    }
}

/// From the earliest input timestamp to the latest; from the flows' when no input has one.
fn capture_span(report: &Report) -> Option<Span<'_>> {
    let from_inputs = report
        .inputs
        .iter()
        .flat_map(|i| [i.first_ts.as_deref(), i.last_ts.as_deref()])
        .flatten();
    let mut times = parsed_times(from_inputs);
    if times.is_empty() {
        let from_flows = report
            .flows
            .iter()
            .flat_map(|f| [f.first_ts.as_str(), f.last_ts.as_str()]);
        times = parsed_times(from_flows);
    }
    let (start, start_text) = times.iter().min_by_key(|(time, _)| *time)?;
    let (end, end_text) = times.iter().max_by_key(|(time, _)| *time)?;
    Some(Span {
        start: *start,
        start_text,
        end: *end,
        end_text,
    })
}

/// The texts that parse as RFC 3339, with their parsed values.
fn parsed_times<'a>(texts: impl Iterator<Item = &'a str>) -> Vec<(Time, &'a str)> {
    texts
        .filter_map(|text| parse_ts(text).map(|time| (time, text)))
        .collect()
}

/// The capture as a horizontal axis with one marker per reset, coloured by verdict.
fn write_timeline(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let Some(span) = capture_span(report) else {
        return writeln!(
            out,
            "<p class=\"timeline-none\">No timestamps in the capture: no timeline.</p>"
        );
    };
    writeln!(
        out,
        "<figure class=\"timeline-figure\">\n<svg class=\"timeline\" viewBox=\"0 0 \
         {TIMELINE_WIDTH} {TIMELINE_HEIGHT}\" width=\"{TIMELINE_WIDTH}\" \
         height=\"{TIMELINE_HEIGHT}\" role=\"img\" aria-label=\"Resets over the capture\">"
    )?;
    write_axis(&span, out)?;
    let mut undated = 0;
    for flow in &report.flows {
        for reset in &flow.resets {
            match parse_ts(&reset.ts) {
                Some(time) => write_marker(flow.id, reset, span.fraction(&time), out)?,
                None => undated += 1,
            }
        }
    }
    writeln!(out, "</svg>")?;
    let undated_text = if undated > 0 {
        format!(" {undated} resets without a timestamp are not shown.")
    } else {
        String::new()
    };
    writeln!(
        out,
        "<figcaption>The capture from {} to {} ({}); each mark is one reset, coloured by \
         verdict (hover for details).{undated_text}</figcaption>\n</figure>",
        escape(span.start_text),
        escape(span.end_text),
        human_span(span.seconds()),
    )
}

/// The axis line and its tick labels (time from the start of the capture).
fn write_axis(span: &Span<'_>, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "<line x1=\"{AXIS_LEFT}\" y1=\"{AXIS_Y}\" x2=\"{AXIS_RIGHT}\" y2=\"{AXIS_Y}\" \
         stroke=\"#444\" stroke-width=\"1.5\"/>"
    )?;
    let length = span.seconds();
    let ticks: Vec<f64> = if length > 0.0 {
        (0..=4).map(|k| f64::from(k) / 4.0).collect()
    } else {
        vec![0.5]
    };
    for fraction in ticks {
        let x = axis_x(fraction);
        let label = if fraction * length > 0.0 {
            format!("+{}", human_span(fraction * length))
        } else {
            "0".to_string()
        };
        writeln!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"#444\"/>\
             <text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\" class=\"muted\">{label}</text>",
            AXIS_Y - 4.0,
            AXIS_Y + 4.0,
            AXIS_Y + 20.0,
        )?;
    }
    Ok(())
}

fn axis_x(fraction: f64) -> f64 {
    AXIS_LEFT + fraction * (AXIS_RIGHT - AXIS_LEFT)
}

/// One reset's marker, linking to its flow's section, with a tooltip.
fn write_marker(
    flow: u64,
    reset: &ResetReport,
    fraction: f64,
    out: &mut dyn Write,
) -> io::Result<()> {
    let tooltip = format!(
        "flow {flow}, frame {}, {}, {}",
        reset.frame, reset.verdict, reset.scenario
    );
    writeln!(
        out,
        "<a href=\"#flow-{flow}\"><circle class=\"reset-mark {}\" cx=\"{:.1}\" cy=\"{}\" \
         r=\"6\" fill=\"{}\" fill-opacity=\"0.85\" stroke=\"#fff\"><title>{}</title></circle></a>",
        verdict_class(reset.verdict),
        axis_x(fraction),
        AXIS_Y - 14.0,
        verdict_colour(reset.verdict),
        escape(&tooltip),
    )
}

// ---------------------------------------------------------------------------------------------
// Flow sections

/// The listed flows that have at least one reset.
fn reset_flows(report: &Report) -> impl Iterator<Item = &FlowReport> {
    report.flows.iter().filter(|f| !f.resets.is_empty())
}

/// One section per flow with resets.
fn write_flows(report: &Report, out: &mut dyn Write) -> io::Result<()> {
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
        escape(&address(&flow.client)),
        escape(&address(&flow.server)),
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
        escape(&address(&flow.client)),
        escape(&address(&flow.server))
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
        escape(&address(&reset.src)),
        escape(&address(&reset.dst)),
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

// ---------------------------------------------------------------------------------------------
// Ladder diagram: rows and hop estimates

/// One arrow of a ladder diagram: a context packet or a reset.
struct Row<'a> {
    input: usize,
    frame: u64,
    ts: &'a str,
    /// Milliseconds from the flow's first listed reset.
    at_ms: f64,
    /// `client` or `server`: whose address it carries.
    from: &'a str,
    flags: &'a str,
    seq: u32,
    ack: Option<u32>,
    len: u32,
    ttl: u8,
    /// The listed reset this row is, if it is one.
    reset: Option<&'a ResetReport>,
}

impl<'a> Row<'a> {
    fn from_reset(reset: &'a ResetReport, at_ms: f64) -> Self {
        Row {
            input: reset.input,
            frame: reset.frame,
            ts: &reset.ts,
            at_ms,
            from: reset.from,
            flags: &reset.flags,
            seq: reset.seq,
            ack: reset.ack,
            len: reset.len,
            ttl: reset.ttl,
            reset: Some(reset),
        }
    }

    /// `shift_ms` is where the packet's own reset stands, from the flow's first reset.
    fn from_packet(packet: &'a PacketReport, shift_ms: f64) -> Self {
        Row {
            input: packet.input,
            frame: packet.frame,
            ts: &packet.ts,
            at_ms: shift_ms + packet.offset_ms,
            from: packet.from,
            flags: &packet.flags,
            seq: packet.seq,
            ack: packet.ack,
            len: packet.len,
            ttl: packet.ttl,
            reset: None,
        }
    }

    fn is_rst(&self) -> bool {
        self.flags.contains('R')
    }
}

/// The flow's resets and the packets around them, each (input, frame) once, in time order.
fn ladder_rows(flow: &FlowReport) -> Vec<Row<'_>> {
    let base = flow.resets.first().and_then(|r| parse_ts(&r.ts));
    let mut rows: BTreeMap<(usize, u64), Row<'_>> = BTreeMap::new();
    for reset in &flow.resets {
        let shift = match (&base, parse_ts(&reset.ts)) {
            (Some(base), Some(time)) => seconds_between(base, &time) * 1000.0,
            _ => 0.0,
        };
        // A listed reset always wins over the same frame seen as another reset's context.
        rows.insert((reset.input, reset.frame), Row::from_reset(reset, shift));
        for packet in reset.packets_before.iter().chain(&reset.packets_after) {
            rows.entry((packet.input, packet.frame))
                .or_insert_with(|| Row::from_packet(packet, shift));
        }
    }
    let mut rows: Vec<Row<'_>> = rows.into_values().collect();
    rows.sort_by(|a, b| {
        a.at_ms
            .total_cmp(&b.at_ms)
            .then((a.input, a.frame).cmp(&(b.input, b.frame)))
    });
    rows
}

/// What the ladder draws, top to bottom.
enum Item<'r, 'a> {
    Packet(&'r Row<'a>),
    /// A long idle pause, in seconds.
    Gap(f64),
}

/// The rows with a break wherever the pause before a row is long, both absolutely (over 5 s)
/// and against the median pause (over 10 times it).
fn with_breaks<'r, 'a>(rows: &'r [Row<'a>]) -> Vec<Item<'r, 'a>> {
    let pauses: Vec<f64> = rows
        .windows(2)
        .map(|pair| (pair[1].at_ms - pair[0].at_ms).max(0.0))
        .collect();
    let median = lower_median(&pauses);
    let mut items = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        if let Some(&pause) = index.checked_sub(1).and_then(|i| pauses.get(i))
            && pause > IDLE_MIN_MS
            && pause > IDLE_MEDIAN_FACTOR * median
        {
            items.push(Item::Gap(pause / 1000.0));
        }
        items.push(Item::Packet(row));
    }
    items
}

/// The lower median (the smaller middle value of an even count); 0 for no values.
fn lower_median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n => sorted[(n - 1) / 2],
    }
}

/// The initial TTL a sender most likely used: the smallest common default at or above `ttl`.
fn initial_ttl(ttl: u8) -> u8 {
    [32, 64, 128, 255]
        .into_iter()
        .find(|&initial| initial >= ttl)
        .unwrap_or(u8::MAX)
}

/// Routers between the sender and the capture point, from the TTL left.
fn hops(ttl: u8) -> u8 {
    initial_ttl(ttl).saturating_sub(ttl)
}

/// A side's usual TTL: the most common among its non-RST segments in the ladder (the larger
/// TTL on a tie).
fn usual_ttl(rows: &[Row<'_>], side: &str) -> Option<u8> {
    let mut counts: BTreeMap<u8, usize> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.from == side && !r.is_rst()) {
        *counts.entry(row.ttl).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|&(ttl, n)| (n, ttl))
        .map(|(ttl, _)| ttl)
}

/// Where the ladder's lines stand, from the hop estimates.
struct Lanes<'a> {
    client_ttl: Option<u8>,
    server_ttl: Option<u8>,
    device: Option<Device<'a>>,
}

/// A firewall or middlebox that a reset's verdict puts on the path.
struct Device<'a> {
    x: f64,
    /// The first reset blamed on it: its verdict and TTL label the line.
    reset: &'a ResetReport,
}

impl<'a> Lanes<'a> {
    fn measure(flow: &'a FlowReport, rows: &[Row<'_>]) -> Self {
        let client_ttl = usual_ttl(rows, "client");
        let server_ttl = usual_ttl(rows, "server");
        let device = flow
            .resets
            .iter()
            .find(|r| is_path_verdict(r.verdict))
            .map(|reset| Device {
                x: CLIENT_X
                    + (SERVER_X - CLIENT_X)
                        * device_fraction(
                            reset.from,
                            hops(reset.ttl),
                            client_ttl.map(hops),
                            server_ttl.map(hops),
                        ),
                reset,
            });
        Lanes {
            client_ttl,
            server_ttl,
            device,
        }
    }

    /// The side whose packets crossed the fewest routers: the capture point is near it.
    fn capture_side(&self) -> Option<&'static str> {
        match (self.client_ttl.map(hops), self.server_ttl.map(hops)) {
            (Some(c), Some(s)) if s < c => Some("server"),
            (Some(_), _) => Some("client"),
            (None, Some(_)) => Some("server"),
            (None, None) => None,
        }
    }

    /// Where a row's arrow starts and ends: a forged RST starts at the device's line.
    fn arrow_ends(&self, row: &Row<'_>) -> (f64, f64) {
        let to = side_x(other_side(row.from));
        match (&self.device, row.reset) {
            (Some(device), Some(reset)) if is_path_verdict(reset.verdict) => (device.x, to),
            _ => (side_x(row.from), to),
        }
    }
}

/// The device's place between client (0) and server (1). The capture point sits where the
/// two sides' hop counts put it; the device is `rst_hops` from it towards the side the RST
/// claims to come from, in proportion to that side's own hop count.
fn device_fraction(
    claimed: &str,
    rst_hops: u8,
    client_hops: Option<u8>,
    server_hops: Option<u8>,
) -> f64 {
    let c = f64::from(client_hops.unwrap_or(0));
    let s = f64::from(server_hops.unwrap_or(0));
    let capture = if c + s > 0.0 { c / (c + s) } else { 0.5 };
    let (far_end, far_hops) = if claimed == "client" {
        (0.0, c)
    } else {
        (1.0, s)
    };
    let share = if far_hops > 0.0 {
        (f64::from(rst_hops) / far_hops).min(1.0)
    } else {
        0.5
    };
    (capture + (far_end - capture) * share).clamp(DEVICE_MARGIN, 1.0 - DEVICE_MARGIN)
}

fn is_path_verdict(verdict: &str) -> bool {
    matches!(verdict, "firewall" | "middlebox")
}

fn side_x(side: &str) -> f64 {
    if side == "server" { SERVER_X } else { CLIENT_X }
}

fn other_side(side: &str) -> &'static str {
    if side == "server" { "client" } else { "server" }
}

// ---------------------------------------------------------------------------------------------
// Ladder diagram: drawing

/// The flow's ladder: client and server lines (and the forging device's, when a verdict
/// blames one), one arrow per packet, time running downward, long pauses as breaks.
fn write_ladder(flow: &FlowReport, multi_input: bool, out: &mut dyn Write) -> io::Result<()> {
    let rows = ladder_rows(flow);
    let items = with_breaks(&rows);
    let lanes = Lanes::measure(flow, &rows);
    let top = if lanes.device.is_some() { 124.0 } else { 96.0 };
    let height = top + items.iter().map(|i| item_height(i, &lanes)).sum::<f64>() + 16.0;
    writeln!(
        out,
        "<figure class=\"ladder-figure\">\n<svg class=\"ladder\" data-flow=\"{id}\" \
         viewBox=\"0 0 {LADDER_WIDTH} {height}\" width=\"{LADDER_WIDTH}\" height=\"{height}\" \
         role=\"img\" aria-label=\"Ladder diagram of flow {id}\">",
        id = flow.id
    )?;
    write_lane_heads(flow, &lanes, out)?;
    write_lane_lines(&lanes, height, out)?;
    let mut y = top;
    for item in &items {
        match item {
            Item::Packet(row) => write_packet(row, &lanes, y, multi_input, out)?,
            Item::Gap(seconds) => write_gap(*seconds, y, out)?,
        }
        y += item_height(item, &lanes);
    }
    writeln!(out, "</svg>")?;
    let first_frame = flow.resets.first().map_or(0, |r| r.frame);
    let device_text = if lanes.device.is_some() {
        " The dashed line is the device the verdict blames, placed by its hop count."
    } else {
        ""
    };
    writeln!(
        out,
        "<figcaption>Time runs downward; times on the left are relative to the reset at frame \
         {first_frame}, frame numbers are on the right. RSTs are red.{device_text}\
         </figcaption>\n</figure>"
    )
}

/// Vertical space an item takes.
fn item_height(item: &Item<'_, '_>, lanes: &Lanes<'_>) -> f64 {
    match item {
        Item::Gap(_) => GAP_ROW,
        Item::Packet(row) if is_forged(row, lanes) => ROW + CLAIM_ROW,
        Item::Packet(_) => ROW,
    }
}

/// True when the row is a reset drawn from the device's line.
fn is_forged(row: &Row<'_>, lanes: &Lanes<'_>) -> bool {
    lanes.device.is_some() && row.reset.is_some_and(|r| is_path_verdict(r.verdict))
}

/// Labels above each line: role, address, usual TTL and hops, and the capture point.
fn write_lane_heads(flow: &FlowReport, lanes: &Lanes<'_>, out: &mut dyn Write) -> io::Result<()> {
    for (side, endpoint, ttl) in [
        ("client", &flow.client, lanes.client_ttl),
        ("server", &flow.server, lanes.server_ttl),
    ] {
        let x = side_x(side);
        let hop_text = ttl.map_or_else(
            || "TTL unknown".to_string(),
            |ttl| format!("{side}: TTL {ttl}, {} hops", hops(ttl)),
        );
        writeln!(
            out,
            "<text x=\"{x}\" y=\"18\" text-anchor=\"middle\" class=\"head\">{side}</text>\
             <text x=\"{x}\" y=\"34\" text-anchor=\"middle\">{}</text>\
             <text x=\"{x}\" y=\"50\" text-anchor=\"middle\" class=\"muted\">{hop_text}</text>",
            escape(&address(endpoint))
        )?;
    }
    if let Some(side) = lanes.capture_side() {
        writeln!(
            out,
            "<text x=\"{}\" y=\"66\" text-anchor=\"middle\" class=\"capture-point muted\">\
             &#9673; capture point</text>",
            side_x(side)
        )?;
    }
    if let Some(device) = &lanes.device {
        writeln!(
            out,
            "<text x=\"{x:.1}\" y=\"88\" text-anchor=\"middle\" class=\"head lbl\" \
             fill=\"{}\">{}?</text><text x=\"{x:.1}\" y=\"104\" text-anchor=\"middle\" \
             class=\"muted lbl\">RST: TTL {}, {} hops</text>",
            verdict_colour(device.reset.verdict),
            escape(device.reset.verdict),
            device.reset.ttl,
            hops(device.reset.ttl),
            x = device.x
        )?;
    }
    Ok(())
}

/// The vertical lines: solid for the endpoints, dashed for the device.
fn write_lane_lines(lanes: &Lanes<'_>, height: f64, out: &mut dyn Write) -> io::Result<()> {
    let bottom = height - 8.0;
    for x in [CLIENT_X, SERVER_X] {
        writeln!(
            out,
            "<line class=\"lane\" x1=\"{x}\" y1=\"74\" x2=\"{x}\" y2=\"{bottom}\" \
             stroke=\"#333\" stroke-width=\"2\"/>"
        )?;
    }
    if let Some(device) = &lanes.device {
        writeln!(
            out,
            "<line class=\"lane device\" x1=\"{x:.1}\" y1=\"110\" x2=\"{x:.1}\" y2=\"{bottom}\" \
             stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>",
            verdict_colour(device.reset.verdict),
            x = device.x
        )?;
    }
    Ok(())
}

/// One packet's arrow with its label, time (left), frame (right) and tooltip.
fn write_packet(
    row: &Row<'_>,
    lanes: &Lanes<'_>,
    top: f64,
    multi_input: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let y = top + 22.0;
    let (x1, x2) = lanes.arrow_ends(row);
    let class = if row.is_rst() { "pkt rst" } else { "pkt" };
    let tooltip = format!(
        "frame {} (input {}), {}, from the {}",
        row.frame, row.input, row.ts, row.from
    );
    writeln!(
        out,
        "<g class=\"{class}\" data-frame=\"{}\"><title>{}</title>",
        row.frame,
        escape(&tooltip)
    )?;
    write_arrow(x1, x2, y, row.is_rst(), out)?;
    let label = packet_label(row);
    writeln!(
        out,
        "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" class=\"lbl\">{}</text>",
        label_x(x1, x2, &label),
        y - 6.0,
        escape(&label)
    )?;
    if is_forged(row, lanes) {
        let claim = format!("claims to be the {}", row.from);
        writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" class=\"lbl claim\">{}</text>",
            label_x(x1, x2, &claim),
            y + 15.0,
            escape(&claim)
        )?;
    }
    let frame = if multi_input {
        format!("#{} (input {})", row.frame, row.input)
    } else {
        format!("#{}", row.frame)
    };
    writeln!(
        out,
        "<text x=\"{TIME_X}\" y=\"{}\" text-anchor=\"end\" class=\"muted\">{}</text>\
         <text x=\"{FRAME_X}\" y=\"{}\" class=\"muted\">{frame}</text>\n</g>",
        y + 4.0,
        offset_label(row.at_ms),
        y + 4.0,
    )
}

/// A horizontal arrow from `x1` to `x2`: RSTs red and thicker.
fn write_arrow(x1: f64, x2: f64, y: f64, rst: bool, out: &mut dyn Write) -> io::Result<()> {
    let (colour, width) = if rst { ("#c62828", 3.0) } else { ("#333", 1.5) };
    let direction = if x2 >= x1 { 1.0 } else { -1.0 };
    let base = x2 - direction * 9.0;
    writeln!(
        out,
        "<line x1=\"{x1:.1}\" y1=\"{y}\" x2=\"{base:.1}\" y2=\"{y}\" stroke=\"{colour}\" \
         stroke-width=\"{width}\"/><polygon points=\"{x2:.1},{y} {base:.1},{} {base:.1},{}\" \
         fill=\"{colour}\"/>",
        y - 5.0,
        y + 5.0
    )
}

/// An idle break: a white band across the lines between two zig-zags, with the pause.
fn write_gap(seconds: f64, top: f64, out: &mut dyn Write) -> io::Result<()> {
    let (left, right) = (CLIENT_X - 30.0, SERVER_X + 30.0);
    let (upper, lower) = (top + 8.0, top + GAP_ROW - 8.0);
    writeln!(
        out,
        "<g class=\"gap\"><rect x=\"{left}\" y=\"{upper}\" width=\"{}\" height=\"{}\" \
         fill=\"#fff\"/>",
        right - left,
        lower - upper
    )?;
    for y in [upper, lower] {
        writeln!(
            out,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"#888\" stroke-width=\"1.5\"/>",
            zigzag(left, right, y)
        )?;
    }
    writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" class=\"gap-label\">{:.1} s idle</text></g>",
        (CLIENT_X + SERVER_X) / 2.0,
        (upper + lower) / 2.0 + 4.0,
        seconds
    )
}

/// Points of a zig-zag line from `left` to `right` around height `y`.
fn zigzag(left: f64, right: f64, y: f64) -> String {
    let step = 12.0;
    let teeth = ((right - left) / step).floor() as usize;
    let points: Vec<String> = (0..=teeth)
        .map(|i| {
            let dy = if i % 2 == 0 { -3.0 } else { 3.0 };
            format!("{:.1},{:.1}", left + i as f64 * step, y + dy)
        })
        .collect();
    points.join(" ")
}

/// Flags, sequence numbers, length and TTL of one packet.
fn packet_label(row: &Row<'_>) -> String {
    let ack = row.ack.map(|a| format!(" ack {a}")).unwrap_or_default();
    format!(
        "{} seq {}{ack} len {} TTL {}",
        flag_names(row.flags),
        row.seq,
        row.len,
        row.ttl
    )
}

/// Where a label centred on its arrow fits between the endpoint lines.
fn label_x(x1: f64, x2: f64, label: &str) -> f64 {
    let middle = (x1 + x2) / 2.0;
    let half = label.chars().count() as f64 * CHAR_WIDTH / 2.0;
    let (low, high) = (CLIENT_X + 4.0 + half, SERVER_X - 4.0 - half);
    if low <= high {
        middle.clamp(low, high)
    } else {
        (CLIENT_X + SERVER_X) / 2.0
    }
}

/// Time from the first reset: milliseconds up to 10 s, seconds beyond.
fn offset_label(ms: f64) -> String {
    if ms.abs() < 0.05 {
        "0 ms".to_string()
    } else if ms.abs() < 10_000.0 {
        format!("{ms:+.1} ms")
    } else {
        format!("{:+.3} s", ms / 1000.0)
    }
}

// ---------------------------------------------------------------------------------------------
// Small formatting helpers

/// The schema's flag letters as names: `PA` → `PSH,ACK`.
fn flag_names(flags: &str) -> String {
    if flags.is_empty() {
        return "(no flags)".to_string();
    }
    let names: Vec<String> = flags
        .chars()
        .map(|letter| match letter {
            'S' => "SYN".to_string(),
            'A' => "ACK".to_string(),
            'F' => "FIN".to_string(),
            'R' => "RST".to_string(),
            'P' => "PSH".to_string(),
            'U' => "URG".to_string(),
            'E' => "ECE".to_string(),
            'C' => "CWR".to_string(),
            other => other.to_string(),
        })
        .collect();
    names.join(",")
}

/// A verdict badge (the verdict text is escaped; its class is one of four known names).
fn badge(verdict: &str) -> String {
    format!(
        "<span class=\"badge {}\">{}</span>",
        verdict_class(verdict),
        escape(verdict)
    )
}

fn verdict_class(verdict: &str) -> &'static str {
    match verdict {
        "peer" => "v-peer",
        "firewall" => "v-firewall",
        "middlebox" => "v-middlebox",
        _ => "v-unknown",
    }
}

fn verdict_colour(verdict: &str) -> &'static str {
    match verdict {
        "peer" => "#2e7d32",
        "firewall" => "#ef6c00",
        "middlebox" => "#c62828",
        _ => "#757575",
    }
}

fn points_class(points_to: &str) -> &'static str {
    match points_to {
        "peer" => "peer",
        "path" => "path",
        _ => "neither",
    }
}

/// `ip:port`, with brackets around an IPv6 address.
fn address(endpoint: &Endpoint) -> String {
    if endpoint.ip.contains(':') {
        format!("[{}]:{}", endpoint.ip, endpoint.port)
    } else {
        format!("{}:{}", endpoint.ip, endpoint.port)
    }
}

/// A flow's duration in the unit that keeps it readable.
fn human_duration(secs: f64) -> String {
    if secs < 0.001 {
        format!("{:.3} ms", secs * 1e3)
    } else if secs < 1.0 {
        format!("{:.1} ms", secs * 1e3)
    } else {
        format!("{secs:.3} s")
    }
}

/// A span of capture time: milliseconds, seconds, minutes or hours.
fn human_span(secs: f64) -> String {
    if secs < 1.0 {
        format!("{:.0} ms", secs * 1e3)
    } else if secs < 120.0 {
        format!("{secs:.1} s")
    } else if secs < 7200.0 {
        format!("{:.1} min", secs / 60.0)
    } else {
        format!("{:.1} h", secs / 3600.0)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{SecondsFormat, TimeDelta};

    use super::super::{EvidenceReport, PerSide, SCHEMA, Summary, Tool, VerdictCounts};
    use super::*;

    const BASE: &str = "2026-11-20T10:00:00Z";
    const HOSTILE: &str = "<script>alert(1)</script>";

    /// The RFC 3339 text `ms` milliseconds after `BASE`.
    fn ts(ms: f64) -> String {
        let base = parse_ts(BASE).unwrap();
        let time = base + TimeDelta::microseconds((ms * 1000.0) as i64);
        time.to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    fn endpoint(ip: &str, port: u16) -> Endpoint {
        Endpoint {
            ip: ip.to_string(),
            port,
        }
    }

    /// A context packet at `at_ms` from `BASE`, for a reset at `rst_ms`.
    fn packet(
        frame: u64,
        at_ms: f64,
        rst_ms: f64,
        from: &'static str,
        flags: &str,
        ttl: u8,
    ) -> PacketReport {
        PacketReport {
            input: 0,
            frame,
            ts: ts(at_ms),
            offset_ms: at_ms - rst_ms,
            from,
            flags: flags.to_string(),
            seq: 1000 + frame as u32,
            ack: flags.contains('A').then_some(2000),
            len: 0,
            ttl,
        }
    }

    /// A reset from the server at `at_ms` with the given verdict and TTL.
    fn reset(frame: u64, at_ms: f64, verdict: &'static str, ttl: u8) -> ResetReport {
        ResetReport {
            input: 0,
            frame,
            ts: ts(at_ms),
            from: "server",
            src: endpoint("198.51.100.7", 443),
            dst: endpoint("192.0.2.10", 51514),
            flags: "RA".to_string(),
            seq: 3_735_928_559,
            ack: Some(305_419_896),
            ttl,
            ip_id: Some(0),
            len: 0,
            checksum: "valid",
            verdict,
            confidence: 0.9,
            scenario: "idle_timeout",
            evidence: vec![EvidenceReport {
                signal: "ttl_mismatch".to_string(),
                points_to: "path",
                detail: "RST arrived with TTL 62 (2 hops)".to_string(),
            }],
            explanation: "A device 2 hops away reset the connection.".to_string(),
            advice: vec!["Send TCP keepalives more often.".to_string()],
            packets_before: Vec::new(),
            packets_after: Vec::new(),
        }
    }

    /// A handshake and one data exchange from `start_ms`, the server 12 hops away.
    fn handshake(start_ms: f64, rst_ms: f64) -> Vec<PacketReport> {
        vec![
            packet(1, start_ms, rst_ms, "client", "S", 64),
            packet(2, start_ms + 20.0, rst_ms, "server", "SA", 52),
            packet(3, start_ms + 21.0, rst_ms, "client", "A", 64),
            packet(4, start_ms + 30.0, rst_ms, "client", "PA", 64),
            packet(5, start_ms + 52.0, rst_ms, "server", "A", 52),
        ]
    }

    fn flow(id: u64, resets: Vec<ResetReport>) -> FlowReport {
        FlowReport {
            id,
            client: endpoint("192.0.2.10", 51514),
            server: endpoint("198.51.100.7", 443),
            first_ts: ts(0.0),
            last_ts: ts(9000.0),
            duration_s: 9.0,
            packets: PerSide {
                client: 3,
                server: 3,
            },
            payload_bytes: PerSide {
                client: 100,
                server: 0,
            },
            conn_state: "RSTR".to_string(),
            history: "ShADr".to_string(),
            close: if resets.is_empty() { "fin" } else { "rst" },
            handshake_rtt_ms: Some(20.0),
            retransmissions: PerSide {
                client: 0,
                server: 0,
            },
            zero_windows: PerSide {
                client: 0,
                server: 0,
            },
            keepalives: PerSide {
                client: 0,
                server: 0,
            },
            tunneled: false,
            resets,
            resets_not_listed: 0,
        }
    }

    fn input(path: &str) -> InputReport {
        InputReport {
            path: path.to_string(),
            link_type: "EN10MB".to_string(),
            packets: 20,
            first_ts: Some(ts(0.0)),
            last_ts: Some(ts(20_000.0)),
            truncated_packets: 0,
            undecodable_packets: 0,
            non_tcp_packets: 0,
            filtered_packets: 0,
            tcp_packets: 20,
            copies_on_other_interfaces: 0,
            complete: true,
            dropped_by_kernel: None,
            dropped_by_interface: None,
        }
    }

    fn report(flows: Vec<FlowReport>) -> Report {
        Report {
            schema: SCHEMA,
            tool: Tool {
                name: "rstscope",
                version: "0.1.0",
            },
            command: "rstscope analyze trace.pcap".to_string(),
            anonymized: false,
            inputs: vec![input("trace.pcap")],
            summary: Summary {
                tcp_flows: flows.len() as u64,
                resets: flows.iter().map(|f| f.resets.len() as u64).sum(),
                verdicts: VerdictCounts::default(),
                ..Summary::default()
            },
            flows,
            warnings: Vec::new(),
        }
    }

    /// A firewall reset 8 s after a quiet handshake: idle break and device line.
    fn firewall_flow(id: u64) -> FlowReport {
        let mut rst = reset(6, 8052.0, "firewall", 62);
        rst.packets_before = handshake(0.0, 8052.0);
        flow(id, vec![rst])
    }

    /// A genuine server reset right after the handshake.
    fn peer_flow(id: u64) -> FlowReport {
        let mut rst = reset(6, 60.0, "peer", 52);
        rst.packets_before = handshake(0.0, 60.0);
        flow(id, vec![rst])
    }

    fn render(report: &Report) -> String {
        let mut out = Vec::new();
        write_html(report, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

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
    fn firewall_verdict_draws_the_device_line() {
        let page = render(&report(vec![firewall_flow(1)]));
        assert!(page.contains("class=\"lane device\""));
        assert!(page.contains(">firewall?</text>"));
        assert!(page.contains("claims to be the server"));
        assert!(page.contains("RST: TTL 62, 2 hops"));
        assert!(page.contains("server: TTL 52, 12 hops"));
        assert!(page.contains("client: TTL 64, 0 hops"));
        assert!(page.contains("capture point"));
        // The forged RST starts on the device's line: 2 of the server's 12 hops from the
        // client's side, where the capture point is.
        let x = CLIENT_X + (SERVER_X - CLIENT_X) * 2.0 / 12.0;
        assert!(page.contains(&format!("<line x1=\"{x:.1}\" y1=")));
    }

    #[test]
    fn peer_verdict_draws_no_device_line() {
        let page = render(&report(vec![peer_flow(1)]));
        assert!(!page.contains("class=\"lane device\""));
        assert!(!page.contains("?</text>"));
        assert!(!page.contains("claims to be"));
    }

    #[test]
    fn idle_gap_renders_a_break_with_its_duration() {
        let page = render(&report(vec![firewall_flow(1)]));
        assert_eq!(page.matches("<g class=\"gap\">").count(), 1);
        assert!(page.contains("8.0 s idle"));
        let short = render(&report(vec![peer_flow(1)]));
        assert!(!short.contains("s idle"));
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
        assert!(page.contains("Addresses in this report are anonymised (prefix-preserving)"));
        assert!(page.contains("<code class=\"command\">rstscope analyze trace.pcap</code>"));
        assert!(page.contains("no: cut off"));
        assert!(page.contains("7 by kernel"));
        assert!(page.contains("<svg class=\"timeline\""));
        assert_eq!(page.matches("class=\"reset-mark v-firewall\"").count(), 1);
        assert!(page.contains("frame.number == 6"));
        assert!(page.contains("<code>frame.number in {1 2 3 4 5 6}</code>"));
        assert!(page.contains("<table class=\"evidence\">"));
        assert!(page.contains("href=\"#flow-1\""));
    }

    #[test]
    fn timeline_without_timestamps_or_length() {
        let mut rep = report(vec![peer_flow(1)]);
        rep.inputs[0].first_ts = Some(ts(0.0));
        rep.inputs[0].last_ts = Some(ts(0.0));
        let page = render(&rep);
        assert!(page.contains("<svg class=\"timeline\""));
        assert!(page.contains("cx=\"500.0\""));

        let mut rep = report(vec![peer_flow(1)]);
        rep.inputs[0].first_ts = None;
        rep.inputs[0].last_ts = None;
        rep.flows[0].first_ts = "bad".to_string();
        rep.flows[0].last_ts = "bad".to_string();
        let page = render(&rep);
        assert!(!page.contains("<svg class=\"timeline\""));
        assert!(page.contains("class=\"timeline-none\""));
        assert_eq!(page.matches("<svg class=\"ladder\"").count(), 1);
    }

    #[test]
    fn output_is_deterministic() {
        let rep = report(vec![firewall_flow(1), peer_flow(2)]);
        assert_eq!(render(&rep), render(&rep));
    }

    #[test]
    fn hop_estimates() {
        assert_eq!(initial_ttl(52), 64);
        assert_eq!(hops(52), 12);
        assert_eq!(hops(62), 2);
        assert_eq!(hops(64), 0);
        assert_eq!(hops(30), 2);
        assert_eq!(hops(120), 8);
        assert_eq!(hops(250), 5);
        assert_eq!(hops(255), 0);
        assert_eq!(hops(0), 32);
    }

    #[test]
    fn device_sits_between_capture_point_and_claimed_side() {
        // Capture at the client, server 12 hops away, RST 2 hops away.
        assert!((device_fraction("server", 2, Some(0), Some(12)) - 2.0 / 12.0).abs() < 1e-9);
        // Capture at the server, RST claiming the client from 3 of its 12 hops.
        assert!((device_fraction("client", 3, Some(12), Some(0)) - 0.75).abs() < 1e-9);
        // Nothing known: somewhere on the claimed side, never on an endpoint's line.
        let f = device_fraction("server", 0, None, None);
        assert!((DEVICE_MARGIN..=1.0 - DEVICE_MARGIN).contains(&f));
    }

    #[test]
    fn flags_are_named() {
        assert_eq!(flag_names("PA"), "PSH,ACK");
        assert_eq!(flag_names("SA"), "SYN,ACK");
        assert_eq!(flag_names("RA"), "RST,ACK");
        assert_eq!(flag_names("FA"), "FIN,ACK");
        assert_eq!(flag_names("S"), "SYN");
        assert_eq!(flag_names("U"), "URG");
    }

    #[test]
    fn breaks_need_a_long_pause_against_the_median() {
        let flow = firewall_flow(1);
        let rows = ladder_rows(&flow);
        let items = with_breaks(&rows);
        let gaps: Vec<f64> = items
            .iter()
            .filter_map(|i| match i {
                Item::Gap(s) => Some(*s),
                Item::Packet(_) => None,
            })
            .collect();
        assert_eq!(gaps, vec![8.0]);
        assert_eq!(offset_label(-8052.0), "-8052.0 ms");
        assert_eq!(offset_label(0.0), "0 ms");
        assert_eq!(offset_label(-20_000.0), "-20.000 s");
    }

    /// Writes a sample page to look at: `cargo test --lib html -- --ignored`.
    #[test]
    #[ignore]
    fn write_demo_page() {
        let mut second = reset(7, 70.0, "peer", 52);
        second.packets_before = vec![packet(5, 52.0, 70.0, "server", "A", 52)];
        let mut two = peer_flow(2);
        two.resets.push(second);
        let mut rep = report(vec![firewall_flow(1), two]);
        rep.anonymized = true;
        rep.warnings = vec!["trace.pcap: cut off after 20 frames".to_string()];
        let mut file = std::fs::File::create("/tmp/rstscope-html-demo.html").unwrap();
        write_html(&rep, &mut file).unwrap();
    }
}
