//! The ladder (sequence) diagram of one flow, in inline SVG: a vertical line per endpoint (and
//! a dashed one for the device a verdict blames), one arrow per packet with time running
//! downward, and long pauses drawn as breaks. Which packets to draw comes from `rows`, where
//! the lines stand from `lanes`; this module only draws.

use std::io::{self, Write};

use super::escape;
use super::format::{flag_names, verdict_colour};
use super::lanes::{CLIENT_X, Lanes, SERVER_X, hops, is_path_verdict, side_x};
use super::rows::{Item, Row, ladder_rows, needs_microseconds, offset_label, with_breaks};
use crate::report::FlowReport;
use crate::report::diagnosis::{count, hops_in_words};
use crate::report::view::{View, seq_text};

/// Width of a ladder diagram, in SVG units.
const LADDER_WIDTH: f64 = 900.0;
/// Right edge of the time labels, and left edge of the frame labels.
const TIME_X: f64 = CLIENT_X - 14.0;
const FRAME_X: f64 = SERVER_X + 14.0;
/// Height of one packet's row; a forged RST's row is taller by its "claims to be" line, and a
/// label split in two lines by one line.
const ROW: f64 = 34.0;
const CLAIM_ROW: f64 = 14.0;
const LINE: f64 = 13.0;
/// Height of an idle break.
const GAP_ROW: f64 = 46.0;
/// Rough width of one character of an 11px monospace label.
const CHAR_WIDTH: f64 = 6.6;

/// The flow's ladder: client and server lines (and the forging device's, when a verdict
/// blames one), one arrow per packet, time running downward, long pauses as breaks.
pub(super) fn write_ladder(
    flow: &FlowReport,
    multi_input: bool,
    view: &View,
    out: &mut dyn Write,
) -> io::Result<()> {
    let rows = ladder_rows(flow);
    let items = with_breaks(&rows);
    let lanes = Lanes::measure(flow, &rows);
    let fine = needs_microseconds(&rows);
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
            Item::Packet(row) => write_packet(row, &lanes, y, multi_input, fine, view, out)?,
            Item::Gap(seconds) => write_gap(*seconds, y, out)?,
        }
        y += item_height(item, &lanes);
    }
    writeln!(out, "</svg>")?;
    let first_frame = flow.resets.first().map_or(0, |r| r.frame);
    let device_text = match &lanes.device {
        Some(device) if device.hops.is_some() => {
            " The dashed line is the device the verdict blames, at its distance from the capture point."
        }
        Some(_) => {
            " The dashed line is the device the verdict blames; its distance is unknown, so it is drawn half-way."
        }
        None => "",
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
        Item::Packet(row) => {
            let claim = if is_forged(row, lanes) {
                CLAIM_ROW
            } else {
                0.0
            };
            let lines = label_lines(row, lanes).len() as f64;
            ROW + claim + (lines - 1.0) * LINE
        }
    }
}

/// True when the row is a reset drawn from the device's line.
fn is_forged(row: &Row<'_>, lanes: &Lanes<'_>) -> bool {
    lanes.device.is_some() && row.reset.is_some_and(|r| is_path_verdict(r.verdict))
}

