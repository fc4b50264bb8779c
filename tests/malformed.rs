//! The malformed-capture suite: files and frames built byte by byte to break every length,
//! count and nesting a capture has. Each case runs the binary with its address space capped
//! at 1 GiB (an allocation sized from a corrupt field aborts instead of passing unnoticed) and
//! must end one of three ways, consistently:
//! - exit 0, nothing on stderr, a complete report;
//! - exit 3, one `rstscope: warning:` line, a report of what was read before the damage;
//! - exit 1, one `rstscope:` error line naming the cause, nothing on stdout.
//!
//! Never a panic, never a hang. `tests/bad_input.rs` holds the cases about paths, permissions
//! and outputs, and the first malformed-capture cases.

// Helpers outside #[test] functions panic on purpose: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_rstscope");

/// How a case must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ends {
    /// Exit 0, complete report, no stderr.
    Clean,
    /// Exit 3, one warning, the report of what came before.
    CutOff,
    /// Exit 1, one error line.
    Error,
}

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
}

/// Runs `analyze --format json` on the bytes, memory-limited and time-limited, and checks the
/// outcome is `ends`. Returns the report (Null for errors).
fn check(case: Case, ends: Ends) -> Value {
    let dir = temp_dir();
    let path = dir.path().join(case.name);
    std::fs::write(&path, &case.bytes).unwrap();
    let started = Instant::now();
    let out = run_limited(&path);
    let took = started.elapsed();
    let name = case.name;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.contains("panicked") && !stderr.contains("memory allocation"),
        "{name}: crashed:\n{stderr}"
    );
    assert!(took < Duration::from_secs(20), "{name}: took {took:?}");
    let code = out.status.code();
    let lines: Vec<&str> = stderr.lines().collect();
    match ends {
        Ends::Clean => {
            assert_eq!(code, Some(0), "{name}: stderr: {stderr}");
            assert!(stderr.is_empty(), "{name}: unexpected stderr: {stderr}");
        }
        Ends::CutOff => {
            assert_eq!(code, Some(3), "{name}: stderr: {stderr}");
            assert_eq!(lines.len(), 1, "{name}: one warning line: {stderr}");
            assert!(
                lines[0].starts_with("rstscope: warning: "),
                "{name}: {stderr}"
            );
        }
        Ends::Error => {
            assert_eq!(code, Some(1), "{name}: stderr: {stderr}");
            assert_eq!(lines.len(), 1, "{name}: one error line: {stderr}");
            assert!(lines[0].starts_with("rstscope: "), "{name}: {stderr}");
            assert!(out.stdout.is_empty(), "{name}: no report after an error");
            return Value::Null;
        }
    }
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{name}: the report is not JSON ({e}); stderr: {stderr}"));
    assert_eq!(
        report["inputs"][0]["complete"],
        ends == Ends::Clean,
        "{name}: `complete` must agree with the exit status"
    );
    report
}

fn run_limited(path: &Path) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1048576 && exec timeout 20 \"$0\" analyze --format json \"$1\"")
        .arg(BIN)
        .arg(path)
        .output()
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Building captures byte by byte.

/// Seven frames of a connection the server resets.
fn frames() -> Vec<(i64, Vec<u8>)> {
    server_reset_conversation().ethernet_frames()
}

fn le32(v: u32) -> [u8; 4] {
    v.to_le_bytes()
}

/// A classic pcap: magic, version 2.4, snap length, link type, then records.
fn pcap(magic: u32, snaplen: u32, linktype: u32, records: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&le32(magic));
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&le32(snaplen));
    out.extend_from_slice(&le32(linktype));
    for record in records {
        out.extend_from_slice(record);
    }
    out
}

/// A pcap record: header and data.
fn record(sec: u32, frac: u32, caplen: u32, len: u32, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in [sec, frac, caplen, len] {
        out.extend_from_slice(&le32(v));
    }
    out.extend_from_slice(data);
    out
}

/// The good frames as pcap records (microsecond stamps).
fn good_records() -> Vec<Vec<u8>> {
    frames()
        .iter()
        .map(|(ts, data)| {
            let (sec, usec) = (
                (ts / 1_000_000_000) as u32,
                (ts % 1_000_000_000 / 1000) as u32,
            );
            let len = data.len() as u32;
            record(sec, usec, len, len, data)
        })
        .collect()
}

fn good_pcap_with(extra: Vec<Vec<u8>>) -> Vec<u8> {
    let mut records = good_records();
    records.extend(extra);
    pcap(0xa1b2_c3d4, 65535, 1, &records)
}

