//! The JSON report contract, `rstscope.report/1` (`docs/report-schema.md`, the project's copy
//! of the shared contract).
//!
//! The structs below are this test's own copy of the schema, independent of `src/report`:
//! every field the schema names is required (only the fields the schema allows to be null are
//! `Option`, and even those must be present), so renaming or removing a field fails here.
//! Unknown fields are allowed, since the schema lets new fields be added. rstscope's own extra
//! fields are checked separately, and so are the attribution fields' enums and counts.

// Helpers outside #[test] functions panic on purpose too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use common::*;

// ---------------------------------------------------------------------------------------------
// The schema.

/// An `Option` that must be present (as a value or `null`). serde treats a missing `Option`
/// field as `None` unless a `deserialize_with` is given, so this is what makes it required.
fn nullable<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer)
}

#[derive(Debug, Deserialize)]
struct Report {
    schema: String,
    tool: Tool,
    inputs: Vec<Input>,
    summary: Summary,
    flows: Vec<Flow>,
}

#[derive(Debug, Deserialize)]
struct Tool {
    name: String,
    version: String,
}

#[derive(Debug, Deserialize)]
struct Input {
    path: String,
    link_type: String,
    packets: u64,
    /// Null only for an input without packets.
    #[serde(deserialize_with = "nullable")]
    first_ts: Option<String>,
    #[serde(deserialize_with = "nullable")]
    last_ts: Option<String>,
    truncated_packets: u64,
    undecodable_packets: u64,
}

#[derive(Debug, Deserialize)]
struct Summary {
    tcp_flows: u64,
    closed_fin: u64,
    closed_rst: u64,
    not_closed: u64,
    resets: u64,
    verdicts: Verdicts,
}

#[derive(Debug, Deserialize)]
struct Verdicts {
    peer: u64,
    firewall: u64,
    middlebox: u64,
    unknown: u64,
}

