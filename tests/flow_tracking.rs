//! Flow tracking over time and across files: port reuse and Zeek's 5 s attempt timer,
//! sequence-number wraparound, snap-length-cut and padded frames, pcapng with nanosecond
//! timestamps, several input files, BPF filters and frame numbers, handshake RTT,
//! retransmissions, and the idle timeout.
//!
//! Unless a test says otherwise the client is 192.0.2.10:51514 (TTL 64) and the server
//! 198.51.100.7:443 (TTL 57), with ISNs 1000 and 5000, and segments 10 ms apart.
// Tests may unwrap: clippy.toml exempts #[test] functions, and this covers the helpers below.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::*;
use serde_json::{Value, json};

const CLIENT: &str = "192.0.2.10:51514";
const SERVER: &str = "198.51.100.7:443";
const SECOND: i64 = 1_000_000_000;
const MS: i64 = 1_000_000;

fn conversation() -> Conversation {
    Conversation::new(CLIENT, SERVER)
}

fn write(dir: &Path, name: &str, segments: &[(i64, Tcp)]) -> std::path::PathBuf {
    let path = dir.join(name);
    write_pcap(&path, DLT_EN10MB, &ethernet_frames_of(segments));
    path
}

fn report_of(segments: &[(i64, Tcp)]) -> Value {
    let dir = temp_dir();
    let path = write(dir.path(), "trace.pcap", segments);
    analyze_json(&[&path])
}

fn report_with(extra: &[&str], segments: &[(i64, Tcp)]) -> Value {
    let dir = temp_dir();
    let path = write(dir.path(), "trace.pcap", segments);
    analyze_json_with(extra, &[&path])
}

/// The report's flows by id (the JSON streams flows as they are judged: those with resets
/// once the input has ended).
fn flows(report: &Value) -> Vec<Value> {
    let mut flows = report["flows"].as_array().unwrap().clone();
    flows.sort_by_key(|flow| flow["id"].as_u64());
    flows
}

fn assert_state(flow: &Value, conn_state: &str, history: &str) {
    assert_eq!(flow["conn_state"], conn_state, "conn_state of {flow:#}");
    assert_eq!(flow["history"], history, "history of {flow:#}");
}

fn per_side(client: u64, server: u64) -> Value {
    json!({"client": client, "server": server})
}

/// Sets the conversation's clock to `gap_ns` after its last segment.
fn after_last(c: &mut Conversation, gap_ns: i64) {
    c.now_ns = c.segments.last().unwrap().0 + gap_ns;
}

/// A second conversation on the same 4-tuple with new ISNs, starting `gap_ns` after `first`.
fn reuse_of(first: &Conversation, gap_ns: i64) -> Conversation {
    let mut c = conversation().with_isns(700_000, 900_000);
    c.now_ns = first.segments.last().unwrap().0 + gap_ns;
    c
}

// ---------------------------------------------------------------------------------------------
// Port reuse and the attempt timer

#[test]
fn new_syn_after_a_fin_close_starts_a_second_flow() {
    let mut first = conversation();
    first.handshake().exchange_and_close();
    // 1 s later: within the 5 s close delay, so only reuse can separate the two.
    let mut second = reuse_of(&first, SECOND);
    second.handshake().exchange_and_close();
    let flows = flows(&report_of(&merge_segments(&[&first, &second])));
    assert_eq!(flows.len(), 2, "{flows:#?}");
    for flow in &flows {
        assert_state(flow, "SF", "ShADadFf");
        assert_eq!(flow["client"]["port"], 51514);
        assert_eq!(flow["packets"], per_side(6, 4));
        assert_eq!(flow["payload_bytes"], per_side(100, 200));
    }
    assert!(flows[0]["first_ts"].as_str() < flows[1]["first_ts"].as_str());
}

#[test]
fn new_syn_after_a_rst_starts_a_second_flow() {
    let mut first = conversation();
    first.handshake().client_data(100).client_rst();
    let mut second = reuse_of(&first, SECOND);
    second.handshake().exchange_and_close();
    let flows = flows(&report_of(&merge_segments(&[&first, &second])));
    assert_eq!(flows.len(), 2, "{flows:#?}");
    assert_state(&flows[0], "RSTO", "ShADR");
    assert_eq!(flows[0]["resets"].as_array().unwrap().len(), 1);
    assert_eq!(flows[0]["resets"][0]["frame"], 5);
    assert_state(&flows[1], "SF", "ShADadFf");
    assert!(flows[1]["resets"].as_array().unwrap().is_empty());
}

