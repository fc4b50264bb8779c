//! One test per Zeek `conn_state` that packets can produce, plus Zeek's orientation (flip) rules.
//!
//! Expected values come from Zeek's TCP analyzer rules (summarised in
//! notes/zeek-tcp-semantics.md): the endpoint state machine, `update_history`, `conn_state`,
//! `WantConnection` and the SYN/SYN-ACK reversal. Upper-case history letters are the
//! originator's, lower-case the responder's; `^` marks a flip of roles.
//!
//! Unless a test says otherwise the client is 192.0.2.10:51514 (TTL 64, IP IDs 101, 102, ...)
//! and the server 198.51.100.7:443 (TTL 57, IP IDs 9001, 9002, ...), with ISNs 1000 and 5000.
// Tests may unwrap: clippy.toml exempts #[test] functions, and this covers the helpers below.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{Value, json};

const CLIENT: &str = "192.0.2.10:51514";
const SERVER: &str = "198.51.100.7:443";

fn conversation() -> Conversation {
    Conversation::new(CLIENT, SERVER)
}

/// Writes the segments as an Ethernet pcap and returns the whole report.
fn report_of(segments: &[(i64, Tcp)]) -> Value {
    let dir = temp_dir();
    let path = dir.path().join("trace.pcap");
    write_pcap(&path, DLT_EN10MB, &ethernet_frames_of(segments));
    analyze_json(&[&path])
}

/// The report's only flow.
fn only_flow(report: &Value) -> Value {
    let flows = report["flows"].as_array().unwrap();
    assert_eq!(flows.len(), 1, "expected exactly one flow: {flows:#?}");
    flows[0].clone()
}

fn flow_of(c: &Conversation) -> Value {
    only_flow(&report_of(&c.segments))
}

fn assert_state(flow: &Value, conn_state: &str, history: &str, close: &str) {
    assert_eq!(flow["conn_state"], conn_state, "conn_state of {flow:#}");
    assert_eq!(flow["history"], history, "history of {flow:#}");
    assert_eq!(flow["close"], close, "close of {flow:#}");
}

fn assert_endpoints(flow: &Value, client: &str, server: &str) {
    let client: std::net::SocketAddr = client.parse().unwrap();
    let server: std::net::SocketAddr = server.parse().unwrap();
    assert_eq!(
        flow["client"],
        json!({"ip": client.ip().to_string(), "port": client.port()}),
        "client of {flow:#}"
    );
    assert_eq!(
        flow["server"],
        json!({"ip": server.ip().to_string(), "port": server.port()}),
        "server of {flow:#}"
    );
}

fn assert_packets(flow: &Value, client: u64, server: u64) {
    assert_eq!(
        flow["packets"],
        json!({"client": client, "server": server}),
        "packets of {flow:#}"
    );
}

fn assert_payload(flow: &Value, client: u64, server: u64) {
    assert_eq!(
        flow["payload_bytes"],
        json!({"client": client, "server": server}),
        "payload_bytes of {flow:#}"
    );
}

fn resets(flow: &Value) -> &Vec<Value> {
    flow["resets"].as_array().unwrap()
}

/// The parts of a reset entry that come straight from the packet.
struct ExpectedReset {
    frame: u64,
    from: &'static str,
    src: &'static str,
    dst: &'static str,
    flags: &'static str,
    seq: u32,
    ack: Option<u32>,
    ttl: u8,
    ip_id: Option<u16>,
}

fn assert_reset(reset: &Value, want: &ExpectedReset) {
    let endpoint = |addr: &str| {
        let addr: std::net::SocketAddr = addr.parse().unwrap();
        json!({"ip": addr.ip().to_string(), "port": addr.port()})
    };
    assert_eq!(reset["input"], 0, "input of {reset:#}");
    assert_eq!(reset["frame"], want.frame, "frame of {reset:#}");
    assert_eq!(reset["from"], want.from, "from of {reset:#}");
    assert_eq!(reset["src"], endpoint(want.src), "src of {reset:#}");
    assert_eq!(reset["dst"], endpoint(want.dst), "dst of {reset:#}");
    assert_eq!(reset["flags"], want.flags, "flags of {reset:#}");
    assert_eq!(reset["seq"], want.seq, "seq of {reset:#}");
    assert_eq!(reset["ack"], json!(want.ack), "ack of {reset:#}");
    assert_eq!(reset["ttl"], want.ttl, "ttl of {reset:#}");
    assert_eq!(reset["ip_id"], json!(want.ip_id), "ip_id of {reset:#}");
    assert_eq!(reset["len"], 0, "len of {reset:#}");
    assert_eq!(reset["checksum"], "valid", "checksum of {reset:#}");
}

