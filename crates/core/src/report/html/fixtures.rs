//! Test fixtures for the HTML view: a hand-built report (a firewall reset after an idle pause,
//! a genuine peer reset right after the handshake) and a helper that renders it to a string.

use chrono::{SecondsFormat, TimeDelta};

use super::timestamps::parse_ts;
use super::write_html;
use crate::report::diagnosis::Diagnosis;
use crate::report::view::View;
use crate::report::{
    Endpoint, EvidenceReport, FlowReport, InputReport, PacketReport, PerSide, ReckoningReport,
    Report, ResetReport, SCHEMA, Summary, Tool, VerdictCounts,
};

const BASE: &str = "2026-11-20T10:00:00Z";

/// The RFC 3339 text `ms` milliseconds after `BASE`.
pub(super) fn ts(ms: f64) -> String {
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
pub(super) fn packet(
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
        seq_relative: Some(frame as u32),
        ack: flags.contains('A').then_some(2000),
        ack_relative: flags.contains('A').then_some(1),
        len: 0,
        ttl,
    }
}

/// A reset from the server at `at_ms` with the given verdict and TTL.
pub(super) fn reset(frame: u64, at_ms: f64, verdict: &'static str, ttl: u8) -> ResetReport {
    ResetReport {
        input: 0,
        frame,
        tcp_stream: Some(3),
        ts: ts(at_ms),
        from: "server",
        src: endpoint("198.51.100.7", 443),
        dst: endpoint("192.0.2.10", 51514),
        flags: "RA".to_string(),
        seq: 3_735_928_559,
        seq_relative: Some(1),
        ack: Some(305_419_896),
        ack_relative: Some(1),
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
            ratio: 100.0,
            counted: true,
        }],
        reckoning: ReckoningReport {
            situation: "mid_stream",
            prior_path: 0.3,
            posterior_path: 0.97,
        },
        device_hops: None,
        silence_before_s: None,
        sender_ttl: None,
        follow_up_of: None,
        at_ns: parse_ts(&ts(at_ms))
            .and_then(|t| t.timestamp_nanos_opt())
            .unwrap_or(0),
        explanation: "A device 2 hops away reset the connection.".to_string(),
        advice: vec!["Send TCP keepalives more often.".to_string()],
        packets_before: Vec::new(),
        packets_after: Vec::new(),
        seen: Vec::new(),
        kernel: None,
        kernel_receive: None,
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

pub(super) fn flow(id: u64, resets: Vec<ResetReport>) -> FlowReport {
    FlowReport {
        id,
        client: endpoint("192.0.2.10", 51514),
        server: endpoint("198.51.100.7", 443),
        community_id: "1:4xkicb3Uu6w+ETiHXoWiAzPyZD8=".to_string(),
        tcp_stream: Some(3),
        tcp_stream_input: Some(0),
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
        path_changes: None,
        lost: Vec::new(),
        lost_not_listed: 0,
        seen_packets: Vec::new(),
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
        kernel_tracing: None,
    }
}

/// A report of `flows`, its diagnosis counted from them as the builder counts it.
pub(super) fn report(flows: Vec<FlowReport>) -> Report {
    let mut diagnosis = Diagnosis::default();
    for flow in &flows {
        diagnosis.add(flow);
    }
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
            groups: diagnosis.groups(),
            ..Summary::default()
        },
        flows,
        warnings: Vec::new(),
        comparison: None,
    }
}

/// A firewall reset 8 s after a quiet handshake: idle break and device line.
pub(super) fn firewall_flow(id: u64) -> FlowReport {
    let mut rst = reset(6, 8052.0, "firewall", 62);
    rst.device_hops = Some(2);
    rst.packets_before = handshake(0.0, 8052.0);
    flow(id, vec![rst])
}

/// A genuine server reset right after the handshake.
pub(super) fn peer_flow(id: u64) -> FlowReport {
    let mut rst = reset(6, 60.0, "peer", 52);
    rst.packets_before = handshake(0.0, 60.0);
    flow(id, vec![rst])
}

pub(super) fn render(report: &Report) -> String {
    let mut out = Vec::new();
    write_html(report, &View::default(), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}
