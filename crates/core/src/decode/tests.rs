//! Decode tests: one frame per link type and encapsulation, built with etherparse's
//! `PacketBuilder`, plus a property test that arbitrary bytes never panic.

use std::net::SocketAddr;

use etherparse::PacketBuilder;
use proptest::prelude::*;

use super::*;

const CLIENT: [u8; 4] = [192, 0, 2, 10];
const SERVER: [u8; 4] = [198, 51, 100, 7];

/// A TCP SYN+ACK-less data segment (ACK, PSH) with 5 bytes, as an IPv4 packet.
fn ipv4_segment() -> Vec<u8> {
    let builder = PacketBuilder::ipv4(CLIENT, SERVER, 61)
        .tcp(51514, 443, 1000, 64240)
        .ack(5000)
        .psh();
    let mut out = Vec::new();
    builder.write(&mut out, b"hello").unwrap();
    out
}

fn with_ethernet(ether_type: u16, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
    frame.extend_from_slice(&ether_type.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

fn segment(decoded: Decoded) -> Segment {
    match decoded {
        Decoded::Segment(segment) => segment,
        Decoded::Neighbour(neighbour) => panic!("a neighbour: {neighbour:?}"),
        Decoded::Skipped(skip) => panic!("skipped: {skip:?}"),
    }
}

fn assert_is_the_segment(decoded: Decoded) {
    let seg = segment(decoded);
    assert_eq!(seg.src, "192.0.2.10:51514".parse::<SocketAddr>().unwrap());
    assert_eq!(seg.dst, "198.51.100.7:443".parse::<SocketAddr>().unwrap());
    assert_eq!(seg.seq, SeqNum(1000));
    assert_eq!(seg.ack, Some(SeqNum(5000)));
    assert_eq!(seg.len, 5);
    assert_eq!(seg.ip.ttl, 61);
    assert_eq!(seg.checksum, Checksum::Valid);
}

#[test]
fn ethernet_ipv4() {
    assert_is_the_segment(decode(
        LinkType::Ethernet,
        &with_ethernet(0x0800, &ipv4_segment()),
        Captured::Whole,
    ));
}

#[test]
fn vlan_and_qinq() {
    let mut tagged = vec![0x00, 0x64, 0x08, 0x00];
    tagged.extend_from_slice(&ipv4_segment());
    assert_is_the_segment(decode(
        LinkType::Ethernet,
        &with_ethernet(0x8100, &tagged),
        Captured::Whole,
    ));
    let mut double = vec![0x00, 0x0a, 0x81, 0x00, 0x00, 0x64, 0x08, 0x00];
    double.extend_from_slice(&ipv4_segment());
    assert_is_the_segment(decode(
        LinkType::Ethernet,
        &with_ethernet(0x88a8, &double),
        Captured::Whole,
    ));
}

#[test]
fn raw_ip() {
    assert_is_the_segment(decode(LinkType::Raw, &ipv4_segment(), Captured::Whole));
}

#[test]
fn bsd_loopback_in_both_byte_orders() {
    let mut null = 2u32.to_le_bytes().to_vec();
    null.extend_from_slice(&ipv4_segment());
    assert_is_the_segment(decode(LinkType::Null, &null, Captured::Whole));
    let mut looped = 2u32.to_be_bytes().to_vec();
    looped.extend_from_slice(&ipv4_segment());
    assert_is_the_segment(decode(LinkType::Loop, &looped, Captured::Whole));
}

#[test]
fn linux_cooked_v1_and_v2() {
    let mut sll = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00];
    sll.extend_from_slice(&ipv4_segment());
    assert_is_the_segment(decode(LinkType::LinuxSll, &sll, Captured::Whole));
    let mut sll2 = vec![
        0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0,
    ];
    sll2.extend_from_slice(&ipv4_segment());
    assert_is_the_segment(decode(LinkType::LinuxSll2, &sll2, Captured::Whole));
}

#[test]
fn mpls_stack_of_two_labels() {
    let mut mpls = vec![0x00, 0x01, 0x00, 0x40, 0x00, 0x02, 0x01, 0x40];
    mpls.extend_from_slice(&ipv4_segment());
    assert_is_the_segment(decode(
        LinkType::Ethernet,
        &with_ethernet(0x8847, &mpls),
        Captured::Whole,
    ));
}

#[test]
fn pppoe_session() {
    let ip = ipv4_segment();
    let mut pppoe = vec![0x11, 0x00, 0x00, 0x01];
    pppoe.extend_from_slice(&((ip.len() + 2) as u16).to_be_bytes());
    pppoe.extend_from_slice(&[0x00, 0x21]);
    pppoe.extend_from_slice(&ip);
    assert_is_the_segment(decode(
        LinkType::Ethernet,
        &with_ethernet(0x8864, &pppoe),
        Captured::Whole,
    ));
}

#[test]
fn vxlan_inner_flow_is_tunneled() {
    let inner = with_ethernet(0x0800, &ipv4_segment());
    let mut vxlan = vec![0x08, 0, 0, 0, 0, 0, 42, 0];
    vxlan.extend_from_slice(&inner);
    let outer = PacketBuilder::ipv4([203, 0, 113, 1], [203, 0, 113, 2], 64).udp(40000, 4789);
    let mut packet = Vec::new();
    outer.write(&mut packet, &vxlan).unwrap();
    let decoded = decode(LinkType::Raw, &packet, Captured::Whole);
    assert!(matches!(&decoded, Decoded::Segment(seg) if seg.tunneled));
    assert_is_the_segment(decoded);
}

#[test]
fn gre_with_key_and_sequence() {
    let mut gre = vec![0x30, 0x00, 0x08, 0x00, 0, 0, 0, 7, 0, 0, 0, 1];
    gre.extend_from_slice(&ipv4_segment());
    let outer = PacketBuilder::ipv4([203, 0, 113, 1], [203, 0, 113, 2], 64);
    let mut packet = Vec::new();
    outer
        .write(&mut packet, etherparse::IpNumber::GRE, &gre)
        .unwrap();
    assert_is_the_segment(decode(LinkType::Raw, &packet, Captured::Whole));
}

/// Aruba's GRE protocol 0x8200 carries an 802.11 QoS data frame (26-byte MAC header), then
/// LLC/SNAP; an A-MSDU puts a 14-byte subframe header before the LLC; encrypted frames are
/// not TCP to a capture.
#[test]
fn aruba_gre_carries_802_11_frames() {
    let wlan = |fc: [u8; 2], qos0: u8, amsdu: bool| {
        let mut gre = vec![0x00, 0x00, 0x82, 0x00];
        gre.extend_from_slice(&fc);
        gre.extend_from_slice(&[0; 22]);
        gre.extend_from_slice(&[qos0, 0]);
        if amsdu {
            gre.extend_from_slice(&[0; 14]);
        }
        gre.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
        gre.extend_from_slice(&ipv4_segment());
        let mut packet = Vec::new();
        PacketBuilder::ipv4([203, 0, 113, 1], [203, 0, 113, 2], 64)
            .write(&mut packet, etherparse::IpNumber::GRE, &gre)
            .unwrap();
        decode(LinkType::Raw, &packet, Captured::Whole)
    };
    assert_is_the_segment(wlan([0x88, 0x01], 0, false));
    assert_is_the_segment(wlan([0x88, 0x01], 0x80, true));
    assert_eq!(
        wlan([0x88, 0x41], 0, false),
        Decoded::Skipped(Skip::NotTcp),
        "protected"
    );
}

#[test]
fn ipv6_hop_limit_and_no_ip_id() {
    let builder = PacketBuilder::ipv6(
        [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
        47,
    )
    .tcp(40000, 80, 7, 1000)
    .rst();
    let mut packet = Vec::new();
    builder.write(&mut packet, &[]).unwrap();
    let seg = segment(decode(
        LinkType::Ethernet,
        &with_ethernet(0x86dd, &packet),
        Captured::Whole,
    ));
    assert_eq!(seg.ip.ttl, 47);
    assert_eq!(seg.ip.ip_id, None);
    assert_eq!(seg.ip.flow_label, 0);
    // The 20-bit flow label sits after the version and traffic class (RFC 8200 §3).
    packet[1] |= 0x0a;
    packet[2] = 0xbc;
    packet[3] = 0xde;
    let labelled = segment(decode(
        LinkType::Ethernet,
        &with_ethernet(0x86dd, &packet),
        Captured::Whole,
    ));
    assert_eq!(labelled.ip.flow_label, 0xabcde);
    assert!(seg.flags.rst());
    assert_eq!(seg.ack, None);
}

#[test]
fn snaplen_cut_payload_keeps_the_true_length() {
    let packet = ipv4_segment();
    let cut = &packet[..40];
    let seg = segment(decode(LinkType::Raw, cut, Captured::Cut));
    assert_eq!(seg.len, 5);
    assert_eq!(seg.checksum, Checksum::Unverified);
}

#[test]
fn a_cut_tcp_header_is_truncated_and_not_tcp_is_not_tcp() {
    let packet = ipv4_segment();
    assert_eq!(
        decode(LinkType::Raw, &packet[..30], Captured::Cut),
        Decoded::Skipped(Skip::Truncated)
    );
    let arp = with_ethernet(0x0806, &[0; 28]);
    assert_eq!(
        decode(LinkType::Ethernet, &arp, Captured::Whole),
        Decoded::Skipped(Skip::NotTcp)
    );
}

#[test]
fn ip_lengths_that_lie_are_undecodable() {
    let mut short = ipv4_segment();
    short[2..4].copy_from_slice(&10u16.to_be_bytes());
    assert_eq!(
        decode(LinkType::Raw, &short, Captured::Whole),
        Decoded::Skipped(Skip::Undecodable)
    );
    let mut too_short_for_tcp = ipv4_segment();
    too_short_for_tcp[2..4].copy_from_slice(&30u16.to_be_bytes());
    assert_eq!(
        decode(LinkType::Raw, &too_short_for_tcp, Captured::Whole),
        Decoded::Skipped(Skip::Undecodable)
    );
    let mut too_long = ipv4_segment();
    too_long[2..4].copy_from_slice(&1500u16.to_be_bytes());
    assert_eq!(
        decode(LinkType::Raw, &too_long, Captured::Whole),
        Decoded::Skipped(Skip::Undecodable)
    );
    // The same claim on a frame the snap length cut is believed.
    assert_eq!(
        segment(decode(LinkType::Raw, &too_long, Captured::Cut)).len,
        1460
    );
}

#[test]
fn a_data_offset_below_five_is_undecodable() {
    let mut packet = ipv4_segment();
    packet[20 + 12] = 0x40;
    assert_eq!(
        decode(LinkType::Raw, &packet, Captured::Whole),
        Decoded::Skipped(Skip::Undecodable)
    );
}

#[test]
fn a_corrupted_checksum_is_bad_and_an_offloaded_one_is_recognised() {
    let mut packet = ipv4_segment();
    packet[20 + 16] ^= 0x55;
    assert_eq!(
        segment(decode(LinkType::Raw, &packet, Captured::Whole)).checksum,
        Checksum::Bad
    );
    let mut offloaded = ipv4_segment();
    offloaded[36] = 0;
    offloaded[37] = 0;
    assert_eq!(
        segment(decode(LinkType::Raw, &offloaded, Captured::Whole)).checksum,
        Checksum::Offloaded
    );
}

#[test]
fn options_are_read() {
    let builder = PacketBuilder::ipv4(CLIENT, SERVER, 64)
        .tcp(51514, 443, 1000, 64240)
        .syn()
        .options(&[
            etherparse::TcpOptionElement::MaximumSegmentSize(1460),
            etherparse::TcpOptionElement::WindowScale(7),
            etherparse::TcpOptionElement::SelectiveAcknowledgementPermitted,
            etherparse::TcpOptionElement::Timestamp(11, 22),
        ])
        .unwrap();
    let mut packet = Vec::new();
    builder.write(&mut packet, &[]).unwrap();
    let options = segment(decode(LinkType::Raw, &packet, Captured::Whole)).options;
    assert!(options.captured);
    assert_eq!(options.mss, Some(1460));
    assert_eq!(options.window_scale, Some(7));
    assert!(options.sack_permitted);
    assert_eq!(options.timestamps, Some((11, 22)));
}

const ALL_LINK_TYPES: [LinkType; 8] = [
    LinkType::Ethernet,
    LinkType::Null,
    LinkType::Loop,
    LinkType::Raw,
    LinkType::LinuxSll,
    LinkType::LinuxSll2,
    LinkType::Fddi,
    LinkType::Ppp,
];

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        for link_type in ALL_LINK_TYPES {
            let _ = decode(link_type, &bytes, Captured::Whole);
            let _ = decode(link_type, &bytes, Captured::Cut);
        }
    }

    #[test]
    fn any_prefix_of_a_real_frame_never_panics(cut in 0usize..80, flip in 0usize..80, bit in 0u8..8) {
        let mut frame = with_ethernet(0x0800, &ipv4_segment());
        if flip < frame.len() {
            frame[flip] ^= 1 << bit;
        }
        frame.truncate(cut.min(frame.len()));
        let _ = decode(LinkType::Ethernet, &frame, Captured::Whole);
        let _ = decode(LinkType::Ethernet, &frame, Captured::Cut);
    }
}
