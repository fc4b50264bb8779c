//! The same small connection (handshake, 100 bytes up, 200 down, FIN close: SF "ShADadFf")
//! carried over every link type and encapsulation rstscope decodes. Each report must show the
//! link type, the (inner) addresses, SF, the payload bytes, and `tunneled` only for tunnels
//! (GRE, VXLAN, Geneve, IP-in-IP): link-layer shims (VLAN, MPLS, PPPoE) are not tunnels.
// Tests may unwrap: clippy.toml exempts #[test] functions, and this covers the helpers below.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::*;
use serde_json::{Value, json};

const CLIENT_V4: &str = "192.0.2.10:51514";
const SERVER_V4: &str = "198.51.100.7:443";
const CLIENT_V6: &str = "[2001:db8::10]:51514";
const SERVER_V6: &str = "[2001:db8::7]:443";
/// Tunnel endpoints (outer addresses).
const TUNNEL_A: [u8; 4] = [203, 0, 113, 1];
const TUNNEL_B: [u8; 4] = [203, 0, 113, 2];

fn conversation(client: &str, server: &str) -> Conversation {
    let mut c = Conversation::new(client, server);
    c.handshake().exchange_and_close();
    c
}

fn v4() -> Conversation {
    conversation(CLIENT_V4, SERVER_V4)
}

fn v6() -> Conversation {
    conversation(CLIENT_V6, SERVER_V6)
}

/// Every segment's IP packet wrapped by `wrap`, which also learns the direction (true when the
/// client sent it), so tunnels can swap their outer addresses.
fn frames(c: &Conversation, wrap: impl Fn(&[u8], bool) -> Vec<u8>) -> Vec<(i64, Vec<u8>)> {
    c.segments
        .iter()
        .map(|(ts, tcp)| (*ts, wrap(&tcp.ip_packet(), tcp.src == c.client)))
        .collect()
}

fn report_with(dlt: i32, frames: &[(i64, Vec<u8>)]) -> Value {
    let dir = temp_dir();
    let path = dir.path().join("trace.pcap");
    write_pcap(&path, dlt, frames);
    analyze_json(&[&path])
}

fn report_from_file(path: &Path) -> Value {
    analyze_json(&[path])
}

/// The report holds the one SF connection between `client` and `server`.
fn assert_sf(report: &Value, link_type: &str, client: &str, server: &str, tunneled: bool) {
    let input = &report["inputs"][0];
    assert_eq!(input["link_type"], link_type, "input: {input:#}");
    assert_eq!(input["packets"], 10, "input: {input:#}");
    assert_eq!(input["tcp_packets"], 10, "input: {input:#}");
    assert_eq!(input["truncated_packets"], 0, "input: {input:#}");
    assert_eq!(input["undecodable_packets"], 0, "input: {input:#}");
    let flows = report["flows"].as_array().unwrap();
    assert_eq!(flows.len(), 1, "flows: {flows:#?}");
    let flow = &flows[0];
    let endpoint = |addr: &str| {
        let addr: std::net::SocketAddr = addr.parse().unwrap();
        json!({"ip": addr.ip().to_string(), "port": addr.port()})
    };
    assert_eq!(flow["client"], endpoint(client), "flow: {flow:#}");
    assert_eq!(flow["server"], endpoint(server), "flow: {flow:#}");
    assert_eq!(flow["conn_state"], "SF", "flow: {flow:#}");
    assert_eq!(flow["history"], "ShADadFf", "flow: {flow:#}");
    assert_eq!(flow["close"], "fin", "flow: {flow:#}");
    assert_eq!(
        flow["packets"],
        json!({"client": 6, "server": 4}),
        "flow: {flow:#}"
    );
    assert_eq!(
        flow["payload_bytes"],
        json!({"client": 100, "server": 200}),
        "flow: {flow:#}"
    );
    assert_eq!(
        flow["retransmissions"],
        json!({"client": 0, "server": 0}),
        "flow: {flow:#}"
    );
    assert_eq!(flow["tunneled"], tunneled, "flow: {flow:#}");
}

