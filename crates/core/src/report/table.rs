//! The terminal view: the diagnosis first (the heaviest groups in words, the rest as a short
//! table), then the flows (a bounded selection by default, each reset on its own row; every
//! flow and every column with `--wide`/`--all`), then one paragraph of what was read.
//!
//! It fits the terminal's width on a terminal, and 100 columns in a pipe or a file (a ticket),
//! `COLUMNS` overriding both; addresses are never broken across lines.

use std::io::{self, Write};

use comfy_table::{
    Cell, CellAlignment, Color, ColumnConstraint, ContentArrangement, LineStyle, Table, Width,
};

use super::diagnosis::{self, DiagnosisGroup, count};
use super::view::{View, display_path};
use super::{FlowReport, Report, ResetReport};

mod flows;
use flows::*;

/// Groups told in words; the others go in a short table.
const GROUPS_IN_WORDS: usize = 3;
/// Groups in the short table.
const GROUPS_IN_TABLE: usize = 12;
/// Reset rows the default flows table shows.
const ROWS_SHOWN: usize = 40;
/// Resets of one flow shown before "+N more".
const RESETS_PER_FLOW: usize = 3;
/// Width in a pipe or a file.
const PLAIN_WIDTH: u16 = 100;

/// Columns apart by two spaces, a line under the header and nothing else: the table fits 100
/// columns with its addresses whole, and pastes into any ticket.
const BOXLESS_ASCII: comfy_table::TableStyle =
    comfy_table::TableStyle::new().header_separator(LineStyle::none().fill('-').junction('-'));
const BOXLESS_UTF8: comfy_table::TableStyle =
    comfy_table::TableStyle::new().header_separator(LineStyle::none().fill('─').junction('─'));

/// Table drawing options.
#[derive(Debug, Clone, Copy)]
pub struct TableStyle {
    /// Output goes to a terminal: box-drawing characters, fitted to its width. Otherwise
    /// (a file, a pipe, a ticket) plain ASCII, 100 columns.
    pub terminal: bool,
    /// Colour the verdicts (the command line decides: --color, NO_COLOR).
    pub colour: bool,
    /// The width to fit, when known (`COLUMNS`, or the terminal's).
    pub width: Option<u16>,
}

/// Writes the diagnosis, the flows and the summary paragraph.
pub fn write_table(
    report: &Report,
    style: TableStyle,
    view: &View,
    out: &mut dyn Write,
) -> io::Result<()> {
    let width = style
        .width
        .unwrap_or(if style.terminal { 120 } else { PLAIN_WIDTH });
    if report.anonymized {
        writeln!(
            out,
            "(Anonymised report: every address is replaced, consistently.)"
        )?;
    }
    write_diagnosis(report, style, view, width, out)?;
    let listed = listed_flows(report, view);
    if !listed.is_empty() {
        writeln!(out)?;
        write_wrapped(
            &listing_title(report, &listed, view),
            "",
            usize::from(width),
            out,
        )?;
        let table = flows_table(report, &listed, style, view);
        write_fitted(table, if view.wide { None } else { Some(width) }, out)?;
        if listed
            .iter()
            .any(|f| f.resets.iter().any(|r| r.follow_up_of.is_some()))
        {
            write_wrapped(
                "↳ follows the flow's reset above it (a volley, or the host's answers from no socket); counted with it in the diagnosis.",
                "  ",
                usize::from(width),
                out,
            )?;
        }
        if view.wide {
            for text in explanations(&listed) {
                writeln!(out)?;
                writeln!(out, "{text}")?;
            }
        }
    } else if report.flows.is_empty() && report.summary.groups.is_empty() {
        writeln!(out, "No flows to list.")?;
    }
    writeln!(out)?;
    write_wrapped(&summary_paragraph(report), "", usize::from(width), out)?;
    if let Some(text) = super::comparison::comparison_paragraph(report) {
        writeln!(out)?;
        let legend = " In the RST column, a reset's frame in each capture (first/second; - where that capture did not see it).";
        write_wrapped(&(text + legend), "", usize::from(width), out)?;
    }
    Ok(())
}