/// Labels above each line: role, address, usual TTL and distance; the capture point; the
/// device and its distance.
fn write_lane_heads(flow: &FlowReport, lanes: &Lanes<'_>, out: &mut dyn Write) -> io::Result<()> {
    for (side, endpoint, ttl) in [
        ("client", &flow.client, lanes.client_ttl),
        ("server", &flow.server, lanes.server_ttl),
    ] {
        let x = side_x(side);
        let hop_text = ttl.map_or_else(
            || "TTL unknown".to_string(),
            |t| {
                let learnt = if t.from_other_flows {
                    " (its other flows)"
                } else {
                    ""
                };
                format!(
                    "TTL {}{learnt}, {}",
                    t.ttl,
                    count(u64::from(hops(t.ttl)), "hop")
                )
            },
        );
        writeln!(
            out,
            "<text x=\"{x}\" y=\"18\" text-anchor=\"middle\" class=\"head\">{side}</text>\
             <text x=\"{x}\" y=\"34\" text-anchor=\"middle\">{}</text>\
             <text x=\"{x}\" y=\"50\" text-anchor=\"middle\" class=\"muted\">{}</text>",
            escape(&endpoint.to_string()),
            escape(&hop_text)
        )?;
    }
    if let Some(x) = lanes.capture_x {
        writeln!(
            out,
            "<text x=\"{x:.1}\" y=\"66\" text-anchor=\"middle\" class=\"capture-point muted\">\
             &#9673; capture point</text>"
        )?;
    }
    if let Some(device) = &lanes.device {
        let distance = device
            .hops
            .map_or_else(|| "distance unknown".to_string(), hops_in_words);
        // The label stands beside the line, on the side with room, so it crosses no other line.
        let (x, anchor) = if device.x > (CLIENT_X + SERVER_X) / 2.0 {
            (device.x - 6.0, "end")
        } else {
            (device.x + 6.0, "start")
        };
        writeln!(
            out,
            "<text x=\"{x:.1}\" y=\"88\" text-anchor=\"{anchor}\" class=\"head lbl\" \
             fill=\"{}\">{}? RST TTL {}</text><text x=\"{x:.1}\" y=\"104\" \
             text-anchor=\"{anchor}\" class=\"muted lbl\">{}</text>",
            verdict_colour(device.reset.verdict),
            escape(device.reset.verdict),
            device.reset.ttl,
            escape(&distance),
        )?;
    }
    Ok(())
}