#[test]
fn same_isn_syn_after_a_rst_is_still_a_new_flow() {
    // Once either side has closed (FIN or RST), any SYN starts a new connection: SYN, RST,
    // SYN retransmission gives "Sr" (REJ) and then "S" (S0).
    let mut c = conversation();
    c.syn();
    c.server_next = 0;
    c.server_rst();
    c.wait(SECOND).resend(0);
    let flows = flows(&report_of(&c.segments));
    assert_eq!(flows.len(), 2, "{flows:#?}");
    assert_state(&flows[0], "REJ", "Sr");
    assert_state(&flows[1], "S0", "S");
    assert_eq!(flows[1]["packets"], per_side(1, 0));
}

#[test]
fn syn_retransmitted_with_the_same_isn_within_5_s_is_one_flow() {
    let mut c = conversation();
    c.syn();
    after_last(&mut c, SECOND);
    c.resend(0);
    after_last(&mut c, 2 * SECOND);
    c.resend(0);
    after_last(&mut c, 1_900 * MS); // 4.9 s after the first SYN
    c.resend(0);
    let flows = flows(&report_of(&c.segments));
    assert_eq!(flows.len(), 1, "{flows:#?}");
    assert_state(&flows[0], "S0", "S");
    assert_eq!(flows[0]["packets"], per_side(4, 0));
    assert_eq!(flows[0]["close"], "none");
}

#[test]
fn syn_retransmitted_5_s_after_the_first_starts_a_new_flow() {
    // Zeek's attempt timer removes an unanswered connection 5 s after its first SYN; timers
    // due at or before a packet's time fire before the packet is processed.
    for gap in [5 * SECOND, 7 * SECOND] {
        let mut c = conversation();
        c.syn();
        after_last(&mut c, 3 * SECOND);
        c.resend(0);
        c.now_ns = c.segments[0].0 + gap;
        c.resend(0);
        let flows = flows(&report_of(&c.segments));
        assert_eq!(flows.len(), 2, "gap {gap} ns: {flows:#?}");
        assert_state(&flows[0], "S0", "S");
        assert_eq!(flows[0]["packets"], per_side(2, 0));
        assert_state(&flows[1], "S0", "S");
        assert_eq!(flows[1]["packets"], per_side(1, 0));
    }
}

#[test]
fn syn_with_a_new_isn_on_an_open_attempt_starts_a_new_flow() {
    let mut c = conversation();
    c.syn();
    c.client_next = 2000;
    c.wait(SECOND).syn();
    let flows = flows(&report_of(&c.segments));
    assert_eq!(flows.len(), 2, "{flows:#?}");
    assert_state(&flows[0], "S0", "S");
    assert_state(&flows[1], "S0", "S");
}

#[test]
fn simultaneous_open_syn_with_another_isn_is_its_own_flow() {
    // A pure SYN from the responder with a new ISN on an open connection is a reuse (IsReuse),
    // and a pure SYN never flips, so the second flow's client is the old server.
    let mut c = conversation();
    c.syn().send(false, SYN, 0);
    let flows = flows(&report_of(&c.segments));
    assert_eq!(flows.len(), 2, "{flows:#?}");
    assert_state(&flows[0], "S0", "S");
    assert_eq!(
        flows[0]["client"],
        json!({"ip": "192.0.2.10", "port": 51514})
    );
    assert_state(&flows[1], "S0", "S");
    assert_eq!(
        flows[1]["client"],
        json!({"ip": "198.51.100.7", "port": 443})
    );
}

#[test]
fn one_direction_capture_is_cut_by_the_attempt_timer() {
    // Only the client's packets were captured. Its ACK and data do not move it out of
    // SYN_SENT, so the attempt timer removes the connection 5 s after the SYN (S0 "SAD"); what
    // follows is a new partial connection that only the client closes (SH "DF").
    let mut c = conversation();
    c.syn().ack().client_data(100);
    after_last(&mut c, 6 * SECOND);
    c.client_data(100).send(true, FIN | ACK, 0);
    let flows = flows(&report_of(&c.segments));
    assert_eq!(flows.len(), 2, "{flows:#?}");
    assert_state(&flows[0], "S0", "SAD");
    assert_eq!(flows[0]["close"], "none");
    assert_eq!(flows[0]["packets"], per_side(3, 0));
    assert_state(&flows[1], "SH", "DF");
    assert_eq!(flows[1]["close"], "fin");
    assert_eq!(flows[1]["client"]["port"], 51514);
    assert_eq!(flows[1]["packets"], per_side(2, 0));
}