fn assert_sf_v4(report: &Value, link_type: &str, tunneled: bool) {
    assert_sf(report, link_type, CLIENT_V4, SERVER_V4, tunneled);
}

fn assert_sf_v6(report: &Value, link_type: &str, tunneled: bool) {
    assert_sf(report, link_type, CLIENT_V6, SERVER_V6, tunneled);
}

// ---------------------------------------------------------------------------------------------
// Encapsulation builders

/// An 802.1Q / 802.1ad tag: TCI (PCP 0, VID), then the next EtherType.
fn tag(vid: u16, next: u16) -> Vec<u8> {
    let mut out = vid.to_be_bytes().to_vec();
    out.extend_from_slice(&next.to_be_bytes());
    out
}

/// An MPLS label stack entry: label, TC 0, bottom-of-stack bit, TTL 64.
fn mpls_label(label: u32, bottom: bool) -> [u8; 4] {
    ((label << 12) | (u32::from(bottom) << 8) | 64).to_be_bytes()
}

/// Outer IPv4 addresses by direction: client-side tunnel endpoint A, server-side B.
fn outer(from_client: bool) -> ([u8; 4], [u8; 4]) {
    if from_client {
        (TUNNEL_A, TUNNEL_B)
    } else {
        (TUNNEL_B, TUNNEL_A)
    }
}

/// A GRE packet in IPv4 in Ethernet: `flags` (C 0x8000, K 0x2000, S 0x1000), the protocol,
/// and 4 bytes for each optional field the flags announce.
fn gre(flags: u16, protocol: u16, payload: &[u8], from_client: bool) -> Vec<u8> {
    let mut header = flags.to_be_bytes().to_vec();
    header.extend_from_slice(&protocol.to_be_bytes());
    if flags & 0x8000 != 0 {
        header.extend_from_slice(&[0, 0, 0, 0]); // checksum + reserved1
    }
    if flags & 0x2000 != 0 {
        header.extend_from_slice(&0x0000_2a2a_u32.to_be_bytes()); // key
    }
    if flags & 0x1000 != 0 {
        header.extend_from_slice(&7u32.to_be_bytes()); // sequence number
    }
    header.extend_from_slice(payload);
    let (src, dst) = outer(from_client);
    ethernet(&ipv4_packet(src, dst, 47, &header))
}

/// Inserts an 8-byte IPv6 extension header right after the fixed IPv6 header: hop-by-hop (0)
/// or destination options (60) with a PadN option, or a fragment header (44) with offset 0
/// and M clear (an atomic fragment, RFC 6946). The TCP checksum does not change: the
/// pseudo-header holds the upper-layer length, not the payload length.
fn with_ipv6_extension(ip6: &[u8], kind: u8) -> Vec<u8> {
    assert_eq!(ip6[0] >> 4, 6);
    let mut out = ip6[..40].to_vec();
    let payload_len = u16::from_be_bytes([out[4], out[5]]) + 8;
    out[4..6].copy_from_slice(&payload_len.to_be_bytes());
    let next = out[6];
    out[6] = kind;
    let body: [u8; 6] = match kind {
        0 | 60 => [1, 4, 0, 0, 0, 0],
        44 => [0, 0, 0x12, 0x34, 0x56, 0x78],
        _ => panic!("no builder for extension header {kind}"),
    };
    out.extend_from_slice(&[next, 0]);
    out.extend_from_slice(&body);
    out.extend_from_slice(&ip6[40..]);
    out
}

