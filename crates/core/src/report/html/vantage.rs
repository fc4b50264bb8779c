//! `compare`'s picture of one flow: the client and the server at the ends, the two capture
//! points between them, and each reset drawn from where it started to where it went, with a
//! dot at every point that saw it. A reset its claimed sender never sent starts between the
//! points; packets lost between the points end there with a cross.

use std::io::{self, Write};

use super::escape;
use super::format::verdict_colour;
use crate::report::comparison::{TwoPointPacket, input_names};
use crate::report::{FlowReport, Report};

const WIDTH: f64 = 900.0;
const CLIENT_X: f64 = 110.0;
const SERVER_X: f64 = 790.0;
/// The capture points' lines: the one nearer the clients on the left.
const NEAR_CLIENT_X: f64 = 330.0;
const NEAR_SERVER_X: f64 = 570.0;
const TOP: f64 = 78.0;
const ROW: f64 = 46.0;
/// Lost packets drawn, at most.
const LOST_DRAWN: usize = 6;

/// Draws the flow as both capture points saw it (nothing for a one-capture report, or a flow
/// with no reset and nothing lost).
pub(super) fn write_vantage(
    report: &Report,
    flow: &FlowReport,
    out: &mut dyn Write,
) -> io::Result<()> {
    let Some(comparison) = &report.comparison else {
        return Ok(());
    };
    if flow.resets.is_empty() && flow.lost.is_empty() && flow.seen_packets.is_empty() {
        return Ok(());
    }
    let names = input_names(report);
    // Where each input's line stands: the first input nearer the clients unless the
    // comparison found otherwise.
    let point_x = if comparison.nearer_clients == Some(1) {
        [NEAR_SERVER_X, NEAR_CLIENT_X]
    } else {
        [NEAR_CLIENT_X, NEAR_SERVER_X]
    };
    let lost: Vec<_> = flow.lost.iter().take(LOST_DRAWN).collect();
    // Every packet around the resets when the comparison listed them; else the resets and
    // the lost packets alone.
    let rows = if flow.seen_packets.is_empty() {
        flow.resets.len() + lost.len()
    } else {
        flow.seen_packets.len()
    };
    let height = TOP + ROW * rows as f64 + 20.0;
    writeln!(
        out,
        "<figure class=\"vantage-figure\">\n<svg class=\"vantage\" data-flow=\"{id}\" \
         viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\" role=\"img\" \
         aria-label=\"Flow {id} as the two capture points saw it\">",
        id = flow.id
    )?;
    let heads = [
        (CLIENT_X, format!("client {}", flow.client), "end"),
        (point_x[0], format!("{} (capture)", names[0]), "point"),
        (point_x[1], format!("{} (capture)", names[1]), "point"),
        (SERVER_X, format!("server {}", flow.server), "end"),
    ];
    for (x, label, kind) in &heads {
        writeln!(
            out,
            "<text class=\"lane-head\" x=\"{x}\" y=\"24\" text-anchor=\"middle\">{}</text>\n\
             <line class=\"lane {kind}\" x1=\"{x}\" y1=\"36\" x2=\"{x}\" y2=\"{}\" stroke=\"#555\" \
             stroke-width=\"{}\"{}/>",
            escape(label),
            height - 8.0,
            if *kind == "point" { 1.5 } else { 2.5 },
            if *kind == "point" {
                " stroke-dasharray=\"6 4\""
            } else {
                ""
            }
        )?;
    }
    writeln!(
        out,
        "<text class=\"between\" x=\"{}\" y=\"48\" text-anchor=\"middle\" fill=\"#777\">the path between the points</text>",
        (NEAR_CLIENT_X + NEAR_SERVER_X) / 2.0
    )?;
    let mut y = TOP;
    if !flow.seen_packets.is_empty() {
        for row in &flow.seen_packets {
            write_row(out, flow, row, point_x, &names, y)?;
            y += ROW;
        }
        return finish(out);
    }
    for reset in &flow.resets {
        let (from_x, to_x) = if reset.from == "client" {
            (CLIENT_X, SERVER_X)
        } else {
            (SERVER_X, CLIENT_X)
        };
        let made_between = reset
            .evidence
            .first()
            .is_some_and(|e| e.signal == "never_left_sender");
        let start = if made_between {
            (NEAR_CLIENT_X + NEAR_SERVER_X) / 2.0
        } else {
            from_x
        };
        let colour = verdict_colour(reset.verdict);
        arrow(out, start, to_x, y, colour)?;
        if made_between {
            writeln!(
                out,
                "<circle cx=\"{start}\" cy=\"{y}\" r=\"5\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>"
            )?;
        }
        for sighting in &reset.seen {
            let x = point_x[sighting.input.min(1)];
            writeln!(
                out,
                "<circle class=\"seen\" cx=\"{x}\" cy=\"{y}\" r=\"4\" fill=\"{colour}\"><title>{} frame {}, TTL {}</title></circle>",
                escape(&names[sighting.input.min(1)]),
                sighting.frame,
                sighting.ttl
            )?;
        }
        let seen: Vec<String> = reset
            .seen
            .iter()
            .map(|s| format!("#{} in {}", s.frame, names[s.input.min(1)]))
            .collect();
        let label = format!(
            "RST {} from the {}: {} {:.2}{}; seen {}",
            reset.flags,
            reset.from,
            reset.verdict,
            reset.confidence,
            if made_between {
                ", made between the points"
            } else {
                ""
            },
            if seen.is_empty() {
                "once".to_string()
            } else {
                seen.join(", ")
            }
        );
        writeln!(
            out,
            "<text class=\"row-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{colour}\" paint-order=\"stroke\" stroke=\"#fff\" stroke-width=\"4\">{}</text>",
            (CLIENT_X + SERVER_X) / 2.0,
            y - 9.0,
            escape(&label)
        )?;
        y += ROW;
    }
    for packet in lost {
        let (from_x, toward) = if packet.from == "client" {
            (CLIENT_X, 1.0)
        } else {
            (SERVER_X, -1.0)
        };
        let at = point_x[packet.input.min(1)];
        let end = at + toward * 60.0;
        arrow(out, from_x, end, y, "#555")?;
        writeln!(
            out,
            "<text x=\"{end}\" y=\"{}\" text-anchor=\"middle\" fill=\"#c62828\" font-size=\"16\">✕</text>\n\
             <circle cx=\"{at}\" cy=\"{y}\" r=\"4\" fill=\"#555\"/>",
            y + 5.0
        )?;
        let label = format!(
            "{} seq {} ({} bytes) from the {}: seen in {} (#{}), never reached the other point",
            packet.flags,
            packet.seq,
            packet.len,
            packet.from,
            names[packet.input.min(1)],
            packet.frame
        );
        writeln!(
            out,
            "<text class=\"row-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\" paint-order=\"stroke\" stroke=\"#fff\" stroke-width=\"4\">{}</text>",
            (CLIENT_X + SERVER_X) / 2.0,
            y - 9.0,
            escape(&label)
        )?;
        y += ROW;
    }
    finish(out)
}