#[derive(Debug, Deserialize)]
struct EvidenceItem {
    signal: String,
    points_to: String,
    detail: String,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
struct Endpoint {
    ip: String,
    port: u16,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
struct PerSide {
    client: u64,
    server: u64,
}

#[derive(Debug, Deserialize)]
struct Flow {
    id: u64,
    client: Endpoint,
    server: Endpoint,
    first_ts: String,
    last_ts: String,
    duration_s: f64,
    packets: PerSide,
    payload_bytes: PerSide,
    conn_state: String,
    history: String,
    close: String,
    /// Null when no handshake was seen.
    #[serde(deserialize_with = "nullable")]
    handshake_rtt_ms: Option<f64>,
    resets: Vec<Reset>,
}

#[derive(Debug, Deserialize)]
struct Reset {
    input: u64,
    frame: u64,
    ts: String,
    from: String,
    src: Endpoint,
    dst: Endpoint,
    flags: String,
    seq: u32,
    /// Null when the ACK flag is off.
    #[serde(deserialize_with = "nullable")]
    ack: Option<u32>,
    ttl: u8,
    /// Null for IPv6.
    #[serde(deserialize_with = "nullable")]
    ip_id: Option<u16>,
    verdict: String,
    confidence: f64,
    scenario: String,
    evidence: Vec<EvidenceItem>,
    explanation: String,
    advice: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// The capture: four flows, one after another, 21 frames.

/// 2023-11-14T22:13:20Z, where `Conversation` starts its clock.
const T0: &str = "2023-11-14T22:13:2";

/// - frames 1-10, 22:13:20.000-.090: SF, 192.0.2.10:51514 → 198.51.100.7:443, closed by FIN;
/// - frames 11-12, 22:13:21.000-.010: REJ, 192.0.2.20:40000 → 203.0.113.9:25, the SYN
///   answered by RST+ACK with seq 0, ack ISN+1;
/// - frames 13-17, 22:13:22.000-.040: RSTR over IPv6, [2001:db8::10]:50000 →
///   [2001:db8::20]:8443, established, 100 bytes that carry the client's sequence number past
///   2^32, then the server's RST+ACK;
/// - frames 18-21, 22:13:23.000-.030: RSTO, 192.0.2.30:41000 → 198.51.100.30:80,
///   established, then the client's bare RST (no ACK flag).
fn contract_capture(dir: &Path) -> (PathBuf, usize) {
    let mut sf = Conversation::new("192.0.2.10:51514", "198.51.100.7:443")
        .with_isns(4_000_000_000, 3_000_000_000);
    sf.handshake().exchange_and_close();

    let mut rej = Conversation::new("192.0.2.20:40000", "203.0.113.9:25").with_isns(123_456, 0);
    rej.wait(1_000_000_000).syn().server_rst();

    let mut rstr = Conversation::new("[2001:db8::10]:50000", "[2001:db8::20]:8443")
        .with_isns(0xffff_ffc0, 0xdead_beef);
    rstr.wait(2_000_000_000)
        .handshake()
        .client_data(100)
        .server_rst();

    let mut rsto = Conversation::new("192.0.2.30:41000", "198.51.100.30:80").with_isns(77, 88);
    rsto.wait(3_000_000_000).handshake().send(true, RST, 0);

    let mut frames = Vec::new();
    for c in [&sf, &rej, &rstr, &rsto] {
        frames.extend(c.ethernet_frames());
    }
    assert!(frames.windows(2).all(|w| w[0].0 < w[1].0), "time order");
    let path = dir.join("contract.pcap");
    write_pcap(&path, DLT_EN10MB, &frames);
    (path, frames.len())
}

/// Runs `rstscope analyze --format json` and returns the report as a JSON value.
fn report_value(path: &Path) -> Value {
    analyze_json(&[path])
}

fn parse(value: &Value) -> Report {
    serde_json::from_value(value.clone())
        .unwrap_or_else(|err| panic!("the report breaks rstscope.report/1: {err}\n{value:#}"))
}

fn flow_by_client_port(report: &Report, port: u16) -> &Flow {
    report
        .flows
        .iter()
        .find(|flow| flow.client.port == port)
        .unwrap_or_else(|| panic!("no flow from client port {port}: {report:#?}"))
}

fn endpoint(ip: &str, port: u16) -> Endpoint {
    Endpoint {
        ip: ip.to_string(),
        port,
    }
}

/// Asserts RFC 3339 UTC text ending in `Z`, and returns it parsed.
fn rfc3339(ts: &str) -> chrono::DateTime<chrono::FixedOffset> {
    assert!(ts.ends_with('Z'), "{ts} should end in Z (UTC)");
    chrono::DateTime::parse_from_rfc3339(ts)
        .unwrap_or_else(|err| panic!("{ts} is not RFC 3339: {err}"))
}

// ---------------------------------------------------------------------------------------------
// The tests.

#[test]
fn the_report_parses_as_rstscope_report_1_with_the_right_values() {
    let dir = temp_dir();
    let (path, frames) = contract_capture(dir.path());
    let report = parse(&report_value(&path));

    assert_eq!(report.schema, "rstscope.report/1");
    assert_eq!(report.tool.name, "rstscope");
    assert_eq!(report.tool.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(report.tool.version, "0.1.0");

    assert_eq!(report.inputs.len(), 1);
    let input = &report.inputs[0];
    assert_eq!(input.path, path.display().to_string());
    assert_eq!(input.link_type, "EN10MB");
    assert_eq!(input.packets, frames as u64);
    assert_eq!(input.packets, 21);
    assert_eq!(
        input.first_ts.as_deref(),
        Some("2023-11-14T22:13:20.000000Z")
    );
    assert_eq!(
        input.last_ts.as_deref(),
        Some("2023-11-14T22:13:23.030000Z")
    );
    assert_eq!(input.truncated_packets, 0);
    assert_eq!(input.undecodable_packets, 0);

    // The json format lists every flow, and the summary agrees with them.
    assert_eq!(report.flows.len(), 4);
    let s = &report.summary;
    assert_eq!(s.tcp_flows, 4);
    assert_eq!(s.tcp_flows, report.flows.len() as u64);
    assert_eq!(s.closed_fin, 1);
    assert_eq!(s.closed_rst, 3);
    assert_eq!(s.not_closed, 0);
    assert_eq!(s.resets, 3);
    let count = |close: &str| report.flows.iter().filter(|f| f.close == close).count() as u64;
    assert_eq!(s.closed_fin, count("fin"));
    assert_eq!(s.closed_rst, count("rst"));
    assert_eq!(s.not_closed, count("none"));
    let resets: usize = report.flows.iter().map(|f| f.resets.len()).sum();
    assert_eq!(s.resets, resets as u64);

    let mut ids: Vec<u64> = report.flows.iter().map(|f| f.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 4, "flow ids are unique");

    for flow in &report.flows {
        assert!(
            ["fin", "rst", "none"].contains(&flow.close.as_str()),
            "{flow:?}"
        );
        let first = rfc3339(&flow.first_ts);
        let last = rfc3339(&flow.last_ts);
        assert!(first <= last, "{flow:?}");
        assert!(flow.first_ts.starts_with(T0), "{flow:?}");
        let span = (last - first).num_microseconds().unwrap() as f64 / 1e6;
        assert!((flow.duration_s - span).abs() < 1e-6, "{flow:?}");
        for reset in &flow.resets {
            rfc3339(&reset.ts);
            assert!(reset.flags.contains('R'), "{reset:?}");
            assert_eq!(reset.input, 0);
        }
    }

    // SF: closed by FIN, no resets.
    let sf = flow_by_client_port(&report, 51514);
    assert_eq!(sf.client, endpoint("192.0.2.10", 51514));
    assert_eq!(sf.server, endpoint("198.51.100.7", 443));
    assert_eq!(sf.conn_state, "SF");
    assert_eq!(sf.history, "ShADadFf");
    assert_eq!(sf.close, "fin");
    assert_eq!(sf.first_ts, "2023-11-14T22:13:20.000000Z");
    assert_eq!(sf.last_ts, "2023-11-14T22:13:20.090000Z");
    assert!((sf.duration_s - 0.09).abs() < 1e-9, "{}", sf.duration_s);
    assert_eq!(
        sf.packets,
        PerSide {
            client: 6,
            server: 4
        }
    );
    assert_eq!(
        sf.payload_bytes,
        PerSide {
            client: 100,
            server: 200
        }
    );
    // SYN → SYN-ACK → ACK, 10 ms apart.
    assert_eq!(sf.handshake_rtt_ms, Some(20.0));
    assert!(sf.resets.is_empty());

    // REJ: the SYN answered by RST+ACK.
    let rej = flow_by_client_port(&report, 40000);
    assert_eq!(rej.server, endpoint("203.0.113.9", 25));
    assert_eq!(rej.conn_state, "REJ");
    assert_eq!(rej.history, "Sr");
    assert_eq!(rej.close, "rst");
    assert_eq!(rej.handshake_rtt_ms, None);
    assert_eq!(
        rej.packets,
        PerSide {
            client: 1,
            server: 1
        }
    );
    assert_eq!(rej.resets.len(), 1);
    let r = &rej.resets[0];
    assert_eq!(r.frame, 12);
    assert_eq!(r.ts, "2023-11-14T22:13:21.010000Z");
    assert_eq!(r.from, "server");
    assert_eq!(r.src, endpoint("203.0.113.9", 25));
    assert_eq!(r.dst, endpoint("192.0.2.20", 40000));
    assert_eq!(r.flags, "RA");
    assert_eq!(r.seq, 0);
    assert_eq!(r.ack, Some(123_457));
    assert_eq!(r.ttl, 57);
    assert_eq!(r.ip_id, Some(9001));

    // RSTR over IPv6: raw 32-bit numbers (the client's wrapped past 2^32), no IP ID.
    let rstr = flow_by_client_port(&report, 50000);
    assert_eq!(rstr.client, endpoint("2001:db8::10", 50000));
    assert_eq!(rstr.server, endpoint("2001:db8::20", 8443));
    assert_eq!(rstr.conn_state, "RSTR");
    assert_eq!(rstr.history, "ShADr");
    assert_eq!(rstr.close, "rst");
    assert_eq!(rstr.handshake_rtt_ms, Some(20.0));
    assert_eq!(
        rstr.payload_bytes,
        PerSide {
            client: 100,
            server: 0
        }
    );
    assert_eq!(rstr.resets.len(), 1);
    let r = &rstr.resets[0];
    assert_eq!(r.frame, 17);
    assert_eq!(r.ts, "2023-11-14T22:13:22.040000Z");
    assert_eq!(r.from, "server");
    assert_eq!(r.src, endpoint("2001:db8::20", 8443));
    assert_eq!(r.dst, endpoint("2001:db8::10", 50000));
    assert_eq!(r.flags, "RA");
    assert_eq!(r.seq, 0xdead_bef0, "server ISN + 1 (the SYN)");
    assert_eq!(r.ack, Some(0xffff_ffc0_u32.wrapping_add(101)), "wrapped");
    assert_eq!(r.ack, Some(37));
    assert_eq!(r.ttl, 57, "the IPv6 hop limit");
    assert_eq!(r.ip_id, None, "IPv6 has no IP ID");

    // RSTO: the client's bare RST, without ACK.
    let rsto = flow_by_client_port(&report, 41000);
    assert_eq!(rsto.conn_state, "RSTO");
    assert_eq!(rsto.history, "ShAR");
    assert_eq!(rsto.close, "rst");
    assert_eq!(rsto.resets.len(), 1);
    let r = &rsto.resets[0];
    assert_eq!(r.frame, 21);
    assert_eq!(r.ts, "2023-11-14T22:13:23.030000Z");
    assert_eq!(r.from, "client");
    assert_eq!(r.src, endpoint("192.0.2.30", 41000));
    assert_eq!(r.dst, endpoint("198.51.100.30", 80));
    assert_eq!(r.flags, "R");
    assert_eq!(r.seq, 78, "client ISN + 1 (the SYN)");
    assert_eq!(r.ack, None, "ack is null when the ACK flag is off");
    assert_eq!(r.ttl, 64);
    assert_eq!(r.ip_id, Some(103));
}

#[test]
fn nullable_fields_are_present_as_null_not_missing() {
    let dir = temp_dir();
    let (path, _) = contract_capture(dir.path());
    let value = report_value(&path);
    for flow in value["flows"].as_array().unwrap() {
        assert!(flow.get("handshake_rtt_ms").is_some(), "{flow}");
        for reset in flow["resets"].as_array().unwrap() {
            assert!(reset.get("ack").is_some(), "{reset}");
            assert!(reset.get("ip_id").is_some(), "{reset}");
        }
    }
    let rej = value["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|flow| flow["client"]["port"] == 40000)
        .unwrap();
    assert_eq!(rej["handshake_rtt_ms"], Value::Null);
}

#[test]
fn an_input_without_packets_has_null_times() {
    let dir = temp_dir();
    let path = dir.path().join("empty-capture.pcap");
    write_pcap(&path, DLT_EN10MB, &[]);
    let value = report_value(&path);
    assert_eq!(value["inputs"][0]["first_ts"], Value::Null);
    assert_eq!(value["inputs"][0]["last_ts"], Value::Null);
    let report = parse(&value);
    assert_eq!(report.inputs[0].packets, 0);
    assert_eq!(report.inputs[0].first_ts, None);
    assert_eq!(report.inputs[0].last_ts, None);
    assert_eq!(report.summary.tcp_flows, 0);
    assert!(report.flows.is_empty());
}

#[test]
fn attribution_fields_use_the_schema_enums_and_add_up() {
    let dir = temp_dir();
    let (path, _) = contract_capture(dir.path());
    let report = parse(&report_value(&path));
    let mut counted = [0u64; 4];
    for reset in report.flows.iter().flat_map(|flow| &flow.resets) {
        let slot = ["peer", "firewall", "middlebox", "unknown"]
            .iter()
            .position(|v| *v == reset.verdict)
            .unwrap_or_else(|| panic!("verdict {:?} is not in the schema", reset.verdict));
        counted[slot] += 1;
        assert!((0.0..=1.0).contains(&reset.confidence), "{reset:?}");
        assert!(
            !reset.scenario.is_empty() && !reset.scenario.contains(' '),
            "{reset:?}"
        );
        assert!(
            reset
                .scenario
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_')
        );
        assert!(
            !reset.evidence.is_empty(),
            "every weighed signal is listed: {reset:?}"
        );
        for item in &reset.evidence {
            assert!(
                ["peer", "path", "neither"].contains(&item.points_to.as_str()),
                "{item:?}"
            );
            assert!(
                !item.signal.is_empty() && !item.detail.is_empty(),
                "{item:?}"
            );
        }
        assert!(reset.explanation.ends_with('.'), "{}", reset.explanation);
        assert!(!reset.advice.is_empty(), "{reset:?}");
    }
    let v = &report.summary.verdicts;
    assert_eq!([v.peer, v.firewall, v.middlebox, v.unknown], counted);
    assert_eq!(counted.iter().sum::<u64>(), 3, "the check saw every reset");
}

#[test]
fn rstscope_extra_fields_have_their_values() {
    let dir = temp_dir();
    let (path, frames) = contract_capture(dir.path());
    let value = report_value(&path);
    let input = &value["inputs"][0];
    assert_eq!(input["non_tcp_packets"], 0);
    assert_eq!(input["filtered_packets"], 0);
    assert_eq!(input["tcp_packets"], frames as u64);
    assert_eq!(input["complete"], true);
    assert_eq!(value["summary"]["evicted_flows"], 0);
    assert_eq!(value["warnings"], serde_json::json!([]));
    let zero = serde_json::json!({"client": 0, "server": 0});
    for flow in value["flows"].as_array().unwrap() {
        assert_eq!(flow["retransmissions"], zero, "{flow}");
        assert_eq!(flow["zero_windows"], zero, "{flow}");
        assert_eq!(flow["keepalives"], zero, "{flow}");
        assert_eq!(flow["tunneled"], false, "{flow}");
        for reset in flow["resets"].as_array().unwrap() {
            assert_eq!(reset["len"], 0, "{reset}");
            assert_eq!(reset["checksum"], "valid", "{reset}");
        }
    }
}

/// Issue 11: the evidence carries each signal's likelihood ratio and whether it counted, and
/// the reckoning its prior and posterior, so a user can redo the arithmetic: the posterior is
/// the prior's odds times the counted ratios, and the verdict follows from it (a device at 0.8
/// or more, the peer at 0.25 or less, `unknown` between). Checked on every bundled sample.
#[test]
fn the_arithmetic_of_every_verdict_can_be_followed() {
    let mut resets = 0;
    for sample in samples() {
        let value = report_value(&sample);
        for flow in value["flows"].as_array().unwrap() {
            for reset in flow["resets"].as_array().unwrap() {
                resets += 1;
                let prior = reset["reckoning"]["prior_path"].as_f64().unwrap();
                let posterior = reset["reckoning"]["posterior_path"].as_f64().unwrap();
                let mut log_odds = (prior / (1.0 - prior)).ln();
                for item in reset["evidence"].as_array().unwrap() {
                    let ratio = item["ratio"].as_f64().unwrap();
                    let points = item["points_to"].as_str().unwrap();
                    let expected = if ratio > 1.0 {
                        "path"
                    } else if ratio < 1.0 {
                        "peer"
                    } else {
                        "neither"
                    };
                    assert_eq!(points, expected, "{item}");
                    if item["counted"] == true {
                        log_odds += ratio.ln();
                    }
                }
                let computed = 1.0 / (1.0 + (-log_odds).exp());
                assert!((computed - posterior).abs() < 0.01, "{computed} vs {reset}");
                let verdict = reset["verdict"].as_str().unwrap();
                let expected: &[&str] = if posterior >= 0.8 {
                    &["firewall", "middlebox"]
                } else if posterior <= 0.25 {
                    &["peer"]
                } else {
                    &["unknown"]
                };
                assert!(expected.contains(&verdict), "{posterior} {verdict}");
            }
        }
    }
    assert!(resets >= 15, "the samples hold {resets} resets");
}

#[test]
fn jsonl_lines_are_the_reports_flow_objects() {
    let dir = temp_dir();
    let (path, _) = contract_capture(dir.path());
    let value = report_value(&path);
    let out = rstscope(&["analyze", "--format", "jsonl", &path.display().to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    // The last line is the summary record, marked so a consumer can tell it from a flow, with
    // the document's summary, inputs and warnings.
    let record = lines.pop().unwrap();
    assert_eq!(record["record"], "summary", "{record}");
    assert_eq!(record["schema"], "rstscope.report/1");
    assert_eq!(record["summary"], value["summary"]);
    assert_eq!(record["inputs"], value["inputs"]);
    assert_eq!(record["warnings"], value["warnings"]);
    assert!(lines.iter().all(|flow| flow.get("record").is_none()));
    for line in &lines {
        let flow: Flow = serde_json::from_value(line.clone())
            .unwrap_or_else(|err| panic!("a jsonl line is not a schema flow: {err}\n{line}"));
        assert!(flow.id > 0);
    }
    lines.sort_by_key(|flow| flow["id"].as_u64());
    assert_eq!(&lines, value["flows"].as_array().unwrap());
}

/// `summary.groups`, rstscope's added diagnosis: every reset counted once (as a group's reset
/// or a follow-up), enums from the schema's lists, heaviest first, each example a listed flow.
#[test]
fn the_diagnosis_groups_count_every_reset_once() {
    let dir = temp_dir();
    let (path, _) = contract_capture(dir.path());
    let value = report_value(&path);
    let groups = value["summary"]["groups"].as_array().unwrap();
    assert!(!groups.is_empty());
    let counted: u64 = groups
        .iter()
        .map(|g| g["resets"].as_u64().unwrap() + g["follow_ups"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, value["summary"]["resets"].as_u64().unwrap());
    let resets: Vec<u64> = groups
        .iter()
        .map(|g| g["resets"].as_u64().unwrap())
        .collect();
    assert!(
        resets.windows(2).all(|w| w[0] >= w[1]),
        "heaviest first: {resets:?}"
    );
    for group in groups {
        for key in [
            "verdict",
            "scenario",
            "from",
            "servers",
            "first_ts",
            "last_ts",
            "explanation",
            "advice",
        ] {
            assert!(group[key].is_string(), "group lacks {key}: {group}");
        }
        assert!(
            ["peer", "firewall", "middlebox", "unknown"]
                .contains(&group["verdict"].as_str().unwrap())
        );
        assert!(["client", "server"].contains(&group["from"].as_str().unwrap()));
        assert!(
            rfc3339(group["first_ts"].as_str().unwrap())
                <= rfc3339(group["last_ts"].as_str().unwrap())
        );
        let example = &group["example"];
        let flow = value["flows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == example["flow"])
            .unwrap_or_else(|| panic!("the example is not a listed flow: {group}"));
        let reset = flow["resets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["frame"] == example["frame"])
            .unwrap_or_else(|| {
                panic!("the example frame is not one of the flow's resets: {group}")
            });
        assert_eq!(reset["verdict"], group["verdict"]);
        assert_eq!(reset["scenario"], group["scenario"]);
        assert_eq!(
            group["ports"].as_array().unwrap()[0],
            flow["server"]["port"]
        );
    }
}

/// The contract structs must really be strict, or the tests above prove nothing: a report with
/// any schema field removed, or renamed, must not parse.
#[test]
fn the_contract_structs_reject_a_missing_or_renamed_field() {
    let dir = temp_dir();
    let (path, _) = contract_capture(dir.path());
    let value = report_value(&path);
    parse(&value);

    let rej_index = value["flows"]
        .as_array()
        .unwrap()
        .iter()
        .position(|flow| flow["client"]["port"] == 40000)
        .unwrap();
    let rej = format!("/flows/{rej_index}");
    let objects: Vec<(String, Vec<&str>)> = vec![
        (
            "".into(),
            vec!["schema", "tool", "inputs", "summary", "flows"],
        ),
        ("/tool".into(), vec!["name", "version"]),
        (
            "/inputs/0".into(),
            vec![
                "path",
                "link_type",
                "packets",
                "first_ts",
                "last_ts",
                "truncated_packets",
                "undecodable_packets",
            ],
        ),
        (
            "/summary".into(),
            vec![
                "tcp_flows",
                "closed_fin",
                "closed_rst",
                "not_closed",
                "resets",
            ],
        ),
        (
            rej.clone(),
            vec![
                "id",
                "client",
                "server",
                "first_ts",
                "last_ts",
                "duration_s",
                "packets",
                "payload_bytes",
                "conn_state",
                "history",
                "close",
                "handshake_rtt_ms",
                "resets",
            ],
        ),
        (format!("{rej}/client"), vec!["ip", "port"]),
        (format!("{rej}/packets"), vec!["client", "server"]),
        (
            format!("{rej}/resets/0"),
            vec![
                "input", "frame", "ts", "from", "src", "dst", "flags", "seq", "ack", "ttl", "ip_id",
            ],
        ),
    ];
    for (pointer, fields) in objects {
        let object = value
            .pointer(&pointer)
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("no object at {pointer:?}"));
        for field in fields {
            assert!(object.contains_key(field), "{pointer}/{field} is missing");
            let mut broken = value.clone();
            let target = broken
                .pointer_mut(&pointer)
                .unwrap()
                .as_object_mut()
                .unwrap();
            let old = target.remove(field).unwrap();
            assert!(
                serde_json::from_value::<Report>(broken.clone()).is_err(),
                "removing {pointer}/{field} should break the contract"
            );
            let target = broken
                .pointer_mut(&pointer)
                .unwrap()
                .as_object_mut()
                .unwrap();
            target.insert(format!("{field}_renamed"), old);
            assert!(
                serde_json::from_value::<Report>(broken).is_err(),
                "renaming {pointer}/{field} should break the contract"
            );
        }
    }
}