#[test]
fn stragglers_join_a_closed_flow_for_5_s_then_start_a_new_one() {
    // Both sides closed: Zeek removes the connection 5 s after its last_time (the second FIN).
    // A RST 3 s after the final ACK still joins it; one 6 s after starts a new connection
    // (a lone RST from 51514, not a likely server port: "R", OTH).
    let mut joined = conversation();
    joined.handshake().exchange_and_close();
    after_last(&mut joined, 3 * SECOND);
    joined.client_rst();
    let flows_joined = flows(&report_of(&joined.segments));
    assert_eq!(flows_joined.len(), 1, "{flows_joined:#?}");
    assert_state(&flows_joined[0], "SF", "ShADadFfR");
    assert_eq!(flows_joined[0]["resets"][0]["frame"], 11);

    let mut split = conversation();
    split.handshake().exchange_and_close();
    after_last(&mut split, 6 * SECOND);
    split.client_rst();
    let flows_split = flows(&report_of(&split.segments));
    assert_eq!(flows_split.len(), 2, "{flows_split:#?}");
    assert_state(&flows_split[0], "SF", "ShADadFf");
    assert!(flows_split[0]["resets"].as_array().unwrap().is_empty());
    assert_state(&flows_split[1], "OTH", "R");
    assert_eq!(flows_split[1]["client"]["port"], 51514);
    assert_eq!(flows_split[1]["resets"][0]["frame"], 11);
}

// ---------------------------------------------------------------------------------------------
// Sequence numbers that wrap past 2^32

#[test]
fn sequence_numbers_wrapping_through_zero() {
    // Both sides' data crosses 0: the client's 100 bytes from 2^32-49, the server's 200 from
    // 2^32-99.
    let mut c = conversation().with_isns(u32::MAX - 49, u32::MAX - 99);
    c.handshake().exchange_and_close();
    let flow = &flows(&report_of(&c.segments))[0];
    assert_state(flow, "SF", "ShADadFf");
    assert_eq!(flow["payload_bytes"], per_side(100, 200));
    assert_eq!(flow["retransmissions"], per_side(0, 0));
}

#[test]
fn sequence_numbers_wrapping_over_several_segments_then_a_reset() {
    let mut c = conversation().with_isns(u32::MAX - 149, u32::MAX - 99);
    c.handshake();
    for _ in 0..3 {
        c.client_data(100).server_ack();
    }
    c.server_data(200).client_rst();
    let flow = &flows(&report_of(&c.segments))[0];
    assert_state(flow, "RSTO", "ShADadR");
    assert_eq!(flow["payload_bytes"], per_side(300, 200));
    assert_eq!(flow["retransmissions"], per_side(0, 0));
    let reset = &flow["resets"][0];
    // Raw wire numbers: 2^32-149 + 1 + 300 wraps to 151; 2^32-99 + 1 + 200 wraps to 101.
    assert_eq!(reset["seq"], 151);
    assert_eq!(reset["ack"], 101);
    assert_eq!(reset["flags"], "RA");
}

// ---------------------------------------------------------------------------------------------
// Snap length and padding

fn snapped_report(segments: &[(i64, Tcp)], snaplen: usize) -> Value {
    let dir = temp_dir();
    let path = dir.path().join("snapped.pcap");
    write_pcap_cut(&path, DLT_EN10MB, &ethernet_frames_of(segments), snaplen);
    analyze_json(&[&path])
}

#[test]
fn snaplen_that_keeps_the_tcp_header_still_gives_sf() {
    let mut c = conversation();
    c.handshake().exchange_and_close();
    // 54 = Ethernet 14 + IPv4 20 + TCP 20: every payload byte is cut; 60 keeps 6 of them.
    for snaplen in [54, 60] {
        let report = snapped_report(&c.segments, snaplen);
        let input = &report["inputs"][0];
        assert_eq!(
            input["truncated_packets"], 0,
            "snaplen {snaplen}: {input:#}"
        );
        assert_eq!(input["tcp_packets"], 10, "snaplen {snaplen}: {input:#}");
        let flows = flows(&report);
        assert_eq!(flows.len(), 1, "snaplen {snaplen}");
        assert_state(&flows[0], "SF", "ShADadFf");
        // SEG.LEN comes from the IP header, not from the bytes captured.
        assert_eq!(flows[0]["payload_bytes"], per_side(100, 200));
        assert_eq!(flows[0]["retransmissions"], per_side(0, 0));
    }
}