fn finish(out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "</svg>")?;
    writeln!(
        out,
        "<figcaption>The two capture points between the ends, time running downward: a dot where \
         a point saw the packet, its frame at each point in brackets; a packet drawn from a ring \
         between the points never passed the point nearer its sender (a reset its claimed sender \
         never sent); a cross marks a packet lost between the points.</figcaption>\n</figure>"
    )
}

/// One packet as the two points saw it: from the sender's line (or from between the points,
/// when the point nearer the sender did not see it) to the receiver's (or to between the
/// points, with a cross, when the point nearer the receiver did not).
fn write_row(
    out: &mut dyn Write,
    flow: &FlowReport,
    row: &TwoPointPacket,
    point_x: [f64; 2],
    names: &[String; 2],
    y: f64,
) -> io::Result<()> {
    let from_client = row.from == "client";
    let (sender_x, receiver_x) = if from_client {
        (CLIENT_X, SERVER_X)
    } else {
        (SERVER_X, CLIENT_X)
    };
    // The points in the order the packet meets them.
    let mut points = [0usize, 1usize];
    points.sort_by(|&p, &q| {
        let (dp, dq) = ((point_x[p] - sender_x).abs(), (point_x[q] - sender_x).abs());
        dp.total_cmp(&dq)
    });
    let [first, second] = points;
    let middle = (point_x[0] + point_x[1]) / 2.0;
    let start = if row.frames[first].is_some() {
        sender_x
    } else {
        middle
    };
    let end = if row.frames[second].is_some() {
        receiver_x
    } else {
        middle
    };
    let reset = flow.resets.iter().find(|reset| {
        reset
            .seen
            .iter()
            .any(|s| row.frames.get(s.input).copied().flatten() == Some(s.frame))
    });
    let colour = reset.map_or("#555", |reset| verdict_colour(reset.verdict));
    if (start - end).abs() > 1.0 {
        arrow(out, start, end, y, colour)?;
    }
    if row.frames[first].is_none() {
        writeln!(
            out,
            "<circle cx=\"{start}\" cy=\"{y}\" r=\"5\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>"
        )?;
    }
    if row.frames[second].is_none() && row.frames[first].is_some() {
        writeln!(
            out,
            "<text x=\"{end}\" y=\"{}\" text-anchor=\"middle\" fill=\"#c62828\" font-size=\"16\">✕</text>",
            y + 5.0
        )?;
    }
    for (input, frame) in row.frames.iter().enumerate() {
        if let Some(frame) = frame {
            writeln!(
                out,
                "<circle class=\"seen\" cx=\"{}\" cy=\"{y}\" r=\"4\" fill=\"{colour}\"><title>{} frame {frame}</title></circle>",
                point_x[input],
                escape(&names[input])
            )?;
        }
    }
    let frames: Vec<String> = row
        .frames
        .iter()
        .map(|frame| frame.map_or("-".to_string(), |f| format!("#{f}")))
        .collect();
    let mut label = format!("{} seq {}", row.flags, row.seq);
    if row.len > 0 {
        label.push_str(&format!(" len {}", row.len));
    }
    label.push_str(&format!("  [{}]", frames.join(" / ")));
    if let Some(reset) = reset {
        label.push_str(&format!(": {} {:.2}", reset.verdict, reset.confidence));
    }
    writeln!(
        out,
        "<text class=\"row-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{colour}\" paint-order=\"stroke\" stroke=\"#fff\" stroke-width=\"4\">{}</text>",
        (CLIENT_X + SERVER_X) / 2.0,
        y - 9.0,
        escape(&label)
    )
}

fn arrow(out: &mut dyn Write, from: f64, to: f64, y: f64, colour: &str) -> io::Result<()> {
    let head = if to > from { to - 8.0 } else { to + 8.0 };
    writeln!(
        out,
        "<line x1=\"{from}\" y1=\"{y}\" x2=\"{head}\" y2=\"{y}\" stroke=\"{colour}\" stroke-width=\"2\"/>\n\
         <polygon points=\"{to},{y} {head},{} {head},{}\" fill=\"{colour}\"/>",
        y - 5.0,
        y + 5.0
    )
}