fn write_diagnosis(
    report: &Report,
    style: TableStyle,
    view: &View,
    width: u16,
    out: &mut dyn Write,
) -> io::Result<()> {
    let groups = &report.summary.groups;
    let resets: u64 = groups.iter().map(|g| g.resets + g.follow_ups).sum();
    if groups.is_empty() {
        return Ok(());
    }
    let width = usize::from(width);
    let headline = format!("Diagnosis: {}", diagnosis::headline(groups, resets));
    write_wrapped(&headline, "", width, out)?;
    for (n, group) in groups.iter().take(GROUPS_IN_WORDS).enumerate() {
        writeln!(out)?;
        // One group: the headline has said it; its facts follow.
        if groups.len() > 1 {
            let first = format!("{}. {}.", n + 1, diagnosis::sentence(group));
            write_wrapped(&first, "   ", width, out)?;
        }
        let when = view.when(&group.first_ts, &group.last_ts, false);
        let example = format!(
            "   {when}; e.g. flow {}, frame {}{}.",
            group.example.flow,
            group.example.frame,
            input_name(report, group.example.input)
        );
        write_wrapped(&example, "   ", width, out)?;
        write_wrapped(&format!("   {}", group.explanation), "   ", width, out)?;
        if !group.advice.is_empty() {
            write_wrapped(&format!("   Advice: {}", group.advice), "   ", width, out)?;
        }
    }
    let rest: Vec<&DiagnosisGroup> = groups.iter().skip(GROUPS_IN_WORDS).collect();
    if !rest.is_empty() {
        writeln!(out)?;
        writeln!(out, "Other groups:")?;
        write_fitted(groups_table(&rest, style), Some(width as u16), out)?;
    }
    Ok(())
}

/// Writes `text` wrapped at spaces to `width`, its leading spaces kept and continuation lines
/// indented by `indent` (a word longer than a line, such as an address, is never broken).
fn write_wrapped(text: &str, indent: &str, width: usize, out: &mut dyn Write) -> io::Result<()> {
    let body = text.trim_start_matches(' ');
    let mut line = text[..text.len() - body.len()].to_string();
    let mut words_on_line = 0;
    for word in body.split(' ').filter(|w| !w.is_empty()) {
        if words_on_line > 0 && line.chars().count() + 1 + word.chars().count() > width {
            writeln!(out, "{line}")?;
            line = indent.to_string();
            words_on_line = 0;
        }
        if words_on_line > 0 {
            line.push(' ');
        }
        line.push_str(word);
        words_on_line += 1;
    }
    writeln!(out, "{line}")
}

fn groups_table(groups: &[&DiagnosisGroup], style: TableStyle) -> Table {
    let mut table = new_table(style);
    table.set_header([
        "#",
        "Resets",
        "Verdict, scenario",
        "From",
        "Hops",
        "Servers",
        "Example",
    ]);
    for (n, group) in groups.iter().take(GROUPS_IN_TABLE).enumerate() {
        let resets = if group.follow_ups > 0 {
            format!("{} (+{})", group.resets, group.follow_ups)
        } else {
            group.resets.to_string()
        };
        table.add_row(vec![
            Cell::new(n + GROUPS_IN_WORDS + 1),
            Cell::new(resets).set_alignment(CellAlignment::Right),
            verdict_cell(group.verdict, group.confidence, group.scenario, style),
            Cell::new(group.from),
            Cell::new(diagnosis::hops_cell(group)).set_alignment(CellAlignment::Right),
            Cell::new(diagnosis::servers_and_ports(group)),
            Cell::new(format!(
                "flow {} #{}",
                group.example.flow, group.example.frame
            )),
        ]);
    }
    if groups.len() > GROUPS_IN_TABLE {
        let more = groups.len() - GROUPS_IN_TABLE;
        let resets: u64 = groups[GROUPS_IN_TABLE..].iter().map(|g| g.resets).sum();
        table.add_row(vec![
            Cell::new(""),
            Cell::new(resets).set_alignment(CellAlignment::Right),
            Cell::new(diagnosis::more_groups(more)),
            Cell::new(""),
            Cell::new(""),
            Cell::new(""),
            Cell::new(""),
        ]);
    }
    table
}

/// The flows to list: every kept one with `--all` or `--wide`; otherwise each group's example
/// first, then the others in order, up to `ROWS_SHOWN` reset rows.
fn listed_flows<'a>(report: &'a Report, view: &View) -> Vec<&'a FlowReport> {
    if view.all {
        return report.flows.iter().collect();
    }
    let mut chosen: Vec<&FlowReport> = Vec::new();
    let mut rows = 0;
    let examples = report
        .summary
        .groups
        .iter()
        .filter_map(|g| report.flows.iter().find(|f| f.id == g.example.flow));
    let with_resets = report.flows.iter().filter(|f| !f.resets.is_empty());
    for flow in examples.chain(with_resets) {
        if rows >= ROWS_SHOWN {
            break;
        }
        if chosen.iter().any(|c| c.id == flow.id) {
            continue;
        }
        rows += flow.resets.len().clamp(1, RESETS_PER_FLOW + 1);
        chosen.push(flow);
    }
    chosen.sort_by_key(|f| f.id);
    chosen
}

