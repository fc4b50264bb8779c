//! The ticket report, written once for every markup a ticket system reads (Markdown for GitHub
//! and GitLab, Jira wiki markup for Jira, Confluence and ServiceNow): the diagnosis first, then
//! what was read, then each group's example flow in full and its other flows compactly.
//!
//! A [`Markup`] says how to write headings, tables, emphasis and folds; everything that came
//! from the capture goes through its `escape` or `code`, so a hostile string renders as text.

use std::io::{self, Write};

use super::diagnosis::{self, DiagnosisGroup, count, group_of_flow};
use super::table::summary_paragraph;
use super::view::{View, display_command, display_path, seq_text, stream_filter};
use super::{FlowReport, PacketReport, Report, ResetReport};

mod flows;
pub(super) use flows::*;

/// Groups in the table under those told in words.
const GROUPS_IN_TABLE: usize = 40;

/// How one ticket system writes things.
pub trait Markup {
    /// Text that renders as itself.
    fn escape(&self, text: &str) -> String;
    /// An inline code span holding any text.
    fn code(&self, text: &str) -> String;
    /// Strong emphasis around already-escaped text.
    fn bold(&self, text: &str) -> String;
    /// A heading (level 1 to 4) of already-escaped text.
    fn heading(&self, level: u8, text: &str) -> String;
    /// A table; cells are already escaped. `right` marks the columns aligned right.
    fn table(&self, header: &[&str], right: &[bool], rows: &[Vec<String>]) -> String;
    /// A numbered list item with further lines under it (already escaped).
    fn numbered(&self, n: usize, first: &str, more: &[String]) -> String;
    /// A bullet (already escaped).
    fn bullet(&self, text: &str) -> String;
    /// A note set apart (already escaped).
    fn note(&self, text: &str) -> String;
    /// Opens a folded part titled `summary` (already escaped); empty when the markup cannot.
    fn fold_open(&self, summary: &str) -> String;
    fn fold_close(&self) -> String;
    /// How much to list: ticket systems limit a comment's size.
    fn limits(&self) -> Limits;
}

/// How much a ticket lists by default (`--all` lifts the flow limits).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Groups told in words at the top.
    pub groups_in_words: usize,
    /// Groups with a section of their own (the others only in the groups table).
    pub groups_in_detail: usize,
    /// Flows of a group shown in full (timeline, evidence).
    pub flows_in_full: usize,
    /// Further flows of a group listed one per row.
    pub flows_in_rows: usize,
}

/// Writes the whole ticket report.
pub fn write_ticket(
    report: &Report,
    view: &View,
    markup: &dyn Markup,
    out: &mut dyn Write,
) -> io::Result<()> {
    let m = markup;
    let limits = m.limits();
    writeln!(out, "{}", m.heading(1, "rstscope report"))?;
    writeln!(out)?;
    if report.anonymized {
        writeln!(
            out,
            "{}",
            m.note(&m.escape(
                "Anonymised report: every address (and file name) is replaced, consistently and \
                 prefix-preserving (hosts in one subnet stay in one subnet). Ports and TCP details \
                 are real."
            ))
        )?;
        writeln!(out)?;
    }
    write_diagnosis(report, view, m, limits, out)?;
    writeln!(out, "{}", m.heading(2, "What was read"))?;
    writeln!(out)?;
    write_inputs(report, view, m, out)?;
    writeln!(out, "{}", m.escape(&summary_paragraph(report)))?;
    writeln!(out)?;
    if let Some(text) = super::comparison::comparison_paragraph(report) {
        writeln!(out, "{}", m.escape(&text))?;
        writeln!(out)?;
    }
    let v = &report.summary.verdicts;
    let rows: Vec<Vec<String>> = [
        ("peer", v.peer),
        ("firewall", v.firewall),
        ("middlebox", v.middlebox),
        ("unknown", v.unknown),
    ]
    .iter()
    .map(|(name, n)| vec![name.to_string(), n.to_string()])
    .collect();
    writeln!(
        out,
        "{}",
        m.table(&["Verdict", "Resets"], &[false, true], &rows)
    )?;
    if !report.warnings.is_empty() {
        writeln!(out, "{}", m.bold("Warnings"))?;
        writeln!(out)?;
        for warning in &report.warnings {
            writeln!(out, "{}", m.bullet(&m.escape(warning)))?;
        }
        writeln!(out)?;
    }
    write_groups(report, view, m, limits, out)?;
    if view.all {
        write_other_flows(report, view, m, out)?;
    }
    Ok(())
}

