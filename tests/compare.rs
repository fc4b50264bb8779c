//! `rstscope compare`: two captures of the same traffic, built packet by packet as two capture
//! points would see them (the client's host and the server's, 3 routers and 12 ms apart), and
//! the shared lab's pairs. Each test names what only two points can tell.

// Helpers outside #[test] functions panic on purpose too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::path::Path;

use common::*;
use serde_json::Value;

/// One way between the points.
const TRANSIT_NS: i64 = 12_000_000;
/// Routers between the points.
const HOPS: u8 = 3;

/// Who put a segment on the wire.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// The host whose address it carries.
    Host,
    /// A device between the two points, in the sender's name.
    Between,
}

/// Two capture points: `a` on the client's host, `b` on the server's.
#[derive(Default)]
struct TwoPoints {
    a: Vec<(i64, Tcp)>,
    b: Vec<(i64, Tcp)>,
}

impl TwoPoints {
    /// Places `conversation`'s segments at both points. `lost` are indices (into its
    /// segments) that never reach the far point; `between` those a device between the points
    /// made (seen only where they are going); `nat` rewrites the client's address at b;
    /// `isn_moved` adds to the client's sequence numbers (and the server's acks) at b.
    fn add(
        &mut self,
        conversation: &Conversation,
        lost: &[usize],
        between: &[usize],
        nat: Option<&str>,
        isn_moved: u32,
    ) {
        let client = conversation.client;
        let at_b = |mut tcp: Tcp| {
            if let Some(nat) = nat {
                let nat: SocketAddr = nat.parse().unwrap();
                if tcp.src == client {
                    tcp.src = nat;
                } else {
                    tcp.dst = nat;
                }
            }
            if tcp.src == nat.map_or(client, |n| n.parse().unwrap()) {
                tcp.seq = tcp.seq.wrapping_add(isn_moved);
            } else if tcp.flags & ACK != 0 {
                tcp.ack = tcp.ack.wrapping_add(isn_moved);
            }
            tcp
        };
        for (index, (ts, tcp)) in conversation.segments.iter().enumerate() {
            let from_client = tcp.src == client;
            let origin = if between.contains(&index) {
                Origin::Between
            } else {
                Origin::Host
            };
            let reaches_far = !lost.contains(&index);
            match (from_client, origin) {
                (true, Origin::Host) => {
                    self.a.push((*ts, tcp.clone()));
                    if reaches_far {
                        let mut far = tcp.clone();
                        far.ttl -= HOPS;
                        self.b.push((ts + TRANSIT_NS, at_b(far)));
                    }
                }
                (false, Origin::Host) => {
                    // The conversation's times are the client's view: the server sent it
                    // one transit earlier.
                    let sent = ts - TRANSIT_NS;
                    let mut near = tcp.clone();
                    near.ttl += HOPS;
                    self.b.push((sent, at_b(near)));
                    if reaches_far {
                        self.a.push((*ts, tcp.clone()));
                    }
                }
                // Made between the points: seen only at the point it is going to.
                (true, Origin::Between) => self.b.push((*ts + TRANSIT_NS, at_b(tcp.clone()))),
                (false, Origin::Between) => self.a.push((*ts, tcp.clone())),
            }
        }
    }

    /// The server's capture drops (does not record) the segments `drop` picks.
    fn missed_at_b(&mut self, drop: impl Fn(&Tcp) -> bool) {
        self.b.retain(|(_, tcp)| !drop(tcp));
    }

    /// Writes both captures; the server side's clock is `skew_s` ahead.
    fn write(&self, dir: &Path, skew_s: f64) -> (std::path::PathBuf, std::path::PathBuf) {
        let (a, b) = (dir.join("client.pcap"), dir.join("server.pcap"));
        let mut at_a = self.a.clone();
        let mut at_b = self.b.clone();
        at_a.sort_by_key(|(ts, _)| *ts);
        at_b.sort_by_key(|(ts, _)| *ts);
        let skew = (skew_s * 1e9) as i64;
        for (ts, _) in &mut at_b {
            *ts += skew;
        }
        write_pcap(&a, DLT_EN10MB, &ethernet_frames_of(&at_a));
        write_pcap(&b, DLT_EN10MB, &ethernet_frames_of(&at_b));
        (a, b)
    }
}