#[test]
fn snaplen_that_cuts_the_tcp_or_ip_header_counts_truncated_packets() {
    let mut c = conversation();
    c.handshake().exchange_and_close();
    // 40 keeps 6 bytes of the TCP header; 24 keeps 10 bytes of the IPv4 header.
    for snaplen in [40, 24] {
        let report = snapped_report(&c.segments, snaplen);
        let input = &report["inputs"][0];
        assert_eq!(input["packets"], 10, "snaplen {snaplen}: {input:#}");
        assert_eq!(
            input["truncated_packets"], 10,
            "snaplen {snaplen}: {input:#}"
        );
        assert_eq!(input["tcp_packets"], 0, "snaplen {snaplen}: {input:#}");
        assert_eq!(
            input["undecodable_packets"], 0,
            "snaplen {snaplen}: {input:#}"
        );
        assert!(flows(&report).is_empty(), "snaplen {snaplen}");
        assert_eq!(report["summary"]["tcp_flows"], 0);
    }
}

#[test]
fn snap_cut_reset_payload_keeps_its_length_and_is_unverified() {
    // A RST carrying 30 bytes of diagnostic text (RFC 9293 §3.5.3), cut at 60 bytes.
    let mut c = conversation();
    c.handshake().client_data(100).send(false, RST | ACK, 30);
    let report = snapped_report(&c.segments, 60);
    let flow = &flows(&report)[0];
    // Zeek quirk: a RST's payload takes no sequence space, so its one_past does not advance
    // last_seq, and a segment with payload that does not advance it counts as a
    // retransmission: 'r', then 't'.
    assert_state(flow, "RSTR", "ShADrt");
    assert_eq!(flow["retransmissions"], per_side(0, 1));
    assert_eq!(flow["payload_bytes"], per_side(100, 0));
    let reset = &flow["resets"][0];
    assert_eq!(reset["frame"], 5);
    assert_eq!(reset["len"], 30);
    assert_eq!(reset["checksum"], "unverified");
    assert_eq!(reset["seq"], 5001);
}

/// Ethernet frames whose SYNs carry MSS, SACK-permitted, timestamps and window scale (20
/// bytes of options) and whose other segments carry timestamps (12 bytes), as Linux sends.
fn frames_with_tcp_options(c: &Conversation) -> Vec<(i64, Vec<u8>)> {
    use etherparse::TcpOptionElement::*;
    c.segments
        .iter()
        .enumerate()
        .map(|(i, (ts, tcp))| {
            let tsval = 1000 + i as u32;
            let options = if tcp.flags & SYN != 0 {
                vec![
                    MaximumSegmentSize(1460),
                    SelectiveAcknowledgementPermitted,
                    Timestamp(tsval, 0),
                    Noop,
                    WindowScale(7),
                ]
            } else {
                vec![Noop, Noop, Timestamp(tsval, 999)]
            };
            (*ts, ethernet(&with_tcp_options(&tcp.ip_packet(), &options)))
        })
        .collect()
}

#[test]
fn tcp_options_are_not_payload() {
    let mut c = conversation();
    c.handshake().exchange_and_close();
    let frames = frames_with_tcp_options(&c);
    assert_eq!(frames[0].1.len(), 14 + 20 + 40);
    assert_eq!(frames[3].1.len(), 14 + 20 + 32 + 100);
    let dir = temp_dir();
    let flows = flows_of(dir.path(), "options.pcap", &frames, DLT_EN10MB);
    assert_state(&flows[0], "SF", "ShADadFf");
    assert_eq!(flows[0]["payload_bytes"], per_side(100, 200));
    assert_eq!(flows[0]["retransmissions"], per_side(0, 0));
    assert_eq!(flows[0]["keepalives"], per_side(0, 0));
}

#[test]
fn snaplen_that_keeps_tcp_options_but_cuts_payload_still_gives_sf() {
    let mut c = conversation();
    c.handshake().exchange_and_close();
    let dir = temp_dir();
    let path = dir.path().join("snapped.pcap");
    // 74 keeps the 40-byte SYN header and the 32-byte headers of the rest, plus 8 bytes.
    write_pcap_cut(&path, DLT_EN10MB, &frames_with_tcp_options(&c), 74);
    let report = analyze_json(&[&path]);
    assert_eq!(report["inputs"][0]["truncated_packets"], 0);
    let flows = flows(&report);
    assert_state(&flows[0], "SF", "ShADadFf");
    assert_eq!(flows[0]["payload_bytes"], per_side(100, 200));
}