/// The headline, the heaviest groups in words, the others as a table.
fn write_diagnosis(
    report: &Report,
    view: &View,
    m: &dyn Markup,
    limits: Limits,
    out: &mut dyn Write,
) -> io::Result<()> {
    let groups = &report.summary.groups;
    let resets: u64 = groups.iter().map(|g| g.resets + g.follow_ups).sum();
    writeln!(
        out,
        "{} {}",
        m.bold("Diagnosis:"),
        m.escape(&diagnosis::headline(groups, resets))
    )?;
    writeln!(out)?;
    for (n, group) in groups.iter().take(limits.groups_in_words).enumerate() {
        let when = view.when(&group.first_ts, &group.last_ts, true);
        let mut more = vec![m.escape(&format!(
            "{when}; example: {}.",
            example_in_words(report, group)
        ))];
        more.push(m.escape(&group.explanation));
        if !group.advice.is_empty() {
            more.push(format!("{} {}", m.bold("Advice:"), m.escape(&group.advice)));
        }
        if groups.len() == 1 {
            // One group: the headline has said it; its facts follow.
            for line in &more {
                writeln!(out, "{line}")?;
                writeln!(out)?;
            }
            continue;
        }
        let first = m.bold(&m.escape(&format!("{}.", diagnosis::sentence(group))));
        writeln!(out, "{}", m.numbered(n + 1, &first, &more))?;
    }
    writeln!(out)?;
    let rest = &groups[groups.len().min(limits.groups_in_words)..];
    if !rest.is_empty() {
        let title = m.escape(&diagnosis::more_groups(rest.len()));
        let fold = m.fold_open(&title);
        if fold.is_empty() {
            writeln!(out, "{}", m.bold(&title))?;
        } else {
            writeln!(out, "{fold}")?;
        }
        writeln!(out)?;
        let mut rows: Vec<Vec<String>> = rest
            .iter()
            .take(GROUPS_IN_TABLE)
            .enumerate()
            .map(|(i, g)| group_row(report, view, m, limits.groups_in_words + i + 1, g))
            .collect();
        if rest.len() > GROUPS_IN_TABLE {
            let beyond = &rest[GROUPS_IN_TABLE..];
            let resets: u64 = beyond.iter().map(|g| g.resets).sum();
            let mut row = vec![String::new(); 9];
            row[1] = m.escape(&diagnosis::more_groups(beyond.len()));
            row[6] = resets.to_string();
            row[8] = m.escape("--format json lists them");
            rows.push(row);
        }
        writeln!(
            out,
            "{}",
            m.table(
                &[
                    "#", "Verdict", "Scenario", "From", "Hops", "Servers", "Resets", "First",
                    "Example"
                ],
                &[true, false, false, false, true, false, true, false, false],
                &rows
            )
        )?;
        let close = m.fold_close();
        if !close.is_empty() {
            writeln!(out, "{close}")?;
            writeln!(out)?;
        }
    }
    Ok(())
}

fn group_row(
    report: &Report,
    view: &View,
    m: &dyn Markup,
    n: usize,
    g: &DiagnosisGroup,
) -> Vec<String> {
    let resets = if g.follow_ups > 0 {
        format!("{} (+{})", g.resets, g.follow_ups)
    } else {
        g.resets.to_string()
    };
    vec![
        n.to_string(),
        format!("{} {:.2}", g.verdict, g.confidence),
        m.code(g.scenario),
        g.from.to_string(),
        diagnosis::hops_cell(g),
        m.escape(&diagnosis::servers_and_ports(g)),
        m.escape(&resets),
        m.escape(&view.time(&g.first_ts)),
        m.escape(&example_in_words(report, g)),
    ]
}

/// "flow 12, frame 345" (with the file's name when there are several inputs).
fn example_in_words(report: &Report, group: &DiagnosisGroup) -> String {
    let file = if report.inputs.len() > 1 {
        report
            .inputs
            .get(group.example.input)
            .map_or_else(String::new, |i| format!(" of {}", display_path(&i.path)))
    } else {
        String::new()
    };
    format!(
        "flow {}, frame {}{file}",
        group.example.flow, group.example.frame
    )
}