// ---------------------------------------------------------------------------------------------
// S0, S1, SF

#[test]
fn s0_syn_retransmitted_within_the_attempt_time_and_never_answered() {
    let mut c = conversation();
    c.syn();
    c.wait(1_000_000_000).resend(0);
    c.wait(2_000_000_000).resend(0);
    let flow = flow_of(&c);
    assert_state(&flow, "S0", "S", "none");
    assert_endpoints(&flow, CLIENT, SERVER);
    assert_packets(&flow, 3, 0);
    assert_payload(&flow, 0, 0);
    assert!(resets(&flow).is_empty());
    assert_eq!(flow["handshake_rtt_ms"], Value::Null);
}

#[test]
fn s1_established_and_never_closed() {
    let mut c = conversation();
    c.handshake()
        .client_data(100)
        .server_ack()
        .server_data(200)
        .ack();
    let flow = flow_of(&c);
    assert_state(&flow, "S1", "ShADad", "none");
    assert_endpoints(&flow, CLIENT, SERVER);
    assert_packets(&flow, 4, 3);
    assert_payload(&flow, 100, 200);
}

#[test]
fn sf_normal_establishment_and_termination() {
    let mut c = conversation();
    c.handshake().exchange_and_close();
    let report = report_of(&c.segments);
    let flow = only_flow(&report);
    assert_state(&flow, "SF", "ShADadFf", "fin");
    assert_endpoints(&flow, CLIENT, SERVER);
    assert_packets(&flow, 6, 4);
    assert_payload(&flow, 100, 200);
    assert!(resets(&flow).is_empty());
    assert_eq!(report["summary"]["tcp_flows"], 1);
    assert_eq!(report["summary"]["closed_fin"], 1);
    assert_eq!(report["summary"]["closed_rst"], 0);
    assert_eq!(report["summary"]["resets"], 0);
}

// ---------------------------------------------------------------------------------------------
// REJ

#[test]
fn rej_syn_answered_by_rst_ack() {
    let mut c = conversation();
    c.syn();
    // A closed port answers a SYN with <SEQ=0><ACK=ISN+1><CTL=RST,ACK> (RFC 9293 §3.10.7.1).
    c.server_next = 0;
    c.server_rst();
    let report = report_of(&c.segments);
    let flow = only_flow(&report);
    assert_state(&flow, "REJ", "Sr", "rst");
    assert_endpoints(&flow, CLIENT, SERVER);
    assert_packets(&flow, 1, 1);
    assert_payload(&flow, 0, 0);
    assert_eq!(resets(&flow).len(), 1);
    assert_reset(
        &resets(&flow)[0],
        &ExpectedReset {
            frame: 2,
            from: "server",
            src: SERVER,
            dst: CLIENT,
            flags: "RA",
            seq: 0,
            ack: Some(1001),
            ttl: 57,
            ip_id: Some(9001),
        },
    );
    assert_eq!(report["summary"]["closed_rst"], 1);
    assert_eq!(report["summary"]["resets"], 1);
}

#[test]
fn rej_over_ipv6_reports_the_hop_limit_and_no_ip_id() {
    let (client, server) = ("[2001:db8::10]:51514", "[2001:db8::7]:443");
    let mut c = Conversation::new(client, server);
    c.server_ttl = 51;
    c.syn();
    c.server_next = 0;
    c.server_rst();
    let flow = flow_of(&c);
    assert_state(&flow, "REJ", "Sr", "rst");
    assert_endpoints(&flow, client, server);
    assert_reset(
        &resets(&flow)[0],
        &ExpectedReset {
            frame: 2,
            from: "server",
            src: server,
            dst: client,
            flags: "RA",
            seq: 0,
            ack: Some(1001),
            ttl: 51,
            ip_id: None,
        },
    );
}

