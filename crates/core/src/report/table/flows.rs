//! The table of flows: one row per listed flow with its first resets, verdicts in colour on a
//! terminal, and the explanations under it.

use super::*;

/// The verdict, its confidence and the scenario in one cell (wrapped before the scenario
/// when narrow).
pub(super) fn verdict_cell(
    verdict: &str,
    confidence: f64,
    scenario: &str,
    style: TableStyle,
) -> Cell {
    let cell = Cell::new(format!("{verdict} {confidence:.2} {scenario}"));
    if style.colour {
        cell.fg(verdict_colour(verdict))
    } else {
        cell
    }
}

pub(super) fn flows_table(
    report: &Report,
    flows: &[&FlowReport],
    style: TableStyle,
    view: &View,
) -> Table {
    let several_inputs = report.inputs.len() > 1;
    let mut table = new_table(style);
    let mut header = vec!["Flow", "Time"];
    if several_inputs {
        header.push("File");
    }
    header.extend(["Client", "Server"]);
    if view.wide {
        header.extend(["State", "History", "Close", "Duration", "Packets c/s"]);
    } else if view.all {
        // Flows without a reset: their state says how they ended.
        header.push("State");
    }
    header.extend(["RST", "Verdict, scenario"]);
    if view.wide {
        header.push("Why");
    }
    table.set_header(header.clone());
    // Only the RST and verdict columns wrap (at spaces) when the width is short: addresses and
    // times never do.
    let verdict = header.len() - if view.wide { 2 } else { 1 };
    for index in 0..header.len() {
        if index + 1 < verdict
            && let Some(column) = table.column_mut(index)
        {
            column.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
    for flow in flows {
        let shown = if view.wide {
            &flow.resets[..]
        } else {
            &flow.resets[..flow.resets.len().min(RESETS_PER_FLOW)]
        };
        let time = flow.resets.first().map_or(&flow.first_ts, |r| &r.ts);
        let flow_cells = |first: bool| -> Vec<Cell> {
            let text = |value: String| Cell::new(if first { value } else { String::new() });
            let shown_time = if view.wide {
                view.time(time)
            } else {
                view.time_short(time)
            };
            let mut cells = vec![text(flow.id.to_string()), text(shown_time)];
            if several_inputs {
                let input = flow.resets.first().map_or(0, |r| r.input);
                cells.push(text(
                    report
                        .inputs
                        .get(input)
                        .map_or_else(String::new, |i| display_path(&i.path)),
                ));
            }
            cells.extend([text(flow.client.to_string()), text(flow.server.to_string())]);
            if view.all && !view.wide {
                cells.push(text(flow.conn_state.clone()));
            }
            if view.wide {
                cells.extend([
                    text(flow.conn_state.clone()),
                    text(flow.history.clone()),
                    text(flow.close.to_string()),
                    text(human_duration(flow.duration_s)),
                    text(format!("{}/{}", flow.packets.client, flow.packets.server)),
                ]);
            }
            cells
        };
        if shown.is_empty() {
            let mut row = flow_cells(true);
            row.extend([Cell::new("-"), Cell::new("-")]);
            if view.wide {
                row.push(Cell::new("-"));
            }
            table.add_row(row);
            continue;
        }
        for (i, reset) in shown.iter().enumerate() {
            let mut row = flow_cells(i == 0);
            row.push(Cell::new(rst_cell(reset, view.wide)));
            row.push(verdict_cell(
                reset.verdict,
                reset.confidence,
                reset.scenario,
                style,
            ));
            if view.wide {
                row.push(Cell::new(short_reason(reset)));
            }
            table.add_row(row);
        }
        let more = (flow.resets.len() - shown.len()) as u64 + flow.resets_not_listed;
        if more > 0 {
            let mut row = flow_cells(false);
            let follow_ups = flow.resets[shown.len()..]
                .iter()
                .filter(|r| r.follow_up_of.is_some())
                .count();
            row.push(Cell::new(format!("+{more} more")));
            row.push(Cell::new(match follow_ups {
                0 => String::new(),
                1 => "(1 follow-up)".to_string(),
                n => format!("({n} follow-ups)"),
            }));
            if view.wide {
                row.push(Cell::new(""));
            }
            table.add_row(row);
        }
    }
    table
}

/// A RST in one cell: frame and whose address (with `--wide`, flags and TTL too); a
/// follow-up is marked `↳`.
pub(super) fn rst_cell(reset: &ResetReport, wide: bool) -> String {
    let follow = if reset.follow_up_of.is_some() {
        "↳"
    } else {
        ""
    };
    // From `compare`: the frame in each capture, `-` where it was not seen.
    let frame = if reset.seen.is_empty() {
        format!("#{}", reset.frame)
    } else {
        let at = |input: usize| {
            reset
                .seen
                .iter()
                .find(|s| s.input == input)
                .map_or("-".to_string(), |s| format!("#{}", s.frame))
        };
        format!("{}/{}", at(0), at(1))
    };
    if wide {
        format!(
            "{follow}{frame} {} {} ttl {}",
            reset.from, reset.flags, reset.ttl
        )
    } else {
        format!("{follow}{frame} {}", reset.from)
    }
}

pub(super) fn input_name(report: &Report, input: usize) -> String {
    if report.inputs.len() > 1 {
        report
            .inputs
            .get(input)
            .map_or_else(String::new, |i| format!(" of {}", display_path(&i.path)))
    } else {
        String::new()
    }
}

/// A verdict's colour on a terminal: the same as the HTML report's badges.
pub(super) fn verdict_colour(verdict: &str) -> Color {
    match verdict {
        "peer" => Color::Green,
        "firewall" => Color::Yellow,
        "middlebox" => Color::Red,
        _ => Color::Grey,
    }
}

/// The signals that carried the verdict, by name.
pub(super) fn short_reason(reset: &ResetReport) -> String {
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
pub(super) fn explanations(flows: &[&FlowReport]) -> Vec<String> {
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