/// A pcapng block: type, total length, body (padded), total length again.
fn block(kind: u32, body: &[u8]) -> Vec<u8> {
    let mut body = body.to_vec();
    while !body.len().is_multiple_of(4) {
        body.push(0);
    }
    let total = (12 + body.len()) as u32;
    let mut out = Vec::new();
    out.extend_from_slice(&le32(kind));
    out.extend_from_slice(&le32(total));
    out.extend_from_slice(&body);
    out.extend_from_slice(&le32(total));
    out
}

fn shb() -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&le32(0x1a2b_3c4d));
    body.extend_from_slice(&1u16.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&(-1i64).to_le_bytes());
    block(0x0a0d_0d0a, &body)
}

/// An Interface Description Block, with options (code, value) if any.
fn idb(linktype: u16, options: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&linktype.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&le32(0));
    for (code, value) in options {
        body.extend_from_slice(&code.to_le_bytes());
        body.extend_from_slice(&(value.len() as u16).to_le_bytes());
        body.extend_from_slice(value);
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
    }
    if !options.is_empty() {
        body.extend_from_slice(&[0; 4]);
    }
    block(1, &body)
}

/// An Enhanced Packet Block with a raw 64-bit timestamp.
fn epb(interface: u32, ts: u64, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&le32(interface));
    body.extend_from_slice(&le32((ts >> 32) as u32));
    body.extend_from_slice(&le32(ts as u32));
    body.extend_from_slice(&le32(data.len() as u32));
    body.extend_from_slice(&le32(data.len() as u32));
    body.extend_from_slice(data);
    block(6, &body)
}

/// The good frames as a pcapng with microsecond stamps, then `extra` blocks.
fn good_pcapng_with(extra: Vec<Vec<u8>>) -> Vec<u8> {
    let mut out = shb();
    out.extend(idb(1, &[]));
    for (ts, data) in frames() {
        out.extend(epb(0, (ts / 1000) as u64, &data));
    }
    for block in extra {
        out.extend(block);
    }
    out
}

/// The reset flow of `frames()` must be in the report.
fn assert_flow(report: &Value) {
    let flows = report["flows"].as_array().unwrap();
    assert!(
        flows.iter().any(|f| f["client"]["port"] == 51514
            && f["resets"].as_array().is_some_and(|r| !r.is_empty())),
        "the good flow is missing:\n{report:#}"
    );
}

/// A TCP frame (a lone SYN, 54 bytes) to break.
fn syn_frame() -> Vec<u8> {
    let mut c = Conversation::new("192.0.2.99:4444", "198.51.100.99:80");
    c.syn();
    c.ethernet_frames().remove(0).1
}

fn frame_record(data: &[u8]) -> Vec<u8> {
    record(1_700_000_100, 0, data.len() as u32, data.len() as u32, data)
}

/// The good flow plus one hostile frame: clean, the frame counted as skipped.
fn assert_frame_skipped(name: &'static str, bad: Vec<u8>) {
    let bytes = pcap(
        0xa1b2_c3d4,
        262_144,
        1,
        &[good_records(), vec![frame_record(&bad)]].concat(),
    );
    let report = check(Case { name, bytes }, Ends::Clean);
    assert_flow(&report);
    let input = &report["inputs"][0];
    let skipped = [
        "truncated_packets",
        "undecodable_packets",
        "non_tcp_packets",
    ]
    .iter()
    .map(|k| input[*k].as_u64().unwrap_or(0))
    .sum::<u64>();
    assert_eq!(skipped, 1, "{name}: the hostile frame is skipped: {input}");
    assert_eq!(report["summary"]["tcp_flows"], 1, "{name}");
}

// ---------------------------------------------------------------------------------------------
// Classic pcap headers and records.

#[test]
fn bad_magic_is_not_a_capture() {
    let mut bytes = good_pcap_with(Vec::new());
    bytes[0..4].copy_from_slice(b"PCAP");
    let stderr_case = Case {
        name: "bad-magic.pcap",
        bytes,
    };
    check(stderr_case, Ends::Error);
}