/// The vertical lines: solid for the endpoints, dashed for the device, dotted for the capture
/// point when it stands between them.
fn write_lane_lines(lanes: &Lanes<'_>, height: f64, out: &mut dyn Write) -> io::Result<()> {
    let bottom = height - 8.0;
    for x in [CLIENT_X, SERVER_X] {
        writeln!(
            out,
            "<line class=\"lane\" x1=\"{x}\" y1=\"74\" x2=\"{x}\" y2=\"{bottom}\" \
             stroke=\"#333\" stroke-width=\"2\"/>"
        )?;
    }
    if let Some(x) = lanes.capture_x
        && x > CLIENT_X + 1.0
        && x < SERVER_X - 1.0
    {
        writeln!(
            out,
            "<line class=\"lane capture\" x1=\"{x:.1}\" y1=\"74\" x2=\"{x:.1}\" y2=\"{bottom}\" \
             stroke=\"#999\" stroke-width=\"1\" stroke-dasharray=\"1 4\"/>"
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
    fine: bool,
    view: &View,
    out: &mut dyn Write,
) -> io::Result<()> {
    let lines = label_lines(row, lanes);
    let y = top + 22.0 + (lines.len() as f64 - 1.0) * LINE;
    let (x1, x2) = lanes.arrow_ends(row);
    let class = if row.is_rst() { "pkt rst" } else { "pkt" };
    let tooltip = format!(
        "frame {} (input {}), {}, from the {}",
        row.frame,
        row.input,
        view.time(row.ts),
        row.from
    );
    writeln!(
        out,
        "<g class=\"{class}\" data-frame=\"{}\"><title>{}</title>",
        row.frame,
        escape(&tooltip)
    )?;
    write_arrow(x1, x2, y, row.is_rst(), out)?;
    let span = lanes.label_span();
    for (i, line) in lines.iter().enumerate() {
        let line_y = y - 6.0 - (lines.len() - 1 - i) as f64 * LINE;
        writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{line_y}\" text-anchor=\"middle\" class=\"lbl\">{}</text>",
            label_x(x1, x2, line, span),
            escape(line)
        )?;
    }
    if is_forged(row, lanes) {
        let claim = format!("claims to be the {}", row.from);
        writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" class=\"lbl claim\">{}</text>",
            label_x(x1, x2, &claim, span),
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
        offset_label(row.at_ms, fine),
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

/// Flags, sequence numbers (raw, and Wireshark's relative ones), length and TTL of one packet:
/// one line when it fits the space labels may use, else two (flags, length and TTL; then the
/// sequence numbers), else three (the acknowledgment number on a line of its own).
fn label_lines(row: &Row<'_>, lanes: &Lanes<'_>) -> Vec<String> {
    let ack = row
        .ack
        .map(|a| format!("ack {}", seq_text(a, row.ack_relative)));
    let flags = flag_names(row.flags);
    let seq = format!("seq {}", seq_text(row.seq, row.seq_relative));
    let numbers = match &ack {
        Some(ack) => format!("{seq} {ack}"),
        None => seq.clone(),
    };
    let head = format!("{flags} len {} TTL {}", row.len, row.ttl);
    let one = format!("{flags} {numbers} len {} TTL {}", row.len, row.ttl);
    let (low, high) = lanes.label_span();
    let fits = |text: &str| text_width(text) <= high - low;
    if fits(&one) {
        vec![one]
    } else if fits(&numbers) {
        vec![head, numbers]
    } else {
        [Some(head), Some(seq), ack].into_iter().flatten().collect()
    }
}

fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * CHAR_WIDTH
}

/// Where a label centred on its arrow fits inside `span` (never across the device's line).
fn label_x(x1: f64, x2: f64, label: &str, span: (f64, f64)) -> f64 {
    let middle = (x1 + x2) / 2.0;
    let half = text_width(label) / 2.0;
    let (low, high) = (span.0 + half, span.1 - half);
    if low <= high {
        middle.clamp(low, high)
    } else {
        (span.0 + span.1) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::html::fixtures::{firewall_flow, peer_flow, render, report};

    #[test]
    fn firewall_verdict_draws_the_device_line() {
        let page = render(&report(vec![firewall_flow(1)]));
        assert!(page.contains("class=\"lane device\""));
        assert!(page.contains(">firewall? RST TTL 62</text>"));
        assert!(page.contains("claims to be the server"));
        assert!(page.contains(">2 hops from the capture point</text>"));
        assert!(page.contains("TTL 52, 12 hops"));
        assert!(page.contains("TTL 64, 0 hops"));
        assert!(page.contains("capture point"));
        // The forged RST starts on the device's line: 2 of the server's 12 hops from the
        // client's side, where the capture point is.
        let x = CLIENT_X + (SERVER_X - CLIENT_X) * 2.0 / 12.0;
        assert!(page.contains(&format!("<line x1=\"{x:.1}\" y1=")));
    }

    /// No label crosses the device's line: each lies wholly on one side of it.
    #[test]
    fn labels_never_cross_the_device_line() {
        for hops in [Some(2), Some(6), Some(11), None] {
            let mut flow = firewall_flow(1);
            flow.resets[0].device_hops = hops;
            let rows = ladder_rows(&flow);
            let lanes = Lanes::measure(&flow, &rows);
            let device = lanes.device.as_ref().map_or(0.0, |d| d.x);
            for row in &rows {
                let (x1, x2) = lanes.arrow_ends(row);
                for line in label_lines(row, &lanes) {
                    let x = label_x(x1, x2, &line, lanes.label_span());
                    let half = text_width(&line) / 2.0;
                    assert!(
                        x + half < device || x - half > device,
                        "{line:?} at {x} crosses the device line at {device} ({hops:?} hops)"
                    );
                }
            }
        }
    }

    #[test]
    fn a_device_of_unknown_distance_says_so() {
        let mut flow = firewall_flow(1);
        flow.resets[0].device_hops = None;
        let page = render(&report(vec![flow]));
        assert!(page.contains(">distance unknown</text>"));
        assert!(page.contains("its distance is unknown, so it is drawn half-way"));
    }

    /// A refused SYN: the server sent nothing in this flow, and the verdict compared the RST
    /// with the server's TTL in its other flows; the ladder shows that baseline.
    #[test]
    fn the_baseline_from_other_flows_is_shown() {
        let mut flow = peer_flow(1);
        flow.resets[0].packets_before.retain(|p| p.from == "client");
        flow.resets[0].sender_ttl = Some(crate::report::SenderTtlReport {
            usual: 52,
            packets: 40,
            learnt_from: "other_flows",
        });
        let page = render(&report(vec![flow]));
        assert!(page.contains("TTL 52 (its other flows), 12 hops"), "{page}");
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
}