fn listing_title(report: &Report, listed: &[&FlowReport], view: &View) -> String {
    let kept = report.flows.len();
    let with_resets = report
        .summary
        .closed_rst
        .max(report.flows.iter().filter(|f| !f.resets.is_empty()).count() as u64);
    let what = if view.all {
        "Flows"
    } else {
        "Flows with resets"
    };
    if listed.len() < kept || (report.summary.flows_not_listed > 0 && !view.all) {
        format!(
            "{what}: {} of {} ({}; --all lists every flow, --format json gives every one with its evidence):",
            listed.len(),
            with_resets.max(kept as u64),
            view.time_legend()
        )
    } else {
        format!("{what} ({}):", view.time_legend())
    }
}

/// Writes a table at its natural width when that fits `width` (or always, without one), else
/// wrapped to it; trailing blanks trimmed.
fn write_fitted(mut table: Table, width: Option<u16>, out: &mut dyn Write) -> io::Result<()> {
    // Wrapping happens at spaces only: no column gets narrower than its longest word.
    let mut longest: Vec<usize> = vec![0; table.column_count()];
    for row in table.row_iter() {
        for (index, cell) in row.cell_iter().enumerate() {
            let word = cell
                .content()
                .split_whitespace()
                .map(|w| w.chars().count())
                .max()
                .unwrap_or(0);
            if let Some(slot) = longest.get_mut(index) {
                *slot = (*slot).max(word);
            }
        }
    }
    for (index, column) in table.column_iter_mut().enumerate() {
        column.set_padding((0, 1));
        let floor = longest.get(index).copied().unwrap_or(0);
        if column.constraint().is_none() {
            let floor = u16::try_from(floor + 1).unwrap_or(u16::MAX);
            column.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(floor)));
        }
    }
    let mut text = table.to_string();
    if let Some(width) = width {
        let natural = text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
        if natural > usize::from(width) {
            table.set_content_arrangement(ContentArrangement::Dynamic);
            table.set_width(width);
            text = table.to_string();
        }
    }
    for line in text.lines() {
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

fn new_table(style: TableStyle) -> Table {
    let mut table = Table::new();
    // No vertical lines: two spaces between columns leave room for the addresses.
    table.load_style(if style.terminal {
        BOXLESS_UTF8
    } else {
        BOXLESS_ASCII
    });
    table.set_content_arrangement(ContentArrangement::Disabled);
    // Colour is decided by the caller (--color, NO_COLOR), not by comfy-table's own look at
    // the terminal: a pipe into less -R can have it, a terminal can go without.
    if style.colour {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table
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

/// One paragraph: inputs and packets, what was skipped and why, and how flows closed.
pub fn summary_paragraph(report: &Report) -> String {
    let inputs = &report.inputs;
    let packets: u64 = inputs.iter().map(|i| i.packets).sum();
    let tcp: u64 = inputs.iter().map(|i| i.tcp_packets).sum();
    let skipped = [
        (
            inputs.iter().map(|i| i.non_tcp_packets).sum::<u64>(),
            "not TCP",
        ),
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
            "copies of a packet seen just before",
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
    let mut text = format!(
        "Read {} from {} ({tcp} TCP; {skipped_text}). {}: {} closed by FIN, {} by RST, {} not closed; {}.",
        count(packets, "packet"),
        count(inputs.len() as u64, "input"),
        count(s.tcp_flows, "TCP flow"),
        s.closed_fin,
        s.closed_rst,
        s.not_closed,
        count(s.resets, "RST segment"),
    );
    let filtered: u64 = inputs.iter().map(|i| i.filtered_packets).sum();
    if s.flows_not_selected > 0 || filtered > 0 {
        text.push_str(&format!(
            " The filter left out {} ({} not matching; analysed all the same).",
            count(s.flows_not_selected, "flow"),
            count(filtered, "frame")
        ));
    }
    if s.flows_narrowed_out > 0 {
        text.push_str(&format!(
            " {} not listed (--verdict, --scenario, --host, --port).",
            count(s.flows_narrowed_out, "flow")
        ));
    }
    text
}