#[test]
fn big_endian_and_nanosecond_pcaps_are_read() {
    // Nanosecond magic: the same records, fractions read as nanoseconds.
    let bytes = pcap(0xa1b2_3c4d, 65535, 1, &good_records());
    assert_flow(&check(
        Case {
            name: "nanosecond.pcap",
            bytes,
        },
        Ends::Clean,
    ));
    // Big-endian: every header field swapped.
    let mut be = Vec::new();
    be.extend_from_slice(&0xa1b2_c3d4_u32.to_be_bytes());
    be.extend_from_slice(&2u16.to_be_bytes());
    be.extend_from_slice(&4u16.to_be_bytes());
    be.extend_from_slice(&[0; 8]);
    be.extend_from_slice(&65535u32.to_be_bytes());
    be.extend_from_slice(&1u32.to_be_bytes());
    for (ts, data) in frames() {
        for v in [
            (ts / 1_000_000_000) as u32,
            (ts % 1_000_000_000 / 1000) as u32,
            data.len() as u32,
            data.len() as u32,
        ] {
            be.extend_from_slice(&v.to_be_bytes());
        }
        be.extend_from_slice(&data);
    }
    assert_flow(&check(
        Case {
            name: "big-endian.pcap",
            bytes: be,
        },
        Ends::Clean,
    ));
}

#[test]
fn a_snap_length_of_zero_or_huge_in_the_header_is_tolerated() {
    for (name, snaplen) in [("snaplen-0.pcap", 0u32), ("snaplen-huge.pcap", u32::MAX)] {
        let bytes = pcap(0xa1b2_c3d4, snaplen, 1, &good_records());
        assert_flow(&check(Case { name, bytes }, Ends::Clean));
    }
}

#[test]
fn a_header_only_pcap_is_an_empty_report() {
    let bytes = pcap(0xa1b2_c3d4, 65535, 1, &[]);
    let report = check(
        Case {
            name: "header-only.pcap",
            bytes,
        },
        Ends::Clean,
    );
    assert_eq!(report["inputs"][0]["packets"], 0);
    assert_eq!(report["flows"], Value::Array(Vec::new()));
}

#[test]
fn a_record_longer_than_the_snap_length_is_handled() {
    // Snap length 64 in the header, one record of 1000 captured bytes that are there (as
    // some tools write after changing the snap length): read, and its frame skipped.
    let mut records = good_records();
    records.push(record(1_700_000_100, 0, 1000, 1000, &[0x55; 1000]));
    let bytes = pcap(0xa1b2_c3d4, 64, 1, &records);
    let report = check(
        Case {
            name: "record-over-snaplen.pcap",
            bytes,
        },
        Ends::Clean,
    );
    assert_flow(&report);
    assert_eq!(report["inputs"][0]["packets"], 8);
}

#[test]
fn a_record_running_past_the_end_of_the_file_keeps_what_came_before() {
    let bytes = good_pcap_with(vec![record(1_700_000_100, 0, 60, 60, &[0x55; 20])]);
    let report = check(
        Case {
            name: "record-past-end.pcap",
            bytes,
        },
        Ends::CutOff,
    );
    assert_flow(&report);
    assert_eq!(report["inputs"][0]["packets"], 7);
}

#[test]
fn a_captured_length_above_the_wire_length_is_not_fatal() {
    let data = syn_frame();
    let bytes = good_pcap_with(vec![record(1_700_000_100, 0, data.len() as u32, 10, &data)]);
    assert_flow(&check(
        Case {
            name: "caplen-over-len.pcap",
            bytes,
        },
        Ends::Clean,
    ));
}

#[test]
fn extreme_timestamps_neither_panic_nor_go_wrong() {
    let data = syn_frame();
    // The last second a 32-bit field holds (2106), and a microsecond field over a million.
    let bytes = good_pcap_with(vec![
        record(
            u32::MAX,
            999_999,
            data.len() as u32,
            data.len() as u32,
            &data,
        ),
        record(
            1_700_000_000,
            4_000_000_000,
            data.len() as u32,
            data.len() as u32,
            &data,
        ),
    ]);
    let report = check(
        Case {
            name: "extreme-times.pcap",
            bytes,
        },
        Ends::Clean,
    );
    assert_flow(&report);
    let last = report["inputs"][0]["last_ts"].as_str().unwrap_or("");
    assert!(
        chrono::DateTime::parse_from_rfc3339(last).is_ok(),
        "last_ts is a real time: {last}"
    );
}

// ---------------------------------------------------------------------------------------------
// pcapng blocks.

#[test]
fn an_unknown_pcapng_block_type_is_skipped() {
    let bytes = good_pcapng_with(vec![block(0x0000_0bad, &[1, 2, 3, 4, 5, 6, 7, 8])]);
    assert_flow(&check(
        Case {
            name: "unknown-block.pcapng",
            bytes,
        },
        Ends::Clean,
    ));
}