/// What was read: inputs, rstscope's version, the command.
fn write_inputs(
    report: &Report,
    view: &View,
    m: &dyn Markup,
    out: &mut dyn Write,
) -> io::Result<()> {
    let rows: Vec<Vec<String>> = report
        .inputs
        .iter()
        .map(|input| {
            let mut read = if input.complete {
                "complete".to_string()
            } else {
                "cut off".to_string()
            };
            if let Some(dropped) = input.dropped_by_kernel {
                read.push_str(&format!(
                    ", {dropped} dropped by the kernel, {} by the interface",
                    input.dropped_by_interface.unwrap_or(0)
                ));
            }
            if let Some(tracing) = &input.kernel_tracing {
                read.push_str(&format!("; {}", m.escape(&tracing.summary())));
            }
            vec![
                m.code(&display_path(&input.path)),
                m.escape(&input.link_type),
                input.packets.to_string(),
                input
                    .first_ts
                    .as_deref()
                    .map_or("-".to_string(), |t| m.escape(&view.moment(t))),
                input
                    .last_ts
                    .as_deref()
                    .map_or("-".to_string(), |t| m.escape(&view.moment(t))),
                read,
            ]
        })
        .collect();
    writeln!(
        out,
        "{}",
        m.table(
            &["Input", "Link type", "Packets", "First", "Last", "Read"],
            &[false, false, true, false, false, false],
            &rows
        )
    )?;
    let mut made = format!("rstscope {}", m.escape(report.tool.version));
    if !report.command.is_empty() {
        let command = display_command(&report.command, &report.inputs);
        made.push_str(&format!(", run as {}", m.code(&command)));
    }
    writeln!(out, "{made}")?;
    writeln!(out)
}

/// Each group with a section: its example flow in full, then its other flows.
fn write_groups(
    report: &Report,
    view: &View,
    m: &dyn Markup,
    limits: Limits,
    out: &mut dyn Write,
) -> io::Result<()> {
    let groups = &report.summary.groups;
    if groups.is_empty() {
        writeln!(out, "No flow carried a reset.")?;
        return Ok(());
    }
    let detailed = if view.all {
        groups.len()
    } else {
        groups.len().min(limits.groups_in_detail)
    };
    for (index, group) in groups.iter().enumerate().take(detailed) {
        let title = format!(
            "Group {}: {}, {}, {}",
            index + 1,
            group.verdict,
            group.scenario,
            diagnosis::size_in_words(group)
        );
        writeln!(out, "{}", m.heading(2, &m.escape(&title)))?;
        writeln!(out)?;
        let mut flows: Vec<&FlowReport> = report
            .flows
            .iter()
            .filter(|f| group_of_flow(groups, f) == Some(index))
            .collect();
        // The example first: where the trouble began.
        flows.sort_by_key(|f| (f.id != group.example.flow, f.id));
        let (full, rows) = if view.all {
            (flows.len(), 0)
        } else {
            (limits.flows_in_full, limits.flows_in_rows)
        };
        for flow in flows.iter().take(full) {
            write_flow(report, view, m, flow, out)?;
        }
        let listed: Vec<&&FlowReport> = flows.iter().skip(full).take(rows).collect();
        if !listed.is_empty() {
            writeln!(
                out,
                "{}",
                m.bold(&m.escape(&format!("Other flows of group {}", index + 1)))
            )?;
            writeln!(out)?;
            let rows: Vec<Vec<String>> = listed
                .iter()
                .map(|f| flow_row(report, view, m, f))
                .collect();
            writeln!(
                out,
                "{}",
                m.table(
                    &["Flow", "Time", "Client", "Server", "RST", "Verdict"],
                    &[true, false, false, false, false, false],
                    &rows
                )
            )?;
        }
        let shown = (full + listed.len()).min(flows.len()) as u64;
        let not_shown = group.flows.saturating_sub(shown);
        if not_shown > 0 {
            writeln!(
                out,
                "{}",
                m.escape(&format!(
                    "{} of this group not shown here: --all lists every flow, --format json gives them all with their evidence.",
                    count(not_shown, "more flow")
                ))
            )?;
            writeln!(out)?;
        }
    }
    if detailed < groups.len() {
        writeln!(
            out,
            "{}",
            m.escape(&format!(
                "Groups {} to {} are in the table above; --all gives each its section.",
                detailed + 1,
                groups.len()
            ))
        )?;
        writeln!(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_read_in_the_unit_that_fits() {
        assert_eq!(offset(-10.25), "-10.2 ms");
        assert_eq!(offset(-8000.0), "-8000.0 ms");
        assert_eq!(offset(-12_500.0), "-12.5 s");
        assert_eq!(offset(0.042), "+42 µs");
    }

    #[test]
    fn weights_read_as_factors() {
        assert_eq!(weight(4.0, true), "×4.00");
        assert_eq!(weight(0.05, true), "×0.050");
        assert_eq!(weight(1.0, true), "-");
        assert_eq!(weight(30.0, false), "not counted");
    }
}