fn compare_json(a: &Path, b: &Path) -> Value {
    let out = rstscope(&[
        "compare",
        "--format",
        "json",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "compare failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// One reset: (input, frame) of each sighting, from, verdict, scenario, first signal.
type Judged = (Vec<(u64, u64)>, String, String, String, String);

/// Every reset of the report.
fn resets(report: &Value) -> Vec<Judged> {
    let mut out = Vec::new();
    for flow in report["flows"].as_array().unwrap() {
        for reset in flow["resets"].as_array().unwrap() {
            let seen = reset["seen"]
                .as_array()
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .map(|s| (s["input"].as_u64().unwrap(), s["frame"].as_u64().unwrap()))
                .collect();
            let text = |key: &str| reset[key].as_str().unwrap_or_default().to_string();
            out.push((
                seen,
                text("from"),
                text("verdict"),
                text("scenario"),
                reset["evidence"][0]["signal"].as_str().unwrap().to_string(),
            ));
        }
    }
    out
}

/// A server the captures both see at work, so either point's silence about another flow to
/// it means something.
fn busy_server(port: u16) -> Conversation {
    let mut c = Conversation::new(&format!("192.0.2.10:{port}"), "198.51.100.7:443");
    c.server_ttl = 61;
    c.step_ns = 30_000_000;
    c.handshake().exchange_and_close();
    c
}

/// A firewall between the points refuses a SYN in the server's name, copying the server's
/// TTL: from the client's capture alone it is the server's refusal; the server's capture,
/// which saw the server's other traffic and never this SYN, shows it never left the server.
#[test]
fn a_firewall_copying_the_servers_ttl_is_caught_between_the_points() {
    let mut points = TwoPoints::default();
    points.add(&busy_server(40001), &[], &[], None, 0);
    let mut refused = Conversation::new("192.0.2.10:40002", "198.51.100.7:443");
    refused.server_ttl = 61;
    refused.now_ns += 400_000_000;
    // It answers as late as the server would: timing does not give it away either.
    refused.step_ns = 30_000_000;
    refused.syn().server_rst();
    // The SYN stops at the firewall; the RST is the firewall's.
    points.add(&refused, &[0], &[1], None, 0);
    // The server's capture runs on after it (else its silence would prove nothing).
    let mut later = busy_server(40005);
    later.now_ns += 1_000_000_000;
    later.segments.clear();
    later.handshake().exchange_and_close();
    points.add(&later, &[], &[], None, 0);
    let dir = temp_dir();
    let (a, b) = points.write(dir.path(), 0.0);

    let alone = analyze_json(&[&a]);
    let one_capture = resets(&alone);
    assert_eq!(one_capture.len(), 1);
    assert!(
        one_capture[0].2 == "peer" || one_capture[0].2 == "unknown",
        "one capture alone cannot catch it: {one_capture:?}"
    );

    let report = compare_json(&a, &b);
    let judged = resets(&report);
    assert_eq!(judged.len(), 1, "{judged:?}");
    let (seen, from, verdict, scenario, signal) = &judged[0];
    assert_eq!(seen.len(), 1, "seen only at the client's point: {seen:?}");
    assert_eq!(seen[0].0, 0);
    assert_eq!(from, "server");
    assert_eq!(
        (verdict.as_str(), scenario.as_str()),
        ("firewall", "firewall_reject")
    );
    assert_eq!(signal, "never_left_sender");
}

/// The server's own abort is seen leaving it and arriving: one reset, two sightings, the
/// server's, whatever the clocks (the server's is 37.25 s ahead).
#[test]
fn a_servers_abort_is_seen_leaving_it_and_listed_once() {
    let mut points = TwoPoints::default();
    let mut c = Conversation::new("192.0.2.10:40003", "198.51.100.7:443");
    c.server_ttl = 61;
    c.handshake().client_data(100).server_data(500).server_rst();
    points.add(&c, &[], &[], None, 0);
    let dir = temp_dir();
    let (a, b) = points.write(dir.path(), 37.25);
    let report = compare_json(&a, &b);
    let judged = resets(&report);
    assert_eq!(judged.len(), 1, "{judged:?}");
    let (seen, from, verdict, _, signal) = &judged[0];
    assert_eq!(seen.iter().map(|s| s.0).collect::<Vec<_>>(), vec![0, 1]);
    assert_eq!((from.as_str(), verdict.as_str()), ("server", "peer"));
    assert_eq!(signal, "seen_leaving_sender");
    let comparison = &report["comparison"];
    let offset = comparison["clock_offset_s"].as_f64().unwrap();
    assert!(
        (offset - 37.25).abs() < 0.001,
        "offset {offset}: {comparison}"
    );
    assert_eq!(comparison["flows_matched"], 1);
    assert_eq!(comparison["nearer_clients"], 0);
    // Every time is on the client capture's clock: the server-side sighting is 12 ms before.
    let flow = &report["flows"][0];
    assert_eq!(flow["path_changes"]["hops"], u64::from(HOPS));
    // The packets around the reset, each with its frame at both points.
    let rows = flow["seen_packets"].as_array().unwrap();
    assert!(rows.len() >= 3, "{rows:?}");
    assert!(
        rows.iter()
            .all(|row| row["frames"][0].is_u64() && row["frames"][1].is_u64())
    );
}

/// A NAT between the points and a firewall that moves the client's ISN: the flow is still
/// found, the mapping and the offset reported; a data segment lost between the points is
/// listed, its retransmission is not.
#[test]
fn nat_isn_rewriting_and_a_lost_segment_are_found() {
    let mut points = TwoPoints::default();
    let mut c = Conversation::new("192.0.2.10:40004", "198.51.100.7:443");
    c.server_ttl = 61;
    c.handshake().client_data(100);
    // The same 100 bytes again (a retransmission: same sequence number, new IP ID).
    c.client_next -= 100;
    c.client_data(100)
        .server_ack()
        .server_data(200)
        .ack()
        .client_fin()
        .server_fin()
        .ack();
    points.add(&c, &[3], &[], Some("203.0.113.200:51000"), 12_345);
    let dir = temp_dir();
    let (a, b) = points.write(dir.path(), 0.0);
    let report = compare_json(&a, &b);
    let flows = report["flows"].as_array().unwrap();
    assert_eq!(flows.len(), 1, "one connection, one flow: {report}");
    let changes = &flows[0]["path_changes"];
    assert_eq!(changes["client_at_second"]["ip"], "203.0.113.200");
    assert_eq!(changes["client_at_second"]["port"], 51000);
    assert_eq!(changes["client_seq_offset"], 12_345);
    assert!(changes.get("server_seq_offset").is_none(), "{changes}");
    let nat = &report["comparison"]["nat"];
    assert_eq!(nat[0]["first"]["port"], 40004, "{nat}");
    assert_eq!(nat[0]["second"]["ip"], "203.0.113.200", "{nat}");
    let lost = flows[0]["lost"].as_array().unwrap();
    assert_eq!(lost.len(), 1, "{lost:?}");
    assert_eq!(lost[0]["input"], 0);
    assert_eq!(lost[0]["frame"], 4);
    assert_eq!(lost[0]["from"], "client");
}

/// The server's own reset, which the server's capture missed along with another of the
/// server's packets (its kernel dropped them): its silence proves nothing, so the reset keeps
/// the one-capture verdict, never a device's.
#[test]
fn a_capture_that_dropped_packets_does_not_make_a_reset_forged() {
    let mut points = TwoPoints::default();
    points.add(&busy_server(40006), &[], &[], None, 0);
    let mut c = Conversation::new("192.0.2.10:40007", "198.51.100.7:443");
    c.server_ttl = 61;
    c.now_ns += 400_000_000;
    c.step_ns = 30_000_000;
    c.handshake()
        .client_data(100)
        .server_data(300)
        .server_data(300)
        .server_rst();
    points.add(&c, &[], &[], None, 0);
    let mut later = busy_server(40008);
    later.now_ns += 1_000_000_000;
    later.segments.clear();
    later.handshake().exchange_and_close();
    points.add(&later, &[], &[], None, 0);
    let port = |tcp: &Tcp| tcp.dst.port() == 40007;
    points.missed_at_b(|tcp| port(tcp) && (tcp.flags & RST != 0 || tcp.payload.len() == 300));
    let dir = temp_dir();
    let (a, b) = points.write(dir.path(), 0.0);
    let judged = resets(&compare_json(&a, &b));
    assert_eq!(judged.len(), 1, "{judged:?}");
    let (_, from, verdict, _, signal) = &judged[0];
    assert_eq!(from, "server");
    assert_eq!(signal, "near_capture_incomplete", "{judged:?}");
    assert_ne!(verdict, "firewall");
    assert_ne!(verdict, "middlebox");
}

/// The order of the files is free: the same resets get the same verdicts.
#[test]
fn the_order_of_the_captures_does_not_change_a_verdict() {
    let pair = shared().join("lab-pairs/p08-injection-nat");
    let (a, b) = (pair.join("a.pcap"), pair.join("b.pcap"));
    let forward = resets(&compare_json(&a, &b));
    let backward = resets(&compare_json(&b, &a));
    let verdicts = |list: &[Judged], swap: bool| {
        let mut out: Vec<(Vec<(u64, u64)>, String)> = list
            .iter()
            .map(|(seen, _, verdict, _, _)| {
                let mut seen: Vec<(u64, u64)> = seen
                    .iter()
                    .map(|&(input, frame)| (if swap { 1 - input } else { input }, frame))
                    .collect();
                seen.sort_unstable();
                (seen, verdict.clone())
            })
            .collect();
        out.sort();
        out
    };
    assert_eq!(verdicts(&forward, false), verdicts(&backward, true));
    assert!(forward.len() >= 5, "{forward:?}");
}

/// The shared lab's skewed pair: the clock offset (37.25 s) and drift (200 ppm) come back.
#[test]
fn the_lab_pairs_skewed_clock_is_read_back() {
    let pair = shared().join("lab-pairs/p06-idle-timeout-skew");
    let report = compare_json(&pair.join("a.pcap"), &pair.join("b.pcap"));
    let comparison = &report["comparison"];
    let offset = comparison["clock_offset_s"].as_f64().unwrap();
    let drift = comparison["clock_drift_ppm"].as_f64().unwrap();
    assert!((offset - 37.25).abs() < 0.002, "{comparison}");
    assert!((drift - 200.0).abs() < 20.0, "{comparison}");
}

/// Anonymised, a comparison names no address and no file of the originals anywhere.
#[test]
fn an_anonymised_comparison_hides_addresses_and_file_names() {
    let pair = shared().join("lab-pairs/p08-injection-nat");
    let (a, b) = (pair.join("a.pcap"), pair.join("b.pcap"));
    let out = rstscope(&[
        "compare",
        "--anonymize-key",
        "2b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfe",
        "--format",
        "json",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // (Under this key 198.51.100.7 maps to itself: prefix-preserving within its /24, by chance.)
    for secret in [
        "192.0.2.10",
        "203.0.113.200",
        "a.pcap",
        "b.pcap",
        "lab-pairs",
    ] {
        assert!(
            !text.contains(secret),
            "{secret} is in the anonymised comparison"
        );
    }
    assert!(text.contains("input1.pcap") && text.contains("input2.pcap"));
}

/// Every format carries the comparison: the paragraph in the table and Markdown, the two
/// capture points drawn in the HTML with a forged reset starting between them.
#[test]
fn every_format_tells_the_comparison() {
    let pair = shared().join("lab-pairs/p08-injection-nat");
    let (a, b) = (pair.join("a.pcap"), pair.join("b.pcap"));
    for format in ["table", "markdown", "jira", "html"] {
        let out = rstscope(&[
            "compare",
            "-F",
            format,
            a.to_str().unwrap(),
            b.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("Compared a.pcap with b.pcap"),
            "{format}: no comparison paragraph"
        );
        assert!(
            text.contains("Never left the server"),
            "{format}: no two-capture explanation"
        );
        if format == "html" {
            assert!(
                text.contains("class=\"vantage\""),
                "html: no two-point diagram"
            );
            // Every packet around the resets, with its frame at each point.
            assert!(
                text.contains("[#40 / #40]"),
                "html: the request seen at both points"
            );
            assert!(
                text.contains("[#41 / -]"),
                "html: the forged RST seen at one point"
            );
        }
        if format == "table" {
            assert!(text.contains("#41/-"), "table: the frame at each point");
        }
        if format == "markdown" {
            assert!(
                text.contains("Seen only in a.pcap (frame 41"),
                "markdown: sightings"
            );
            assert!(
                text.contains("Between the capture points: 3 hops"),
                "markdown: path"
            );
        }
    }
}

/// `--export-pcap` writes both captures' frames of the reset flows, one pcapng interface per
/// capture, each RST commented with its two-capture verdict.
#[test]
fn the_export_carries_both_captures_and_the_two_capture_verdicts() {
    let pair = shared().join("lab-pairs/p08-injection-nat");
    let (a, b) = (pair.join("a.pcap"), pair.join("b.pcap"));
    let dir = temp_dir();
    let export = dir.path().join("evidence.pcapng");
    let out = rstscope(&[
        "compare",
        "-F",
        "json",
        "--export-pcap",
        export.to_str().unwrap(),
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&export).unwrap();
    let has = |text: &str| bytes.windows(text.len()).any(|w| w == text.as_bytes());
    assert!(has("a.pcap frame 41"), "a's forged RST");
    assert!(has("b.pcap frame 43"), "b's forged RST");
    assert!(has("from both captures: never_left_sender"));
    assert!(has("from both captures: seen_leaving_sender"));
    // Read back: the frames of both captures are there.
    let report = analyze_json(&[&export]);
    assert_eq!(report["summary"]["resets"], 8, "{}", report["summary"]);
}

#[test]
fn compare_needs_two_files_and_says_what_is_wrong() {
    let out = rstscope(&["compare", "only-one.pcap"]);
    assert_eq!(out.status.code(), Some(2));
    let dir = temp_dir();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a capture\n").unwrap();
    let missing = dir.path().join("missing.pcap");
    for (first, second, named) in [(&text, &text, &text), (&missing, &text, &missing)] {
        let out = rstscope(&["compare", first.to_str().unwrap(), second.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(stderr.contains(named.to_str().unwrap()), "{stderr}");
    }
}

/// `../shared` (or `$RSTSCOPE_SHARED`).
fn shared() -> std::path::PathBuf {
    std::env::var("RSTSCOPE_SHARED").map_or_else(
        |_| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"),
        std::path::PathBuf::from,
    )
}