#[test]
fn a_packet_for_an_interface_that_was_never_described_keeps_what_came_before() {
    let bytes = good_pcapng_with(vec![epb(5, 1_700_000_100_000_000, &syn_frame())]);
    let report = check(
        Case {
            name: "interface-out-of-range.pcapng",
            bytes,
        },
        Ends::CutOff,
    );
    assert_flow(&report);
}

#[test]
fn a_pcapng_packet_before_any_interface_is_one_line() {
    // libpcap reads the first packet block when it opens the file: refused at once.
    let mut bytes = shb();
    bytes.extend(epb(0, 1_700_000_100_000_000, &syn_frame()));
    check(
        Case {
            name: "no-interface.pcapng",
            bytes,
        },
        Ends::Error,
    );
}

#[test]
fn a_pcapng_block_length_not_a_multiple_of_four_keeps_what_came_before() {
    let mut bad = epb(0, 1_700_000_100_000_000, &syn_frame());
    let len = u32::from_le_bytes(bad[4..8].try_into().unwrap()) - 2;
    bad[4..8].copy_from_slice(&le32(len));
    let bytes = good_pcapng_with(vec![bad]);
    let report = check(
        Case {
            name: "block-length-odd.pcapng",
            bytes,
        },
        Ends::CutOff,
    );
    assert_flow(&report);
}

#[test]
fn a_pcapng_timestamp_beyond_what_nanoseconds_hold_is_not_fatal() {
    // if_tsresol 9 (nanoseconds) and a 64-bit stamp at its maximum: past year 2554.
    let mut bytes = shb();
    bytes.extend(idb(1, &[(9, vec![9])]));
    for (ts, data) in frames() {
        bytes.extend(epb(0, ts as u64, &data));
    }
    bytes.extend(epb(0, u64::MAX, &syn_frame()));
    let report = check(
        Case {
            name: "timestamp-max.pcapng",
            bytes,
        },
        Ends::Clean,
    );
    assert_flow(&report);
}

#[test]
fn a_second_pcapng_section_continues_the_capture() {
    let mut bytes = good_pcapng_with(Vec::new());
    bytes.extend(shb());
    bytes.extend(idb(1, &[]));
    bytes.extend(epb(0, 1_700_000_100_000_000, &syn_frame()));
    let report = check(
        Case {
            name: "two-sections.pcapng",
            bytes,
        },
        Ends::Clean,
    );
    assert_flow(&report);
    assert_eq!(report["inputs"][0]["packets"], 8);
}

