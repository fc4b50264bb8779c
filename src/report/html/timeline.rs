//! The summary's timeline: the capture as one horizontal axis in inline SVG, with one marker
//! per reset, coloured by its verdict and linking to its flow's section. The capture's time
//! range comes from `timestamps`.

use std::io::{self, Write};

use super::escape;
use super::format::{human_span, verdict_class, verdict_colour};
use super::timestamps::{Span, capture_span, parse_ts};
use crate::report::{Report, ResetReport};

/// Timeline geometry: the SVG's size and the axis ends.
const TIMELINE_WIDTH: f64 = 1000.0;
const TIMELINE_HEIGHT: f64 = 84.0;
const AXIS_LEFT: f64 = 40.0;
const AXIS_RIGHT: f64 = 960.0;
const AXIS_Y: f64 = 46.0;

/// The capture as a horizontal axis with one marker per reset, coloured by verdict.
pub(super) fn write_timeline(report: &Report, out: &mut dyn Write) -> io::Result<()> {
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

#[cfg(test)]
mod tests {
    use crate::report::html::fixtures::{peer_flow, render, report, ts};

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
}
