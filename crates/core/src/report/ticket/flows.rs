//! The ticket's flows: each group's example flow in full (its resets, their evidence and the
//! packets around them), the other flows one row each.

use super::*;

/// A flow in one row: id, time, ends, its first reset and verdict.
pub(super) fn flow_row(
    report: &Report,
    view: &View,
    m: &dyn Markup,
    flow: &FlowReport,
) -> Vec<String> {
    let first = flow.resets.first();
    let time = first.map_or(&flow.first_ts, |r| &r.ts);
    let mut rst = first.map_or("-".to_string(), |r| {
        format!("frame {} from {} {}", r.frame, r.from, r.flags)
    });
    let more = (flow.resets.len().saturating_sub(1)) as u64 + flow.resets_not_listed;
    if more > 0 {
        rst.push_str(&format!(" (+{more})"));
    }
    let file = if report.inputs.len() > 1 {
        first
            .and_then(|r| report.inputs.get(r.input))
            .map_or_else(String::new, |i| format!(" ({})", display_path(&i.path)))
    } else {
        String::new()
    };
    vec![
        flow.id.to_string(),
        m.escape(&format!("{}{file}", view.time(time))),
        m.escape(&flow.client.to_string()),
        m.escape(&flow.server.to_string()),
        m.escape(&rst),
        first.map_or("-".to_string(), |r| {
            format!("{} {:.2}", r.verdict, r.confidence)
        }),
    ]
}

/// With `--all`: the flows that carried no reset, one per row.
pub(super) fn write_other_flows(
    report: &Report,
    view: &View,
    m: &dyn Markup,
    out: &mut dyn Write,
) -> io::Result<()> {
    let quiet: Vec<&FlowReport> = report
        .flows
        .iter()
        .filter(|f| f.resets.is_empty())
        .collect();
    if quiet.is_empty() {
        return Ok(());
    }
    writeln!(out, "{}", m.heading(2, "Flows without a reset"))?;
    writeln!(out)?;
    let rows: Vec<Vec<String>> = quiet
        .iter()
        .map(|f| {
            vec![
                f.id.to_string(),
                m.escape(&view.time(&f.first_ts)),
                m.escape(&f.client.to_string()),
                m.escape(&f.server.to_string()),
                m.code(&f.conn_state),
                m.code(&f.history),
                f.close.to_string(),
            ]
        })
        .collect();
    writeln!(
        out,
        "{}",
        m.table(
            &[
                "Flow", "First", "Client", "Server", "State", "History", "Close"
            ],
            &[true, false, false, false, false, false, false],
            &rows
        )
    )
}

/// Said of a flow Wireshark gives no `tcp.stream`.
pub(crate) const NOT_IN_WIRESHARK: &str =
    "Wireshark does not dissect it as TCP by default (a tunnel only its heuristics find).";

/// One flow in full: what it was, then each reset.
pub(super) fn write_flow(
    report: &Report,
    view: &View,
    m: &dyn Markup,
    flow: &FlowReport,
    out: &mut dyn Write,
) -> io::Result<()> {
    let title = format!("Flow {}: {} → {}", flow.id, flow.client, flow.server);
    writeln!(out, "{}", m.heading(3, &m.escape(&title)))?;
    writeln!(out)?;
    let file = if report.inputs.len() > 1 {
        flow.resets
            .first()
            .and_then(|r| report.inputs.get(r.input))
            .map_or_else(String::new, |i| format!(" in {}", display_path(&i.path)))
    } else {
        String::new()
    };
    writeln!(
        out,
        "{} to {}{file} ({}), {} from the client and {} from the server, state {}, history {}, closed by {}.",
        m.escape(&view.moment(&flow.first_ts)),
        m.escape(&view.moment(&flow.last_ts)),
        m.escape(&crate::report::table::human_duration(flow.duration_s)),
        count(flow.packets.client, "packet"),
        count(flow.packets.server, "packet"),
        m.code(&flow.conn_state),
        m.code(&flow.history),
        match flow.close {
            "rst" => "RST",
            "fin" => "FIN",
            _ => "neither (still open)",
        }
    )?;
    writeln!(out)?;
    let stream_file = match flow.tcp_stream_input.and_then(|i| report.inputs.get(i)) {
        Some(input) if report.inputs.len() > 1 => format!(" of {}", display_path(&input.path)),
        _ => String::new(),
    };
    let wireshark = match flow.tcp_stream {
        Some(stream) => format!(
            "In Wireshark{}: {}.",
            m.escape(&stream_file),
            m.code(&stream_filter(stream))
        ),
        None => m.escape(NOT_IN_WIRESHARK),
    };
    writeln!(
        out,
        "Community ID {} (as Zeek, Suricata, Arkime and Elastic log it). {wireshark}",
        m.code(&flow.community_id),
    )?;
    writeln!(out)?;
    if let Some(text) = crate::report::comparison::path_in_words(
        flow,
        &crate::report::comparison::input_names(report)[1],
    ) {
        writeln!(out, "{}", m.escape(&text))?;
        writeln!(out)?;
    }
    for reset in &flow.resets {
        write_reset(report, view, m, reset, out)?;
    }
    if flow.resets_not_listed > 0 {
        writeln!(
            out,
            "{}",
            m.escape(&format!(
                "{} in this flow counted but not listed.",
                count(flow.resets_not_listed, "more RST segment")
            ))
        )?;
        writeln!(out)?;
    }
    Ok(())
}