/// Pads each frame to the 60-byte Ethernet minimum with junk, as some NICs do.
fn padded(frames: Vec<(i64, Vec<u8>)>) -> Vec<(i64, Vec<u8>)> {
    frames
        .into_iter()
        .map(|(ts, mut frame)| {
            if frame.len() < 60 {
                frame.resize(60, 0x5a);
            }
            (ts, frame)
        })
        .collect()
}

#[test]
fn ethernet_padding_is_not_payload() {
    let mut c = conversation();
    c.handshake()
        .client_data(1)
        .server_ack()
        .server_data(2)
        .ack()
        .client_fin()
        .server_fin()
        .ack();
    let frames = padded(c.ethernet_frames());
    assert!(frames.iter().all(|(_, f)| f.len() == 60));
    let dir = temp_dir();
    let flows = flows_of(dir.path(), "padded.pcap", &frames, DLT_EN10MB);
    assert_eq!(flows.len(), 1);
    // Pure ACKs stay 'A'/'a' (padding read as payload would make them 'D'/'d').
    assert_state(&flows[0], "SF", "ShADadFf");
    assert_eq!(flows[0]["payload_bytes"], per_side(1, 2));
    assert_eq!(flows[0]["retransmissions"], per_side(0, 0));
}

#[test]
fn padded_reset_has_no_payload_and_a_valid_checksum() {
    let mut c = conversation();
    c.handshake().server_rst();
    let dir = temp_dir();
    let flows = flows_of(
        dir.path(),
        "padded.pcap",
        &padded(c.ethernet_frames()),
        DLT_EN10MB,
    );
    assert_state(&flows[0], "RSTR", "ShAr");
    let reset = &flows[0]["resets"][0];
    assert_eq!(reset["len"], 0);
    assert_eq!(reset["checksum"], "valid");
}

// ---------------------------------------------------------------------------------------------
// Checksum offload

#[test]
fn offloaded_checksums_on_the_capturing_host_are_not_bad() {
    // Captured on the client with TX checksum offload: every client segment has a zero TCP
    // checksum field. Those segments are fine on the wire, so nothing is dropped, and the
    // client's reset is "offloaded", not "bad".
    let mut c = conversation();
    c.handshake().exchange_and_close();
    c.wait(10 * MS).client_rst();
    let frames: Vec<(i64, Vec<u8>)> = c
        .segments
        .iter()
        .map(|(ts, tcp)| {
            let mut frame = ethernet(&tcp.ip_packet());
            if tcp.src == c.client {
                frame[50..52].copy_from_slice(&[0, 0]);
            }
            (*ts, frame)
        })
        .collect();
    let dir = temp_dir();
    let flows = flows_of(dir.path(), "offload.pcap", &frames, DLT_EN10MB);
    assert_state(&flows[0], "SF", "ShADadFfR");
    assert_eq!(flows[0]["packets"], per_side(7, 4));
    assert_eq!(flows[0]["payload_bytes"], per_side(100, 200));
    assert_eq!(flows[0]["resets"][0]["checksum"], "offloaded");
    assert_eq!(flows[0]["resets"][0]["from"], "client");
}

// ---------------------------------------------------------------------------------------------
// pcapng

/// 2023-11-14T22:13:20.123456789Z.
const NS_START: i64 = 1_700_000_000_123_456_789;

fn reset_conversation_at(start_ns: i64) -> Conversation {
    let mut c = conversation();
    c.now_ns = start_ns;
    c.handshake().client_data(100).server_rst();
    c
}

#[test]
fn pcapng_with_nanosecond_timestamps() {
    let c = reset_conversation_at(NS_START);
    let dir = temp_dir();
    let path = dir.path().join("trace.pcapng");
    write_pcapng(&path, 1, Some(9), &c.ethernet_frames());
    let report = analyze_json(&[&path]);
    let input = &report["inputs"][0];
    assert_eq!(input["link_type"], "EN10MB");
    assert_eq!(input["packets"], 5);
    assert_eq!(input["first_ts"], "2023-11-14T22:13:20.123456789Z");
    assert_eq!(input["last_ts"], "2023-11-14T22:13:20.163456789Z");
    let flow = &flows(&report)[0];
    assert_state(flow, "RSTR", "ShADr");
    assert_eq!(flow["first_ts"], "2023-11-14T22:13:20.123456789Z");
    assert_eq!(flow["last_ts"], "2023-11-14T22:13:20.163456789Z");
    assert_eq!(flow["duration_s"], 0.04);
    assert_eq!(flow["resets"][0]["ts"], "2023-11-14T22:13:20.163456789Z");
    assert_eq!(flow["resets"][0]["frame"], 5);
}