#[test]
fn s1_responder_acks_the_syn_before_its_synack() {
    // Zeek's quirk: a responder's bare ACK while the originator is in SYN_SENT leaves the
    // responder INACTIVE ('a'), so its SYN-ACK that follows still establishes both sides.
    let mut c = conversation();
    c.syn().server_ack().syn_ack().ack();
    let flow = flow_of(&c);
    assert_state(&flow, "S1", "SahA", "none");
    assert_packets(&flow, 2, 2);
}

// ---------------------------------------------------------------------------------------------
// S2, S3

#[test]
fn s2_originator_closed_responder_did_not() {
    let mut c = conversation();
    c.handshake()
        .client_data(100)
        .server_ack()
        .client_fin()
        .server_ack();
    let flow = flow_of(&c);
    assert_state(&flow, "S2", "ShADaF", "fin");
    assert_packets(&flow, 4, 3);
    assert_payload(&flow, 100, 0);
}

#[test]
fn s3_responder_closed_originator_did_not() {
    let mut c = conversation();
    c.handshake()
        .client_data(100)
        .server_data(200)
        .server_fin()
        .ack();
    let flow = flow_of(&c);
    assert_state(&flow, "S3", "ShADdf", "fin");
    assert_packets(&flow, 4, 3);
    assert_payload(&flow, 100, 200);
}

// ---------------------------------------------------------------------------------------------
// RSTO, RSTR

#[test]
fn rsto_originator_aborts_an_established_connection() {
    let mut c = conversation();
    c.handshake().client_data(100).server_ack().client_rst();
    let flow = flow_of(&c);
    assert_state(&flow, "RSTO", "ShADaR", "rst");
    assert_packets(&flow, 4, 2);
    assert_payload(&flow, 100, 0);
    assert_eq!(resets(&flow).len(), 1);
    assert_reset(
        &resets(&flow)[0],
        &ExpectedReset {
            frame: 6,
            from: "client",
            src: CLIENT,
            dst: SERVER,
            flags: "RA",
            seq: 1101,
            ack: Some(5001),
            ttl: 64,
            ip_id: Some(104),
        },
    );
}

#[test]
fn rsto_stealth_scan_syn_synack_rst() {
    let mut c = conversation();
    c.syn().syn_ack().send(true, RST, 0);
    let flow = flow_of(&c);
    // The responder is established by its SYN-ACK, so this is RSTO, not RSTOS0.
    assert_state(&flow, "RSTO", "ShR", "rst");
    assert_reset(
        &resets(&flow)[0],
        &ExpectedReset {
            frame: 3,
            from: "client",
            src: CLIENT,
            dst: SERVER,
            flags: "R",
            seq: 1001,
            ack: None,
            ttl: 64,
            ip_id: Some(102),
        },
    );
}

#[test]
fn rstr_responder_aborts_an_established_connection() {
    let mut c = conversation();
    c.handshake()
        .client_data(100)
        .server_ack()
        .server_data(200)
        .server_rst();
    let flow = flow_of(&c);
    assert_state(&flow, "RSTR", "ShADadr", "rst");
    assert_packets(&flow, 3, 4);
    assert_payload(&flow, 100, 200);
    assert_eq!(resets(&flow).len(), 1);
    assert_reset(
        &resets(&flow)[0],
        &ExpectedReset {
            frame: 7,
            from: "server",
            src: SERVER,
            dst: CLIENT,
            flags: "RA",
            seq: 5201,
            ack: Some(1101),
            ttl: 57,
            ip_id: Some(9004),
        },
    );
}

#[test]
fn rstr_reset_burst_repeats_r_only_for_a_new_sequence_number() {
    // An injector's burst: RSTs at seq, seq (duplicate), seq + 1460, seq + 2920. Every one is
    // listed; history repeats 'r' only when the relative seq differs from the last RST's.
    let mut c = conversation();
    c.handshake().client_data(100).server_ack();
    c.server_rst().resend_last();
    for step in [1460, 2920] {
        c.server_next = 5001 + step;
        c.server_rst();
    }
    let flow = flow_of(&c);
    assert_state(&flow, "RSTR", "ShADarrr", "rst");
    let seqs: Vec<u64> = resets(&flow)
        .iter()
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [5001, 5001, 6461, 7921]);
    let frames: Vec<u64> = resets(&flow)
        .iter()
        .map(|r| r["frame"].as_u64().unwrap())
        .collect();
    assert_eq!(frames, [6, 7, 8, 9]);
    assert!(resets(&flow).iter().all(|r| r["from"] == "server"));
}