#[test]
fn pcapng_interfaces_of_two_link_types_are_one_line() {
    let mut bytes = shb();
    bytes.extend(idb(1, &[]));
    bytes.extend(idb(101, &[]));
    bytes.extend(epb(0, 1_700_000_100_000_000, &syn_frame()));
    let dir = temp_dir();
    let path = dir.path().join("two-link-types.pcapng");
    std::fs::write(&path, &bytes).unwrap();
    let out = run_limited(&path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    // libpcap refuses such a file outright or partway; either way one line, never a crash.
    assert!(matches!(out.status.code(), Some(0 | 1 | 3)), "{stderr}");
    assert!(stderr.lines().count() <= 1, "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// Frames whose headers lie, loop or nest without end: skipped, the rest analysed.

#[test]
fn sixty_four_thousand_vlan_tags_are_skipped() {
    let syn = syn_frame();
    let mut frame = syn[..12].to_vec();
    for _ in 0..16_000 {
        frame.extend_from_slice(&[0x81, 0x00, 0x00, 0x01]);
    }
    frame.extend_from_slice(&syn[12..]);
    assert!(frame.len() > 64_000);
    assert_frame_skipped("vlan-64k.pcap", frame);
}

#[test]
fn an_mpls_stack_without_a_bottom_is_skipped() {
    let syn = syn_frame();
    let mut frame = syn[..12].to_vec();
    frame.extend_from_slice(&[0x88, 0x47]);
    for _ in 0..2000 {
        frame.extend_from_slice(&[0x00, 0x01, 0x00, 0x40]);
    }
    assert_frame_skipped("mpls-endless.pcap", frame);
}

/// IPv4 with `next` as its protocol, around `inner`.
fn ipv4_around(protocol: u8, inner: &[u8]) -> Vec<u8> {
    ipv4_packet([192, 0, 2, 1], [198, 51, 100, 1], protocol, inner)
}

#[test]
fn ip_in_ip_nested_a_thousand_deep_is_skipped() {
    let syn = syn_frame();
    let mut packet = syn[14..].to_vec();
    for _ in 0..1000 {
        packet = ipv4_around(4, &packet);
    }
    assert_frame_skipped("ip-in-ip-1000.pcap", ethernet(&packet));
}

#[test]
fn gre_nested_in_gre_without_end_is_skipped() {
    let syn = syn_frame();
    let mut packet = syn[14..].to_vec();
    for _ in 0..200 {
        let mut gre = vec![0, 0, 0x08, 0x00];
        gre.extend_from_slice(&packet);
        packet = ipv4_around(47, &gre);
    }
    assert_frame_skipped("gre-200.pcap", ethernet(&packet));
}

/// An IPv6 packet from an Ethernet frame with `ext` extension-header bytes inserted after the
/// fixed header; `first` is the first extension's type.
fn ipv6_with_extensions(first: u8, ext: &[u8]) -> Vec<u8> {
    let mut c = Conversation::new("[2001:db8::10]:4444", "[2001:db8::20]:80");
    c.syn();
    let frame = c.ethernet_frames().remove(0).1;
    let mut ip = frame[14..].to_vec();
    let payload_len = u16::from_be_bytes([ip[4], ip[5]]) as usize + ext.len();
    ip[4..6].copy_from_slice(&(payload_len as u16).to_be_bytes());
    ip[6] = first;
    let mut out = ip[..40].to_vec();
    out.extend_from_slice(ext);
    out.extend_from_slice(&ip[40..]);
    ethernet_with_type(0x86dd, &out)
}

#[test]
fn an_ipv6_extension_header_chain_that_loops_is_skipped() {
    // 400 hop-by-hop headers, each naming another: no TCP is ever reached in bounds.
    let mut ext = Vec::new();
    for _ in 0..400 {
        ext.extend_from_slice(&[0, 0, 1, 4, 0, 0, 0, 0]);
    }
    assert_frame_skipped("ipv6-ext-loop.pcap", ipv6_with_extensions(0, &ext));
}

#[test]
fn an_ipv6_extension_header_longer_than_the_packet_is_skipped() {
    // A routing header claiming 2 KB in a packet of a hundred bytes.
    let ext = [6u8, 255, 0, 0, 0, 0, 0, 0];
    assert_frame_skipped("ipv6-ext-too-long.pcap", ipv6_with_extensions(43, &ext));
}

#[test]
fn tcp_options_with_zero_or_overlong_lengths_do_not_hang() {
    for (name, option) in [
        ("tcp-option-len-0.pcap", [2u8, 0, 0, 0]),
        ("tcp-option-len-255.pcap", [2u8, 255, 0, 0]),
    ] {
        let mut frame = syn_frame();
        // Grow the TCP header to 24 bytes with the option, lengths fixed up.
        frame[46] = 6 << 4;
        frame.extend_from_slice(&option);
        let total = (frame.len() - 14) as u16;
        frame[16..18].copy_from_slice(&total.to_be_bytes());
        let bytes = good_pcap_with(vec![frame_record(&frame)]);
        let report = check(Case { name, bytes }, Ends::Clean);
        assert_flow(&report);
        assert_eq!(
            report["summary"]["tcp_flows"], 2,
            "{name}: the SYN is still a flow"
        );
    }
}

#[test]
fn an_ethernet_frame_shorter_than_its_header_is_truncated() {
    assert_frame_skipped("short-ethernet.pcap", vec![0x00; 10]);
}

#[test]
fn a_frame_of_one_byte_on_every_link_type_is_skipped() {
    for (name, linktype) in [
        ("one-byte-null.pcap", 0u32),
        ("one-byte-raw.pcap", 101),
        ("one-byte-sll.pcap", 113),
        ("one-byte-sll2.pcap", 276),
        ("one-byte-ppp.pcap", 9),
    ] {
        let bytes = pcap(0xa1b2_c3d4, 65535, linktype, &[frame_record(&[0x45])]);
        let report = check(Case { name, bytes }, Ends::Clean);
        assert_eq!(report["inputs"][0]["packets"], 1, "{name}");
        assert_eq!(report["summary"]["tcp_flows"], 0, "{name}");
    }
}

#[test]
fn a_file_of_random_bytes_after_a_valid_header_never_crashes() {
    // A deterministic pseudo-random body: records with garbage lengths and data.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut body = Vec::new();
    for _ in 0..50_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        body.push((state >> 24) as u8);
    }
    let mut bytes = pcap(0xa1b2_c3d4, 65535, 1, &good_records());
    bytes.extend_from_slice(&body);
    let report = check(
        Case {
            name: "random-tail.pcap",
            bytes,
        },
        Ends::CutOff,
    );
    assert_flow(&report);
}