/// One reset: verdict, what it was, explanation and advice, then (folded) the packets around
/// it and the evidence.
pub(super) fn write_reset(
    report: &Report,
    view: &View,
    m: &dyn Markup,
    reset: &ResetReport,
    out: &mut dyn Write,
) -> io::Result<()> {
    let follow = match reset.follow_up_of {
        Some(frame) => format!(" (follows frame {frame})"),
        None => String::new(),
    };
    let name = |input: usize| {
        report
            .inputs
            .get(input)
            .map_or_else(String::new, |i| display_path(&i.path))
    };
    let of_input = if report.inputs.len() > 1 {
        format!(" of {}", name(reset.input))
    } else {
        String::new()
    };
    let title = format!(
        "Frame {}{of_input}: {} {:.2}, {}{follow}",
        reset.frame, reset.verdict, reset.confidence, reset.scenario
    );
    writeln!(out, "{}", m.heading(4, &m.escape(&title)))?;
    writeln!(out)?;
    if !reset.seen.is_empty() {
        let sightings: Vec<String> = reset
            .seen
            .iter()
            .map(|s| format!("{} (frame {}, TTL {})", name(s.input), s.frame, s.ttl))
            .collect();
        let only = if sightings.len() == 1 { "only " } else { "" };
        writeln!(
            out,
            "{}",
            m.escape(&format!("Seen {only}in {}.", sightings.join(" and ")))
        )?;
        writeln!(out)?;
    }
    writeln!(
        out,
        "{}",
        m.escape(&format!(
            "RST from the {} address {} at {}: flags {}, TTL {}, seq {}{}.",
            reset.from,
            reset.src,
            view.moment(&reset.ts),
            reset.flags,
            reset.ttl,
            seq_text(reset.seq, reset.seq_relative),
            reset.ack.map_or(String::new(), |ack| format!(
                ", ack {}",
                seq_text(ack, reset.ack_relative)
            )),
        )) + &format!(
            " In Wireshark: {}{}.",
            m.code(&format!("frame.number == {}", reset.frame)),
            reset.tcp_stream.map_or_else(String::new, |stream| format!(
                ", its stream {}",
                m.code(&stream_filter(stream))
            ))
        )
    )?;
    writeln!(out)?;
    writeln!(out, "{}", m.escape(&reset.explanation))?;
    writeln!(out)?;
    for advice in &reset.advice {
        writeln!(
            out,
            "{}",
            m.bullet(&format!("{} {}", m.bold("Advice:"), m.escape(advice)))
        )?;
    }
    if !reset.advice.is_empty() {
        writeln!(out)?;
    }
    let fold = m.fold_open(&m.escape(&format!(
        "Packets around frame {} and the evidence",
        reset.frame
    )));
    if !fold.is_empty() {
        writeln!(out, "{fold}")?;
        writeln!(out)?;
    }
    write_packets(m, reset, out)?;
    let rows: Vec<Vec<String>> = reset
        .evidence
        .iter()
        .map(|e| {
            vec![
                m.code(&e.signal),
                e.points_to.to_string(),
                weight(e.ratio, e.counted),
                m.escape(&e.detail),
            ]
        })
        .collect();
    writeln!(
        out,
        "{}",
        m.table(
            &["Evidence", "Points to", "Weight", "Detail"],
            &[false, false, true, false],
            &rows
        )
    )?;
    writeln!(
        out,
        "{}",
        m.escape(&format!(
            "Reckoning ({}): P(a device on the path) {:.3} before the evidence, {:.3} after.",
            reset.reckoning.situation, reset.reckoning.prior_path, reset.reckoning.posterior_path
        ))
    )?;
    writeln!(out)?;
    let close = m.fold_close();
    if !close.is_empty() {
        writeln!(out, "{close}")?;
        writeln!(out)?;
    }
    Ok(())
}