#[test]
fn rej_when_both_sides_reset_a_bare_syn() {
    // SYN, originator RST, then the responder's RST-ACK: both RESET and neither sent a byte
    // (Zeek's endpoint sizes are 0), so REJ.
    let mut c = conversation();
    c.syn().send(true, RST, 0);
    c.server_next = 0;
    c.server_rst();
    let flow = flow_of(&c);
    assert_state(&flow, "REJ", "SRr", "rst");
    assert_eq!(resets(&flow).len(), 2);
    assert_eq!(resets(&flow)[0]["from"], "client");
    assert_eq!(resets(&flow)[1]["from"], "server");
}

#[test]
fn rstr_when_both_sides_reset_after_data() {
    // The responder's reset decides the state: RSTR, even though the originator reset first.
    let mut c = conversation();
    c.handshake().client_data(100).client_rst().server_rst();
    let flow = flow_of(&c);
    assert_state(&flow, "RSTR", "ShADRr", "rst");
}

#[test]
fn bad_checksum_rst_from_a_side_with_good_checksums_is_listed_but_ignored() {
    // Zeek: a segment with a bad TCP checksum adds 'c' (scaled) and is otherwise ignored, so
    // this reset does not change the state. rstscope still lists it, marked "bad".
    let mut c = conversation();
    c.handshake().client_data(100).server_ack().server_rst();
    let mut frames = c.ethernet_frames();
    // Ethernet 14 + IPv4 20 + 16: the TCP checksum field of the RST.
    let rst = &mut frames[5].1;
    let good = u16::from_be_bytes([rst[50], rst[51]]);
    rst[50..52].copy_from_slice(&(good ^ 0x5555).to_be_bytes());
    let dir = temp_dir();
    let flows = flows_of(dir.path(), "bad.pcap", &frames, DLT_EN10MB);
    assert_eq!(flows.len(), 1);
    assert_state(&flows[0], "S1", "ShADac", "none");
    assert_eq!(resets(&flows[0]).len(), 1);
    assert_eq!(resets(&flows[0])[0]["checksum"], "bad");
    assert_eq!(resets(&flows[0])[0]["frame"], 6);
}

// ---------------------------------------------------------------------------------------------
// RSTOS0, RSTRH

#[test]
fn rstos0_originator_syn_then_rst_without_synack() {
    let mut c = conversation();
    c.syn().send(true, RST, 0);
    let flow = flow_of(&c);
    assert_state(&flow, "RSTOS0", "SR", "rst");
    assert_packets(&flow, 2, 0);
    assert_reset(
        &resets(&flow)[0],
        &ExpectedReset {
            frame: 2,
            from: "client",
            src: CLIENT,
            dst: SERVER,
            flags: "R",
            seq: 1001,
            ack: None,
            ttl: 64,
            ip_id: Some(102),
        },
    );
}

#[test]
fn rstos0_pattern_allows_responder_letters_between_s_and_r() {
    // The responder ACKs the SYN without answering it; Zeek leaves a responder that sends a
    // bare ACK while the originator is in SYN_SENT INACTIVE. "SaR" matches ^?S[^HAFGIQ]*R.*
    let mut c = conversation();
    c.syn().server_ack().send(true, RST, 0);
    let flow = flow_of(&c);
    assert_state(&flow, "RSTOS0", "SaR", "rst");
    assert_eq!(resets(&flow)[0]["frame"], 3);
}

#[test]
fn oth_originator_ack_between_syn_and_rst_fails_the_rstos0_pattern() {
    // An upper-case 'A' between S and R fails the pattern; the responder is INACTIVE.
    let mut c = conversation();
    c.syn().ack().send(true, RST, 0);
    let flow = flow_of(&c);
    assert_state(&flow, "OTH", "SAR", "rst");
}

#[test]
fn rstrh_lone_rst_from_a_server_port_is_flipped() {
    // The first packet is not a SYN and comes from 443 (a likely server port) to a port that is
    // not one, so Zeek flips the roles before processing it: "^", then the responder's 'r'.
    let mut c = conversation();
    c.server_rst();
    let flow = flow_of(&c);
    assert_state(&flow, "RSTRH", "^r", "rst");
    assert_endpoints(&flow, CLIENT, SERVER);
    assert_packets(&flow, 0, 1);
    assert_reset(
        &resets(&flow)[0],
        &ExpectedReset {
            frame: 1,
            from: "server",
            src: SERVER,
            dst: CLIENT,
            flags: "RA",
            seq: 5000,
            ack: Some(1000),
            ttl: 57,
            ip_id: Some(9001),
        },
    );
}