/// Adds 4 bytes of IPv4 header options (NOP, NOP, NOP, EOL), with IHL 6 and a new header
/// checksum. The TCP checksum does not change.
fn with_ipv4_options(ip: &[u8]) -> Vec<u8> {
    assert_eq!(ip[0], 0x45);
    let mut out = ip[..20].to_vec();
    out[0] = 0x46;
    let total = u16::from_be_bytes([out[2], out[3]]) + 4;
    out[2..4].copy_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&[1, 1, 1, 0]);
    out[10..12].copy_from_slice(&[0, 0]);
    let mut sum: u32 = out
        .chunks(2)
        .map(|pair| u32::from(u16::from_be_bytes([pair[0], pair[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    out[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    out.extend_from_slice(&ip[20..]);
    out
}

// ---------------------------------------------------------------------------------------------
// Ethernet and tags

#[test]
fn ethernet_ipv4() {
    let report = report_with(DLT_EN10MB, &frames(&v4(), |ip, _| ethernet(ip)));
    assert_sf_v4(&report, "EN10MB", false);
}

#[test]
fn ethernet_ipv6() {
    let report = report_with(DLT_EN10MB, &frames(&v6(), |ip, _| ethernet(ip)));
    assert_sf_v6(&report, "EN10MB", false);
}

#[test]
fn ethernet_ipv6_with_destination_options_before_tcp() {
    let wrap = |ip: &[u8], _| ethernet(&with_ipv6_extension(ip, 60));
    let report = report_with(DLT_EN10MB, &frames(&v6(), wrap));
    assert_sf_v6(&report, "EN10MB", false);
}

#[test]
fn ethernet_ipv6_with_hop_by_hop_and_destination_options_before_tcp() {
    let wrap = |ip: &[u8], _| ethernet(&with_ipv6_extension(&with_ipv6_extension(ip, 60), 0));
    let report = report_with(DLT_EN10MB, &frames(&v6(), wrap));
    assert_sf_v6(&report, "EN10MB", false);
}

#[test]
fn ethernet_ipv6_atomic_fragment_header_before_tcp() {
    // A fragment header with offset 0 and no more fragments holds a whole packet.
    let wrap = |ip: &[u8], _| ethernet(&with_ipv6_extension(ip, 44));
    let report = report_with(DLT_EN10MB, &frames(&v6(), wrap));
    assert_sf_v6(&report, "EN10MB", false);
}

#[test]
fn ethernet_ipv4_with_header_options() {
    let wrap = |ip: &[u8], _| ethernet(&with_ipv4_options(ip));
    let report = report_with(DLT_EN10MB, &frames(&v4(), wrap));
    assert_sf_v4(&report, "EN10MB", false);
}

#[test]
fn ethernet_8023_llc_snap() {
    // 802.3: a length instead of an EtherType, then LLC/SNAP (AA AA 03, OUI 0, EtherType).
    let wrap = |ip: &[u8], _| {
        let mut payload = vec![0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00];
        payload.extend_from_slice(ip);
        ethernet_with_type(payload.len() as u16, &payload)
    };
    let report = report_with(DLT_EN10MB, &frames(&v4(), wrap));
    assert_sf_v4(&report, "EN10MB", false);
}

#[test]
fn vlan_8021q() {
    let wrap = |ip: &[u8], _| {
        let mut payload = tag(100, 0x0800);
        payload.extend_from_slice(ip);
        ethernet_with_type(0x8100, &payload)
    };
    let report = report_with(DLT_EN10MB, &frames(&v4(), wrap));
    assert_sf_v4(&report, "EN10MB", false);
}

#[test]
fn vlan_8021q_ipv6() {
    let wrap = |ip: &[u8], _| {
        let mut payload = tag(100, 0x86dd);
        payload.extend_from_slice(ip);
        ethernet_with_type(0x8100, &payload)
    };
    let report = report_with(DLT_EN10MB, &frames(&v6(), wrap));
    assert_sf_v6(&report, "EN10MB", false);
}

#[test]
fn qinq_8021ad_outer_then_8021q_inner() {
    let wrap = |ip: &[u8], _| {
        let mut payload = tag(200, 0x8100);
        payload.extend(tag(100, 0x0800));
        payload.extend_from_slice(ip);
        ethernet_with_type(0x88a8, &payload)
    };
    let report = report_with(DLT_EN10MB, &frames(&v4(), wrap));
    assert_sf_v4(&report, "EN10MB", false);
}

#[test]
fn mpls_one_label() {
    let wrap = |ip: &[u8], _| {
        let mut payload = mpls_label(16, true).to_vec();
        payload.extend_from_slice(ip);
        ethernet_with_type(0x8847, &payload)
    };
    let report = report_with(DLT_EN10MB, &frames(&v4(), wrap));
    assert_sf_v4(&report, "EN10MB", false);
}

#[test]
fn mpls_two_labels_only_the_second_is_bottom_of_stack() {
    let wrap = |ip: &[u8], _| {
        let mut payload = mpls_label(1000, false).to_vec();
        payload.extend_from_slice(&mpls_label(16, true));
        payload.extend_from_slice(ip);
        ethernet_with_type(0x8847, &payload)
    };
    let report = report_with(DLT_EN10MB, &frames(&v4(), wrap));
    assert_sf_v4(&report, "EN10MB", false);
}

#[test]
fn mpls_two_labels_ipv6() {
    let wrap = |ip: &[u8], _| {
        let mut payload = mpls_label(1000, false).to_vec();
        payload.extend_from_slice(&mpls_label(2, true));
        payload.extend_from_slice(ip);
        ethernet_with_type(0x8847, &payload)
    };
    let report = report_with(DLT_EN10MB, &frames(&v6(), wrap));
    assert_sf_v6(&report, "EN10MB", false);
}

/// A PPPoE session frame: version/type 0x11, code 0, session ID, length (of the PPP protocol
/// field plus payload), then the PPP protocol.
fn pppoe(protocol: u16, ip: &[u8]) -> Vec<u8> {
    let mut payload = vec![0x11, 0x00, 0x12, 0x34];
    payload.extend_from_slice(&((ip.len() + 2) as u16).to_be_bytes());
    payload.extend_from_slice(&protocol.to_be_bytes());
    payload.extend_from_slice(ip);
    ethernet_with_type(0x8864, &payload)
}

#[test]
fn pppoe_session_ipv4() {
    let report = report_with(DLT_EN10MB, &frames(&v4(), |ip, _| pppoe(0x0021, ip)));
    assert_sf_v4(&report, "EN10MB", false);
}

#[test]
fn pppoe_session_ipv6() {
    let report = report_with(DLT_EN10MB, &frames(&v6(), |ip, _| pppoe(0x0057, ip)));
    assert_sf_v6(&report, "EN10MB", false);
}

// ---------------------------------------------------------------------------------------------
// Other link types

/// Linux cooked v1: packet type, ARPHRD_ETHER, address length 6, address (8 bytes), protocol.
fn sll(ip: &[u8], from_client: bool) -> Vec<u8> {
    let mut frame = vec![0, if from_client { 4 } else { 0 }, 0, 1, 0, 6];
    frame.extend_from_slice(&MAC_A);
    frame.extend_from_slice(&[0, 0]);
    frame.extend_from_slice(&ether_type_of(ip).to_be_bytes());
    assert_eq!(frame.len(), 16);
    frame.extend_from_slice(ip);
    frame
}

/// Linux cooked v2: protocol, reserved, interface index, ARPHRD_ETHER, packet type, address
/// length 6, address (8 bytes).
fn sll2(ip: &[u8], from_client: bool) -> Vec<u8> {
    let mut frame = ether_type_of(ip).to_be_bytes().to_vec();
    frame.extend_from_slice(&[0, 0, 0, 0, 0, 3, 0, 1, if from_client { 4 } else { 0 }, 6]);
    frame.extend_from_slice(&MAC_A);
    frame.extend_from_slice(&[0, 0]);
    assert_eq!(frame.len(), 20);
    frame.extend_from_slice(ip);
    frame
}

#[test]
fn linux_sll() {
    let report = report_with(DLT_LINUX_SLL, &frames(&v4(), sll));
    assert_sf_v4(&report, "LINUX_SLL", false);
}

#[test]
fn linux_sll_ipv6() {
    let report = report_with(DLT_LINUX_SLL, &frames(&v6(), sll));
    assert_sf_v6(&report, "LINUX_SLL", false);
}

#[test]
fn linux_sll2() {
    let report = report_with(DLT_LINUX_SLL2, &frames(&v4(), sll2));
    assert_sf_v4(&report, "LINUX_SLL2", false);
}

#[test]
fn linux_sll2_ipv6() {
    let report = report_with(DLT_LINUX_SLL2, &frames(&v6(), sll2));
    assert_sf_v6(&report, "LINUX_SLL2", false);
}

#[test]
fn raw_ip_dlt_12_through_libpcap() {
    // libpcap stores DLT_RAW (12) as LINKTYPE_RAW (101) in the file header.
    let report = report_with(DLT_RAW, &frames(&v4(), |ip, _| ip.to_vec()));
    assert_sf_v4(&report, "RAW", false);
}

#[test]
fn raw_ip_linktype_101_in_the_file_header() {
    // libpcap's savefile refuses DLT 101, so this file is written by hand.
    let dir = temp_dir();
    let path = dir.path().join("raw101.pcap");
    write_pcap_linktype(&path, 101, &frames(&v4(), |ip, _| ip.to_vec()));
    assert_sf_v4(&report_from_file(&path), "RAW", false);
    let path = dir.path().join("raw101v6.pcap");
    write_pcap_linktype(&path, 101, &frames(&v6(), |ip, _| ip.to_vec()));
    assert_sf_v6(&report_from_file(&path), "RAW", false);
}

#[test]
fn raw_ip_linktypes_ipv4_228_and_ipv6_229() {
    let report = report_with(228, &frames(&v4(), |ip, _| ip.to_vec()));
    assert_sf_v4(&report, "RAW", false);
    let report = report_with(229, &frames(&v6(), |ip, _| ip.to_vec()));
    assert_sf_v6(&report, "RAW", false);
}

fn with_family(family: [u8; 4], ip: &[u8]) -> Vec<u8> {
    let mut frame = family.to_vec();
    frame.extend_from_slice(ip);
    frame
}

#[test]
fn bsd_null_af_inet_host_order() {
    let wrap = |ip: &[u8], _| with_family(2u32.to_le_bytes(), ip);
    let report = report_with(DLT_NULL, &frames(&v4(), wrap));
    assert_sf_v4(&report, "NULL", false);
}

#[test]
fn bsd_null_af_inet_from_a_big_endian_writer() {
    // DLT_NULL's family is in the writing host's order; a big-endian host wrote 00 00 00 02.
    let wrap = |ip: &[u8], _| with_family(2u32.to_be_bytes(), ip);
    let report = report_with(DLT_NULL, &frames(&v4(), wrap));
    assert_sf_v4(&report, "NULL", false);
}

#[test]
fn bsd_null_af_inet6_values_of_each_bsd() {
    // AF_INET6 is 30 on macOS, 28 on FreeBSD, 24 on NetBSD/OpenBSD.
    for family in [30u32, 28, 24] {
        let wrap = |ip: &[u8], _| with_family(family.to_le_bytes(), ip);
        let report = report_with(DLT_NULL, &frames(&v6(), wrap));
        assert_sf_v6(&report, "NULL", false);
    }
}

#[test]
fn loop_af_inet_network_order() {
    let wrap = |ip: &[u8], _| with_family(2u32.to_be_bytes(), ip);
    let report = report_with(DLT_LOOP, &frames(&v4(), wrap));
    assert_sf_v4(&report, "LOOP", false);
}

#[test]
fn loop_af_inet6_network_order() {
    let wrap = |ip: &[u8], _| with_family(24u32.to_be_bytes(), ip);
    let report = report_with(DLT_LOOP, &frames(&v6(), wrap));
    assert_sf_v6(&report, "LOOP", false);
}

#[test]
fn ppp_with_address_and_control() {
    let wrap = |ip: &[u8], _| {
        let mut frame = vec![0xff, 0x03, 0x00, 0x21];
        frame.extend_from_slice(ip);
        frame
    };
    let report = report_with(9, &frames(&v4(), wrap));
    assert_sf_v4(&report, "PPP", false);
}

#[test]
fn fddi_llc_snap() {
    let wrap = |ip: &[u8], _| {
        let mut frame = vec![0x50];
        frame.extend_from_slice(&MAC_B);
        frame.extend_from_slice(&MAC_A);
        frame.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
        frame.extend_from_slice(ip);
        frame
    };
    let report = report_with(10, &frames(&v4(), wrap));
    assert_sf_v4(&report, "FDDI", false);
}

// ---------------------------------------------------------------------------------------------
// Tunnels: the flow is the inner connection

#[test]
fn gre_ipv4() {
    let wrap = |ip: &[u8], from_client| gre(0, 0x0800, ip, from_client);
    let report = report_with(DLT_EN10MB, &frames(&v4(), wrap));
    assert_sf_v4(&report, "EN10MB", true);
}

#[test]
fn gre_with_key_and_sequence_number() {
    let wrap = |ip: &[u8], from_client| gre(0x3000, 0x0800, ip, from_client);
    let report = report_with(DLT_EN10MB, &frames(&v4(), wrap));
    assert_sf_v4(&report, "EN10MB", true);
}

#[test]
fn gre_with_checksum_key_and_sequence_number() {
    let wrap = |ip: &[u8], from_client| gre(0xb000, 0x0800, ip, from_client);
    let report = report_with(DLT_EN10MB, &frames(&v4(), wrap));
    assert_sf_v4(&report, "EN10MB", true);
}

#[test]
fn gre_ipv6_inside() {
    let wrap = |ip: &[u8], from_client| gre(0, 0x86dd, ip, from_client);
    let report = report_with(DLT_EN10MB, &frames(&v6(), wrap));
    assert_sf_v6(&report, "EN10MB", true);
}

#[test]
fn gre_transparent_ethernet_bridging() {
    let wrap = |ip: &[u8], from_client| gre(0x2000, 0x6558, &ethernet(ip), from_client);
    let report = report_with(DLT_EN10MB, &frames(&v4(), wrap));
    assert_sf_v4(&report, "EN10MB", true);
}

/// A VXLAN packet (UDP 4789, I flag, VNI 42) around an inner Ethernet frame.
fn vxlan(ip: &[u8], from_client: bool) -> Vec<u8> {
    let mut payload = vec![0x08, 0, 0, 0, 0, 0, 42, 0];
    payload.extend(ethernet(ip));
    let (src, dst) = outer(from_client);
    ethernet(&udp_packet(src, dst, 49152, 4789, &payload))
}

#[test]
fn vxlan_inner_ethernet() {
    let report = report_with(DLT_EN10MB, &frames(&v4(), vxlan));
    assert_sf_v4(&report, "EN10MB", true);
}

#[test]
fn vxlan_inner_ipv6() {
    let report = report_with(DLT_EN10MB, &frames(&v6(), vxlan));
    assert_sf_v6(&report, "EN10MB", true);
}

#[test]
fn vxlan_reset_reports_the_inner_packet() {
    // The reset's addresses, TTL and IP ID are the inner packet's (server TTL 57, IP IDs from
    // 9001), not the tunnel's (TTL 64 from 203.0.113.x).
    let mut c = Conversation::new(CLIENT_V4, SERVER_V4);
    c.handshake().client_data(100).server_rst();
    let report = report_with(DLT_EN10MB, &frames(&c, vxlan));
    let flow = &report["flows"][0];
    assert_eq!(flow["conn_state"], "RSTR");
    assert_eq!(flow["history"], "ShADr");
    assert_eq!(flow["tunneled"], true);
    let reset = &flow["resets"][0];
    assert_eq!(reset["frame"], 5);
    assert_eq!(reset["from"], "server");
    assert_eq!(reset["src"], json!({"ip": "198.51.100.7", "port": 443}));
    assert_eq!(reset["dst"], json!({"ip": "192.0.2.10", "port": 51514}));
    assert_eq!(reset["flags"], "RA");
    assert_eq!(reset["seq"], 5001);
    assert_eq!(reset["ack"], 1101);
    assert_eq!(reset["ttl"], 57);
    assert_eq!(reset["ip_id"], 9002);
}

/// A Geneve packet (UDP 6081, version 0) with 8 bytes of options and protocol 0x6558.
fn geneve(ip: &[u8], from_client: bool) -> Vec<u8> {
    // Byte 0: version 0, option length 2 (in 4-byte words).
    let mut payload = vec![0x02, 0x00, 0x65, 0x58, 0, 0, 42, 0];
    // One option: class 0x0102, type 0x80, length 1 word, 4 bytes of data.
    payload.extend_from_slice(&[0x01, 0x02, 0x80, 0x01, 0xde, 0xad, 0xbe, 0xef]);
    payload.extend(ethernet(ip));
    let (src, dst) = outer(from_client);
    ethernet(&udp_packet(src, dst, 49153, 6081, &payload))
}

#[test]
fn geneve_with_options_inner_ethernet() {
    let report = report_with(DLT_EN10MB, &frames(&v4(), geneve));
    assert_sf_v4(&report, "EN10MB", true);
}

#[test]
fn ip_in_ip() {
    let wrap = |ip: &[u8], from_client| {
        let (src, dst) = outer(from_client);
        ethernet(&ipv4_packet(src, dst, 4, ip))
    };
    let report = report_with(DLT_EN10MB, &frames(&v4(), wrap));
    assert_sf_v4(&report, "EN10MB", true);
}

#[test]
fn ipv6_in_ipv4_6in4() {
    let wrap = |ip: &[u8], from_client| {
        let (src, dst) = outer(from_client);
        ethernet(&ipv4_packet(src, dst, 41, ip))
    };
    let report = report_with(DLT_EN10MB, &frames(&v6(), wrap));
    assert_sf_v6(&report, "EN10MB", true);
}

#[test]
fn tunnel_inside_vlan_inside_sll() {
    // Layers combine: Linux cooked v1 -> 802.1Q -> IPv4 -> GRE -> IPv4 -> TCP.
    let wrap = |ip: &[u8], from_client| {
        let (src, dst) = outer(from_client);
        let mut gre_payload = vec![0, 0, 0x08, 0x00];
        gre_payload.extend_from_slice(ip);
        let outer_ip = ipv4_packet(src, dst, 47, &gre_payload);
        let mut frame = vec![0, 0, 0, 1, 0, 6];
        frame.extend_from_slice(&MAC_A);
        frame.extend_from_slice(&[0, 0, 0x81, 0x00]);
        frame.extend(tag(7, 0x0800));
        frame.extend(outer_ip);
        frame
    };
    let report = report_with(DLT_LINUX_SLL, &frames(&v4(), wrap));
    assert_sf_v4(&report, "LINUX_SLL", true);
}

// ---------------------------------------------------------------------------------------------
// Frames that are not TCP are counted and skipped

#[test]
fn non_tcp_frames_are_counted_and_do_not_disturb_the_flow() {
    let c = v4();
    let mut all = frames(&c, |ip, _| ethernet(ip));
    let t = all[0].0;
    // ARP request.
    let mut arp = vec![0, 1, 8, 0, 6, 4, 0, 1];
    arp.extend_from_slice(&MAC_A);
    arp.extend_from_slice(&[192, 0, 2, 10]);
    arp.extend_from_slice(&[0; 6]);
    arp.extend_from_slice(&[198, 51, 100, 7]);
    all.insert(1, (t + 1, ethernet_with_type(0x0806, &arp)));
    // A DNS query over UDP.
    let dns = udp_packet([192, 0, 2, 10], [198, 51, 100, 53], 53000, 53, &[0; 12]);
    all.insert(3, (t + 2, ethernet(&dns)));
    // UDP to the VXLAN port whose flags lack the I bit: not VXLAN, just UDP.
    let not_vxlan = udp_packet(TUNNEL_A, TUNNEL_B, 49152, 4789, &[0; 16]);
    all.insert(5, (t + 3, ethernet(&not_vxlan)));
    all.sort_by_key(|(ts, _)| *ts);
    let report = report_with(DLT_EN10MB, &all);
    let input = &report["inputs"][0];
    assert_eq!(input["packets"], 13, "input: {input:#}");
    assert_eq!(input["tcp_packets"], 10, "input: {input:#}");
    assert_eq!(input["non_tcp_packets"], 3, "input: {input:#}");
    let flows = report["flows"].as_array().unwrap();
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0]["conn_state"], "SF");
    assert_eq!(flows[0]["history"], "ShADadFf");
    assert_eq!(flows[0]["tunneled"], false);
}
