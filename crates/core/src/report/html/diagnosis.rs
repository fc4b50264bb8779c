//! The top of the page: the headline verdict, then the diagnosis (the heaviest groups in
//! words, each linking to its example flow, and the other groups as a table).

use std::io::{self, Write};

use super::escape;
use super::format::badge;
use crate::report::Report;
use crate::report::diagnosis::{self, DiagnosisGroup};
use crate::report::view::{View, display_path};

/// Groups told in words.
const GROUPS_IN_WORDS: usize = 3;
/// Groups in the table under them; the rest are counted.
const GROUPS_IN_TABLE: usize = 40;

/// The headline: the heaviest group's verdict as a badge, and the sentence.
pub(super) fn write_headline(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let groups = &report.summary.groups;
    let resets: u64 = groups.iter().map(|g| g.resets + g.follow_ups).sum();
    let lead = groups
        .first()
        .map_or_else(String::new, |g| format!("{} ", badge(g.verdict)));
    writeln!(
        out,
        "<p class=\"headline\">{lead}{}</p>",
        escape(&diagnosis::headline(groups, resets))
    )
}

/// The diagnosis section.
pub(super) fn write_diagnosis(
    report: &Report,
    view: &View,
    detailed: &dyn Fn(u64) -> bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let groups = &report.summary.groups;
    if groups.is_empty() {
        return Ok(());
    }
    writeln!(out, "<section class=\"diagnosis\">\n<h2>Diagnosis</h2>")?;
    writeln!(out, "<ol class=\"groups\">")?;
    for (index, group) in groups.iter().take(GROUPS_IN_WORDS).enumerate() {
        writeln!(
            out,
            "<li id=\"group-{}\"><p class=\"group-sentence\">{} <strong>{}.</strong></p>",
            index + 1,
            badge(group.verdict),
            escape(&diagnosis::sentence(group))
        )?;
        writeln!(
            out,
            "<p class=\"muted\">{}; example: {}.</p>",
            escape(&view.when(&group.first_ts, &group.last_ts, true)),
            example_link(report, group, detailed)
        )?;
        writeln!(
            out,
            "<p class=\"explanation\">{}</p>",
            escape(&group.explanation)
        )?;
        if !group.advice.is_empty() {
            writeln!(
                out,
                "<p class=\"advice\"><strong>Advice:</strong> {}</p>",
                escape(&group.advice)
            )?;
        }
        writeln!(out, "</li>")?;
    }
    writeln!(out, "</ol>")?;
    let rest = &groups[groups.len().min(GROUPS_IN_WORDS)..];
    if !rest.is_empty() {
        write_groups_table(report, view, rest, detailed, out)?;
    }
    writeln!(out, "</section>")
}

/// The groups beyond those in words, one row each.
fn write_groups_table(
    report: &Report,
    view: &View,
    rest: &[DiagnosisGroup],
    detailed: &dyn Fn(u64) -> bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(
        out,
        "<h3>Other groups</h3>\n<table class=\"groups\">\n<tr><th>#</th><th>Sent by</th>\
         <th>Scenario</th><th>From</th><th>Hops</th><th>Servers</th><th>Resets</th><th>First</th>\
         <th>Example</th></tr>"
    )?;
    for (i, group) in rest.iter().take(GROUPS_IN_TABLE).enumerate() {
        let resets = if group.follow_ups > 0 {
            format!("{} (+{})", group.resets, group.follow_ups)
        } else {
            group.resets.to_string()
        };
        writeln!(
            out,
            "<tr><td class=\"num\">{}</td><td class=\"nowrap\">{} {:.2}</td><td><code>{}</code></td>\
             <td>{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num nowrap\">{resets}</td>\
             <td class=\"nowrap\">{}</td><td class=\"nowrap\">{}</td></tr>",
            GROUPS_IN_WORDS + i + 1,
            badge(group.verdict),
            group.confidence,
            escape(group.scenario),
            escape(group.from),
            diagnosis::hops_cell(group),
            escape(&diagnosis::servers_and_ports(group)),
            escape(&view.time(&group.first_ts)),
            example_link(report, group, detailed)
        )?;
    }
    if rest.len() > GROUPS_IN_TABLE {
        let more = &rest[GROUPS_IN_TABLE..];
        let resets: u64 = more.iter().map(|g| g.resets).sum();
        writeln!(
            out,
            "<tr><td></td><td colspan=\"5\">{}</td><td class=\"num\">{resets}</td>\
             <td colspan=\"2\">--format json lists them</td></tr>",
            diagnosis::more_groups(more.len())
        )?;
    }
    writeln!(out, "</table>")
}

/// "flow 12, frame 345", a link when the flow has its section on the page.
fn example_link(report: &Report, group: &DiagnosisGroup, detailed: &dyn Fn(u64) -> bool) -> String {
    let file = if report.inputs.len() > 1 {
        report
            .inputs
            .get(group.example.input)
            .map_or_else(String::new, |i| format!(" of {}", display_path(&i.path)))
    } else {
        String::new()
    };
    let text = escape(&format!(
        "flow {}, frame {}{file}",
        group.example.flow, group.example.frame
    ));
    if detailed(group.example.flow) {
        format!("<a href=\"#flow-{}\">{text}</a>", group.example.flow)
    } else {
        text
    }
}