#[test]
fn rstrh_synack_then_rst_from_the_responder() {
    let mut c = conversation();
    c.syn_ack().server_rst();
    let flow = flow_of(&c);
    assert_state(&flow, "RSTRH", "^hr", "rst");
    assert_endpoints(&flow, CLIENT, SERVER);
    assert_packets(&flow, 0, 2);
    assert_eq!(resets(&flow)[0]["frame"], 2);
    assert_eq!(resets(&flow)[0]["seq"], 5001);
}

// ---------------------------------------------------------------------------------------------
// SH, SHR

#[test]
fn sh_originator_syn_then_fin_without_answer() {
    let mut c = conversation();
    c.syn().send(true, FIN, 0);
    let flow = flow_of(&c);
    assert_state(&flow, "SH", "SF", "fin");
    assert_packets(&flow, 2, 0);
    assert!(resets(&flow).is_empty());
}

#[test]
fn sh_lone_syn_fin_gives_q() {
    let mut c = conversation();
    c.send(true, SYN | FIN, 0);
    let flow = flow_of(&c);
    assert_state(&flow, "SH", "Q", "fin");
    assert_endpoints(&flow, CLIENT, SERVER);
}

#[test]
fn shr_lone_fin_from_a_server_port() {
    let mut c = conversation();
    c.server_fin();
    let flow = flow_of(&c);
    assert_state(&flow, "SHR", "^f", "fin");
    assert_endpoints(&flow, CLIENT, SERVER);
    assert_packets(&flow, 0, 1);
}

#[test]
fn shr_synack_then_fin_from_the_responder() {
    let mut c = conversation();
    c.syn_ack().server_fin();
    let flow = flow_of(&c);
    assert_state(&flow, "SHR", "^hf", "fin");
    assert_endpoints(&flow, CLIENT, SERVER);
}

// ---------------------------------------------------------------------------------------------
// OTH

#[test]
fn oth_midstream_data_both_ways() {
    // 51514 is not a likely server port, so the first sender stays the originator. Its pure
    // ACK after its data is new for the ACK bit: 'A'. Both sides stay PARTIAL.
    let mut c = conversation();
    c.client_data(100).server_data(200).ack();
    let flow = flow_of(&c);
    assert_state(&flow, "OTH", "DdA", "none");
    assert_endpoints(&flow, CLIENT, SERVER);
    assert_packets(&flow, 2, 1);
}

#[test]
fn oth_lone_syn_rst_gives_q_and_fails_the_rstos0_pattern() {
    let mut c = conversation();
    c.send(true, SYN | RST, 0);
    let flow = flow_of(&c);
    assert_state(&flow, "OTH", "Q", "rst");
    assert_eq!(resets(&flow).len(), 1);
    assert_eq!(resets(&flow)[0]["flags"], "SR");
    assert_eq!(resets(&flow)[0]["from"], "client");
}

#[test]
fn oth_synack_between_unlikely_ports_then_ack() {
    // Neither 51000 nor 40000 is a likely server port: no flip. The SYN-ACK's sender is the
    // originator in SYN_ACK_SENT; the other side's ACK makes it PARTIAL.
    let (a, b) = ("192.0.2.10:51000", "198.51.100.7:40000");
    let mut c = Conversation::new(a, b);
    c.send(true, SYN | ACK, 0).send(false, ACK, 0);
    let flow = flow_of(&c);
    assert_state(&flow, "OTH", "Ha", "none");
    assert_endpoints(&flow, a, b);
}

// ---------------------------------------------------------------------------------------------
// Closes that mix FIN and RST

#[test]
fn sf_both_fins_then_a_rst_stays_sf_with_an_r() {
    let mut c = conversation();
    c.handshake().exchange_and_close().client_rst();
    let flow = flow_of(&c);
    assert_state(&flow, "SF", "ShADadFfR", "fin");
    assert_eq!(resets(&flow).len(), 1);
    assert_eq!(resets(&flow)[0]["frame"], 11);
    assert_eq!(resets(&flow)[0]["from"], "client");
}