#[test]
fn pcapng_with_default_microsecond_timestamps() {
    let c = reset_conversation_at(NS_START);
    let dir = temp_dir();
    let path = dir.path().join("trace.pcapng");
    write_pcapng(&path, 1, None, &c.ethernet_frames());
    let report = analyze_json(&[&path]);
    assert_eq!(
        report["inputs"][0]["first_ts"],
        "2023-11-14T22:13:20.123456Z"
    );
    let flow = &flows(&report)[0];
    assert_state(flow, "RSTR", "ShADr");
    assert_eq!(flow["resets"][0]["ts"], "2023-11-14T22:13:20.163456Z");
}

#[test]
fn pcapng_and_pcap_give_the_same_flow() {
    let mut c = conversation();
    c.handshake().exchange_and_close();
    let dir = temp_dir();
    let path = dir.path().join("trace.pcapng");
    write_pcapng(&path, 1, Some(9), &c.ethernet_frames());
    let from_pcapng = flows(&analyze_json(&[&path]));
    let from_pcap = flows_of(dir.path(), "trace.pcap", &c.ethernet_frames(), DLT_EN10MB);
    assert_eq!(from_pcapng, from_pcap);
    assert_state(&from_pcapng[0], "SF", "ShADadFf");
}

// ---------------------------------------------------------------------------------------------
// Several inputs in one run

/// Linux cooked v1 around an IPv4 packet.
fn sll(ip: &[u8]) -> Vec<u8> {
    let mut frame = vec![0, 0, 0, 1, 0, 6];
    frame.extend_from_slice(&MAC_A);
    frame.extend_from_slice(&[0, 0, 0x08, 0x00]);
    frame.extend_from_slice(ip);
    frame
}

