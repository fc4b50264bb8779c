//! The summary's timeline: the capture as one horizontal axis in inline SVG, cut into equal
//! time bins, each with a bar of its resets stacked by verdict, so no reset hides under
//! another however many there are. The capture's time range comes from `timestamps`.

use std::io::{self, Write};

use super::escape;
use super::format::{human_span, verdict_class, verdict_colour};
use super::timestamps::{Span, capture_span, parse_ts};
use crate::report::Report;
use crate::report::diagnosis::count;
use crate::report::view::View;

/// Timeline geometry: the SVG's size, the axis ends, the bars' greatest height.
const TIMELINE_WIDTH: f64 = 1000.0;
const TIMELINE_HEIGHT: f64 = 110.0;
const AXIS_LEFT: f64 = 40.0;
const AXIS_RIGHT: f64 = 960.0;
const AXIS_Y: f64 = 80.0;
const BAR_HEIGHT: f64 = 64.0;
/// Time bins across the axis.
const BINS: usize = 92;
/// The verdicts, bottom of a bar first.
const VERDICTS: [&str; 4] = ["firewall", "middlebox", "unknown", "peer"];

/// The capture as a horizontal axis with one stacked bar of resets per time bin.
pub(super) fn write_timeline(report: &Report, view: &View, out: &mut dyn Write) -> io::Result<()> {
    let Some(span) = capture_span(report) else {
        return writeln!(
            out,
            "<p class=\"timeline-none\">No timestamps in the capture: no timeline.</p>"
        );
    };
    let mut bins = vec![[0u64; 4]; BINS];
    let mut undated = 0;
    for reset in report.flows.iter().flat_map(|f| &f.resets) {
        let Some(time) = parse_ts(&reset.ts) else {
            undated += 1;
            continue;
        };
        let bin = ((span.fraction(&time) * BINS as f64) as usize).min(BINS - 1);
        let verdict = VERDICTS
            .iter()
            .position(|v| *v == reset.verdict)
            .unwrap_or(2);
        bins[bin][verdict] += 1;
    }
    let tallest = bins
        .iter()
        .map(|b| b.iter().sum::<u64>())
        .max()
        .unwrap_or(0);
    writeln!(
        out,
        "<figure class=\"timeline-figure\">\n<svg class=\"timeline\" viewBox=\"0 0 \
         {TIMELINE_WIDTH} {TIMELINE_HEIGHT}\" width=\"{TIMELINE_WIDTH}\" \
         height=\"{TIMELINE_HEIGHT}\" role=\"img\" aria-label=\"Resets over the capture\">"
    )?;
    write_axis(&span, tallest, out)?;
    let bin_secs = span.seconds() / BINS as f64;
    for (index, bin) in bins.iter().enumerate() {
        if bin.iter().sum::<u64>() > 0 {
            write_bar(index, bin, tallest, bin_secs, out)?;
        }
    }
    writeln!(out, "</svg>")?;
    let undated_text = if undated > 0 {
        format!(
            " {} without a timestamp are not shown.",
            count(undated, "reset")
        )
    } else {
        String::new()
    };
    let unlisted = if report.summary.flows_not_listed > 0 {
        " It counts the resets of the listed flows."
    } else {
        ""
    };
    writeln!(
        out,
        "<figcaption>The capture from {} to {} ({}), in {BINS} equal bins of {}; each bar is the \
         bin's resets stacked by verdict (tallest: {}; hover for counts).{unlisted}{undated_text}\
         </figcaption>\n</figure>",
        escape(&view.moment(span.start_text)),
        escape(&view.moment(span.end_text)),
        human_span(span.seconds()),
        human_span(bin_secs),
        count(tallest, "reset"),
    )
}

/// The axis line, its tick labels (time from the start of the capture) and the count scale.
fn write_axis(span: &Span<'_>, tallest: u64, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "<line x1=\"{AXIS_LEFT}\" y1=\"{AXIS_Y}\" x2=\"{AXIS_RIGHT}\" y2=\"{AXIS_Y}\" \
         stroke=\"#444\" stroke-width=\"1.5\"/>"
    )?;
    let length = span.seconds();
    for k in 0..=4 {
        let fraction = f64::from(k) / 4.0;
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
            AXIS_Y,
            AXIS_Y + 4.0,
            AXIS_Y + 18.0,
        )?;
    }
    if tallest > 0 {
        writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"muted\">{tallest}</text>\
             <line x1=\"{}\" y1=\"{}\" x2=\"{AXIS_RIGHT}\" y2=\"{}\" stroke=\"#ddd\"/>",
            AXIS_LEFT - 6.0,
            AXIS_Y - BAR_HEIGHT + 4.0,
            AXIS_LEFT,
            AXIS_Y - BAR_HEIGHT,
            AXIS_Y - BAR_HEIGHT,
        )?;
    }
    Ok(())
}

fn axis_x(fraction: f64) -> f64 {
    AXIS_LEFT + fraction * (AXIS_RIGHT - AXIS_LEFT)
}

/// One bin's bar, its verdicts stacked, each part with its count as a tooltip. A bar of any
/// count is at least 2 units tall, so a single reset stays visible next to thousands.
fn write_bar(
    index: usize,
    bin: &[u64; 4],
    tallest: u64,
    bin_secs: f64,
    out: &mut dyn Write,
) -> io::Result<()> {
    let width = (AXIS_RIGHT - AXIS_LEFT) / BINS as f64;
    let x = AXIS_LEFT + index as f64 * width;
    let mut bottom = AXIS_Y;
    let from = human_span(index as f64 * bin_secs);
    for (verdict, &n) in VERDICTS.iter().zip(bin) {
        if n == 0 {
            continue;
        }
        let height = (n as f64 / tallest.max(1) as f64 * BAR_HEIGHT).max(2.0);
        let tooltip = format!("from +{from}: {} {verdict}", count(n, "reset"));
        writeln!(
            out,
            "<rect class=\"bar {}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{height:.1}\" \
             fill=\"{}\"><title>{}</title></rect>",
            verdict_class(verdict),
            x + 0.5,
            bottom - height,
            (width - 1.0).max(1.0),
            verdict_colour(verdict),
            escape(&tooltip)
        )?;
        bottom -= height;
    }
    Ok(())
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
        // No length: the reset falls in the middle bin.
        assert!(
            page.contains("<rect class=\"bar v-peer\" x=\"500.5\""),
            "{page}"
        );

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