#[test]
fn sf_fin_then_own_rst_then_peer_fin() {
    // FIN, RST from the same side, then the peer's FIN: Zeek moves the RESET side back to
    // CLOSED, so the connection is SF.
    let mut c = conversation();
    c.handshake()
        .client_data(100)
        .server_ack()
        .client_fin()
        .client_rst()
        .server_fin();
    let flow = flow_of(&c);
    assert_state(&flow, "SF", "ShADaFRf", "fin");
    assert_eq!(resets(&flow).len(), 1);
    assert_eq!(resets(&flow)[0]["frame"], 7);
}

// ---------------------------------------------------------------------------------------------
// Orientation: Zeek's WantConnection flip and the SYN/SYN-ACK reversal

#[test]
fn midstream_data_from_a_server_port_is_flipped() {
    let mut c = conversation();
    c.server_data(200).ack().server_data(300);
    let flow = flow_of(&c);
    assert_state(&flow, "OTH", "^dA", "none");
    assert_endpoints(&flow, CLIENT, SERVER);
    assert_packets(&flow, 1, 2);
}

#[test]
fn synack_from_a_server_port_is_flipped_and_the_ack_establishes() {
    let mut c = conversation();
    c.syn_ack().ack().client_data(100).server_ack();
    let flow = flow_of(&c);
    assert_state(&flow, "S1", "^hADa", "none");
    assert_endpoints(&flow, CLIENT, SERVER);
    assert_packets(&flow, 2, 2);
}

#[test]
fn synack_between_two_likely_server_ports_is_flipped_as_zeek_does() {
    // Zeek's source comment says a SYN-ACK between two likely server ports is not flipped,
    // but the Zeek corpus shows Zeek flipping exactly that: http__zeek-image-post-1080-8000-x
    // (SYN-ACK 8000 -> 1080) and tcp__http-on-irc-port-missing-syn (SYN-ACK 80 -> 6669) are
    // both logged as `^hADadFf`. A SYN-ACK from a server port is the server's.
    let (server, client) = ("198.51.100.7:443", "192.0.2.10:1080");
    let mut c = Conversation::new(server, client);
    c.send(true, SYN | ACK, 0).send(false, ACK, 0);
    let flow = flow_of(&c);
    assert_endpoints(&flow, client, server);
    assert_state(&flow, "S1", "^hA", "none");
}

#[test]
fn midstream_data_between_two_likely_server_ports_flips_only_toward_the_lower_port() {
    // Data 80 -> 443: both likely, not a SYN, 80 < 443 -> flip (443 side is the client).
    let mut low_to_high = Conversation::new("192.0.2.10:443", "198.51.100.7:80");
    low_to_high.send(false, ACK | PSH, 10);
    let flow = flow_of(&low_to_high);
    assert_endpoints(&flow, "192.0.2.10:443", "198.51.100.7:80");
    assert_state(&flow, "OTH", "^d", "none");

    // Data 443 -> 80: 443 > 80 -> no flip (the sender stays the originator).
    let mut high_to_low = Conversation::new("192.0.2.10:443", "198.51.100.7:80");
    high_to_low.send(true, ACK | PSH, 10);
    let flow = flow_of(&high_to_low);
    assert_endpoints(&flow, "192.0.2.10:443", "198.51.100.7:80");
    assert_state(&flow, "OTH", "D", "none");
}

#[test]
fn syn_after_its_synack_is_a_reversal_hs_caret() {
    // The real client 198.51.100.7:40000 sent SYN (ISN 1000), the server 192.0.2.10:51000
    // answered SYN-ACK (ack 1001), but the capture holds them in reverse order. Neither port is
    // a likely server port, so the SYN-ACK's sender starts as originator ('H'); the SYN with
    // seq == SYN-ACK.ack - 1 is the reversal: 's', then '^', and both sides are ESTABLISHED.
    let (client, server) = ("198.51.100.7:40000", "192.0.2.10:51000");
    let mut c = Conversation::new(client, server);
    c.syn().syn_ack().ack();
    let (t0, t1) = (c.segments[0].0, c.segments[1].0);
    c.segments.swap(0, 1);
    c.segments[0].0 = t0;
    c.segments[1].0 = t1;
    let flow = flow_of(&c);
    assert_state(&flow, "S1", "Hs^A", "none");
    assert_endpoints(&flow, client, server);
    assert_packets(&flow, 2, 1);
}