#[test]
fn two_inputs_number_frames_from_1_each_and_tag_resets_with_their_input() {
    let mut a = conversation();
    a.syn();
    a.server_next = 0;
    a.server_rst();
    let mut b = Conversation::new("192.0.2.10:51515", SERVER);
    b.now_ns = a.now_ns + 10 * SECOND;
    b.handshake().client_data(100).client_rst();
    let dir = temp_dir();
    let first = write(dir.path(), "first.pcap", &a.segments);
    let second = dir.path().join("second.pcap");
    let sll_frames: Vec<(i64, Vec<u8>)> = b
        .ip_packets()
        .into_iter()
        .map(|(ts, ip)| (ts, sll(&ip)))
        .collect();
    write_pcap(&second, DLT_LINUX_SLL, &sll_frames);
    let report = analyze_json(&[&first, &second]);

    let inputs = report["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 2);
    assert!(inputs[0]["path"].as_str().unwrap().ends_with("first.pcap"));
    assert_eq!(inputs[0]["link_type"], "EN10MB");
    assert_eq!(inputs[0]["packets"], 2);
    assert!(inputs[1]["path"].as_str().unwrap().ends_with("second.pcap"));
    assert_eq!(inputs[1]["link_type"], "LINUX_SLL");
    assert_eq!(inputs[1]["packets"], 5);

    let flows = flows(&report);
    assert_eq!(flows.len(), 2, "{flows:#?}");
    assert_state(&flows[0], "REJ", "Sr");
    assert_eq!(flows[0]["resets"][0]["input"], 0);
    assert_eq!(flows[0]["resets"][0]["frame"], 2);
    assert_eq!(flows[0]["resets"][0]["from"], "server");
    assert_state(&flows[1], "RSTO", "ShADR");
    assert_eq!(flows[1]["client"]["port"], 51515);
    assert_eq!(flows[1]["resets"][0]["input"], 1);
    assert_eq!(flows[1]["resets"][0]["frame"], 5);
    assert_eq!(flows[1]["resets"][0]["from"], "client");
    assert_eq!(report["summary"]["resets"], 2);
}

#[test]
fn a_flow_continues_from_one_input_into_the_next() {
    // A rotated capture: the connection starts in the first file and is reset in the second.
    let mut c = conversation();
    c.handshake()
        .client_data(100)
        .server_ack()
        .server_data(200)
        .server_rst();
    let (head, tail) = c.segments.split_at(5);
    let dir = temp_dir();
    let first = write(dir.path(), "rot0.pcap", head);
    let second = write(dir.path(), "rot1.pcap", tail);
    let report = analyze_json(&[&first, &second]);
    assert_eq!(report["inputs"][0]["packets"], 5);
    assert_eq!(report["inputs"][1]["packets"], 2);
    let flows = flows(&report);
    assert_eq!(flows.len(), 1, "{flows:#?}");
    assert_state(&flows[0], "RSTR", "ShADadr");
    assert_eq!(flows[0]["packets"], per_side(3, 4));
    let reset = &flows[0]["resets"][0];
    assert_eq!(reset["input"], 1);
    assert_eq!(reset["frame"], 2);
    assert_eq!(reset["from"], "server");
}

// ---------------------------------------------------------------------------------------------
// BPF filter and frame numbers

#[test]
fn filter_keeps_wireshark_frame_numbers() {
    // Frames: 1 80-SYN, 2 443-SYN, 3 80-SYNACK, 4 443-SYNACK, 5 80-ACK, 6 443-ACK,
    // 7 443 server RST, 8 80 client RST.
    let start = 1_700_000_000 * SECOND;
    let mut web = Conversation::new("192.0.2.10:51600", "198.51.100.7:80");
    web.now_ns = start;
    web.step_ns = 20 * MS;
    web.handshake(); // 0, 20, 40 ms
    web.wait(20 * MS).client_rst(); // 80 ms
    let mut tls = conversation();
    tls.now_ns = start + 10 * MS;
    tls.step_ns = 20 * MS;
    tls.handshake().server_rst(); // 10, 30, 50, 70 ms
    let segments = merge_segments(&[&web, &tls]);
    let ports: Vec<u16> = segments
        .iter()
        .map(|(_, s)| s.src.port().min(s.dst.port()))
        .collect();
    assert_eq!(ports, [80, 443, 80, 443, 80, 443, 443, 80]);

    let filtered = report_with(&["--filter", "tcp port 443"], &segments);
    let input = &filtered["inputs"][0];
    assert_eq!(input["packets"], 8, "{input:#}");
    assert_eq!(input["filtered_packets"], 4, "{input:#}");
    // Every frame is analysed; the filter chooses the flows listed.
    assert_eq!(input["tcp_packets"], 8, "{input:#}");
    let flows_443 = flows(&filtered);
    assert_eq!(flows_443.len(), 1, "{flows_443:#?}");
    assert_state(&flows_443[0], "RSTR", "ShAr");
    assert_eq!(flows_443[0]["server"]["port"], 443);
    assert_eq!(flows_443[0]["resets"][0]["frame"], 7);
    assert_eq!(flows_443[0]["resets"][0]["input"], 0);

    let unfiltered = flows(&report_of(&segments));
    assert_eq!(unfiltered.len(), 2);
    let by_port = |port: u16| {
        unfiltered
            .iter()
            .find(|f| f["server"]["port"] == port)
            .unwrap()
    };
    assert_eq!(by_port(443)["resets"][0]["frame"], 7);
    assert_eq!(by_port(80)["resets"][0]["frame"], 8);
    assert_state(by_port(80), "RSTO", "ShAR");
}

// ---------------------------------------------------------------------------------------------
// Handshake RTT and retransmissions

fn assert_close_to(value: &Value, expected: f64) {
    let actual = value
        .as_f64()
        .unwrap_or_else(|| panic!("not a number: {value}"));
    assert!(
        (actual - expected).abs() < 1e-6,
        "expected {expected}, got {actual}"
    );
}

#[test]
fn handshake_rtt_is_syn_to_ack() {
    let mut c = conversation();
    c.step_ns = 0;
    c.syn();
    c.wait(20 * MS).syn_ack();
    c.wait(3_400_000).ack();
    c.wait(MS).client_data(10);
    let flow = &flows(&report_of(&c.segments))[0];
    assert_close_to(&flow["handshake_rtt_ms"], 23.4);
}

#[test]
fn handshake_rtt_counts_from_the_last_syn_before_the_synack() {
    // The first SYN was lost; its retransmission 1 s later was answered. The RTT must not
    // include the retransmission timeout.
    let mut c = conversation();
    c.step_ns = 0;
    c.syn();
    c.wait(SECOND).resend(0);
    c.wait(20 * MS).syn_ack();
    c.wait(3_400_000).ack();
    let flow = &flows(&report_of(&c.segments))[0];
    assert_state(flow, "S1", "ShA");
    assert_close_to(&flow["handshake_rtt_ms"], 23.4);
}

#[test]
fn handshake_rtt_is_null_without_the_final_ack() {
    let mut c = conversation();
    c.syn().syn_ack();
    let flow = &flows(&report_of(&c.segments))[0];
    assert_eq!(flow["handshake_rtt_ms"], Value::Null);
}

#[test]
fn retransmissions_are_counted_per_side_and_scaled_in_history() {
    let mut c = conversation();
    c.handshake().client_data(100).resend_last();
    c.server_ack().server_data(200).resend_last().resend_last();
    c.ack().client_fin().server_fin().ack();
    let flow = &flows(&report_of(&c.segments))[0];
    // 'T'/'t' at the 1st retransmission of each side (then at the 10th, 100th...).
    assert_state(flow, "SF", "ShADTadtFf");
    assert_eq!(flow["retransmissions"], per_side(1, 2));
    assert_eq!(flow["packets"], per_side(7, 6));
    assert_eq!(flow["payload_bytes"], per_side(100, 200));
}

#[test]
fn ten_retransmissions_add_a_second_letter() {
    let mut c = conversation();
    c.handshake().client_data(100);
    for _ in 0..10 {
        c.resend_last();
    }
    c.server_ack();
    let flow = &flows(&report_of(&c.segments))[0];
    assert_state(flow, "S1", "ShADTTa");
    assert_eq!(flow["retransmissions"], per_side(10, 0));
}

// ---------------------------------------------------------------------------------------------
// Idle timeout

/// Handshake and one exchange, then `gap_ns` of silence, then the server talks first and the
/// connection closes.
fn idle_conversation(gap_ns: i64) -> Conversation {
    let mut c = conversation();
    c.handshake()
        .client_data(100)
        .server_ack()
        .server_data(200)
        .ack();
    after_last(&mut c, gap_ns);
    c.server_data(300).ack().client_fin().server_fin().ack();
    c
}

#[test]
fn idle_longer_than_the_timeout_splits_the_flow() {
    let c = idle_conversation(61 * SECOND);
    let flows = flows(&report_with(&["--idle-timeout", "60"], &c.segments));
    assert_eq!(flows.len(), 2, "{flows:#?}");
    assert_state(&flows[0], "S1", "ShADad");
    assert_eq!(flows[0]["close"], "none");
    assert_eq!(flows[0]["payload_bytes"], per_side(100, 200));
    assert_eq!(flows[0]["packets"], per_side(4, 3));
    // The rest is a new partial connection. Its first packet comes from 443, a likely server
    // port, so Zeek flips it and 51514 stays the client.
    assert_state(&flows[1], "SF", "^dAFf");
    assert_eq!(flows[1]["close"], "fin");
    assert_eq!(flows[1]["client"]["port"], 51514);
    assert_eq!(flows[1]["server"]["port"], 443);
    assert_eq!(flows[1]["payload_bytes"], per_side(0, 300));
    assert_eq!(flows[1]["packets"], per_side(3, 2));
}

#[test]
fn idle_exactly_the_timeout_splits_and_just_under_does_not() {
    // Zeek's inactivity check is inclusive: now >= last_time + timeout.
    let exact = idle_conversation(60 * SECOND);
    let flows_exact = flows(&report_with(&["--idle-timeout", "60"], &exact.segments));
    assert_eq!(flows_exact.len(), 2, "{flows_exact:#?}");

    let under = idle_conversation(60 * SECOND - MS);
    let flows_under = flows(&report_with(&["--idle-timeout", "60"], &under.segments));
    assert_eq!(flows_under.len(), 1, "{flows_under:#?}");
    assert_state(&flows_under[0], "SF", "ShADadFf");
}

#[test]
fn the_default_idle_timeout_keeps_a_61_s_silence_in_one_flow() {
    let c = idle_conversation(61 * SECOND);
    let flows = flows(&report_of(&c.segments));
    assert_eq!(flows.len(), 1, "{flows:#?}");
    assert_state(&flows[0], "SF", "ShADadFf");
    assert_eq!(flows[0]["payload_bytes"], per_side(100, 500));
}