/// A likelihood ratio as a weight: "×4.00" towards the path, "×0.25" towards the peer, "-"
/// for context; "not counted" when a stronger signal read the same bytes.
pub fn weight(ratio: f64, counted: bool) -> String {
    if !counted {
        return "not counted".to_string();
    }
    if (ratio - 1.0).abs() < 1e-9 {
        "-".to_string()
    } else if ratio >= 10.0 {
        format!("×{ratio:.0}")
    } else if ratio >= 0.1 {
        format!("×{ratio:.2}")
    } else {
        format!("×{ratio:.3}")
    }
}

/// The packets around the reset, the reset itself in bold.
pub(super) fn write_packets(
    m: &dyn Markup,
    reset: &ResetReport,
    out: &mut dyn Write,
) -> io::Result<()> {
    if reset.packets_before.is_empty() && reset.packets_after.is_empty() {
        return Ok(());
    }
    let mut rows: Vec<Vec<String>> = reset
        .packets_before
        .iter()
        .map(|p| packet_row(m, p))
        .collect();
    let bold = |text: String| m.bold(&text);
    rows.push(vec![
        bold("0".to_string()),
        bold(reset.frame.to_string()),
        bold(direction(reset.from).to_string()),
        bold(m.escape(&reset.flags)),
        bold(seq_cell(reset.seq, reset.seq_relative)),
        bold(ack_cell(m, reset.ack, reset.ack_relative)),
        bold(reset.len.to_string()),
        bold(reset.ttl.to_string()),
    ]);
    rows.extend(reset.packets_after.iter().map(|p| packet_row(m, p)));
    writeln!(
        out,
        "{}",
        m.table(
            &[
                "From RST",
                "Frame",
                "Direction",
                "Flags",
                "Seq (rel.)",
                "Ack (rel.)",
                "Len",
                "TTL"
            ],
            &[true, true, false, false, true, true, true, true],
            &rows
        )
    )
}

pub(super) fn packet_row(m: &dyn Markup, packet: &PacketReport) -> Vec<String> {
    vec![
        m.escape(&offset(packet.offset_ms)),
        packet.frame.to_string(),
        direction(packet.from).to_string(),
        m.escape(&packet.flags),
        seq_cell(packet.seq, packet.seq_relative),
        ack_cell(m, packet.ack, packet.ack_relative),
        packet.len.to_string(),
        packet.ttl.to_string(),
    ]
}

/// A table's sequence number: raw, then Wireshark's relative one in brackets.
fn seq_cell(raw: u32, relative: Option<u32>) -> String {
    match relative {
        Some(relative) => format!("{raw} ({relative})"),
        None => raw.to_string(),
    }
}

fn ack_cell(m: &dyn Markup, ack: Option<u32>, relative: Option<u32>) -> String {
    ack.map_or_else(|| m.escape("-"), |ack| m.escape(&seq_cell(ack, relative)))
}

/// "client → server" or "client ← server", by who sent it.
pub(super) fn direction(from: &str) -> &'static str {
    if from == "client" {
        "client → server"
    } else {
        "client ← server"
    }
}

/// Time from the RST: microseconds when under a millisecond, seconds once long.
pub fn offset(ms: f64) -> String {
    if ms.abs() >= 10_000.0 {
        format!("{:+.1} s", ms / 1000.0)
    } else if ms != 0.0 && ms.abs() < 1.0 {
        format!("{:+.0} µs", ms * 1000.0)
    } else {
        format!("{ms:+.1} ms")
    }
}
