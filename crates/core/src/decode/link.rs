//! The link layer and what sits between it and IP: Ethernet, VLAN tags (802.1Q, QinQ), MPLS,
//! PPPoE, PBB (802.1ah), VN-Tag, Cisco FabricPath, LLC/SNAP, Linux cooked (SLL, SLL2), BSD
//! loopback, FDDI, PPP and raw IP. Each function reads one header and says what comes next.

use std::net::{IpAddr, Ipv4Addr};

use super::{Layer, Mac, Neighbour, Skip};
use crate::link::LinkType;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_ARP: u16 = 0x0806;

/// Reads two bytes at `at` as a big-endian number.
pub(super) fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    let pair = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([pair[0], pair[1]]))
}

/// `bytes[at..]`, or a truncation when the frame is shorter.
fn after(bytes: &[u8], at: usize) -> Result<&[u8], Skip> {
    bytes.get(at..).ok_or(Skip::Truncated)
}

fn next_or_truncated<'a>(result: Result<Layer<'a>, Skip>) -> Layer<'a> {
    result.unwrap_or_else(Layer::Done)
}

/// The first layer of a frame of the given link type.
pub(super) fn start(link_type: LinkType, data: &[u8]) -> Layer<'_> {
    next_or_truncated(match link_type {
        LinkType::Ethernet => Ok(Layer::Ethernet(data)),
        LinkType::Raw => Ok(Layer::Ip(data)),
        LinkType::Null => bsd_loopback(data, false),
        LinkType::Loop => bsd_loopback(data, true),
        LinkType::LinuxSll => linux_sll(data),
        LinkType::LinuxSll2 => linux_sll2(data),
        LinkType::Fddi => fddi(data),
        LinkType::Ppp => ppp_frame(data),
    })
}

/// BSD loopback: a 4-byte address family (host order for NULL, network order for LOOP).
fn bsd_loopback(data: &[u8], network_order: bool) -> Result<Layer<'_>, Skip> {
    let family = data.get(0..4).ok_or(Skip::Truncated)?;
    let word = [family[0], family[1], family[2], family[3]];
    let values = if network_order {
        [u32::from_be_bytes(word), u32::from_be_bytes(word)]
    } else {
        [u32::from_le_bytes(word), u32::from_be_bytes(word)]
    };
    // AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS).
    if values.iter().any(|v| matches!(v, 2 | 24 | 28 | 30)) {
        Ok(Layer::Ip(after(data, 4)?))
    } else {
        Err(Skip::NotTcp)
    }
}

/// Linux cooked capture v1: 16 bytes, the protocol (an EtherType) last.
fn linux_sll(data: &[u8]) -> Result<Layer<'_>, Skip> {
    let protocol = be16(data, 14).ok_or(Skip::Truncated)?;
    Ok(Layer::EtherType(protocol, after(data, 16)?))
}

/// The interface a frame was captured on, where the link header names it (Linux cooked v2:
/// the interface index, bytes 4-7).
pub(super) fn interface_index(link_type: LinkType, data: &[u8]) -> Option<u32> {
    if link_type != LinkType::LinuxSll2 {
        return None;
    }
    let bytes = data.get(4..8)?;
    Some(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

/// The frame's link-layer source address: Ethernet's source MAC, or the 6-byte address a Linux
/// cooked header (v1: bytes 4-13, v2: bytes 11-19) carries. Tunnelled frames keep the outer one.
pub(super) fn source_address(link_type: LinkType, data: &[u8]) -> Option<Mac> {
    let (length_at, address_at) = match link_type {
        LinkType::Ethernet => return mac_at(data, 6),
        // sll_halen (2 bytes, big-endian) then sll_addr (8 bytes).
        LinkType::LinuxSll => (5, 6),
        // sll2_halen (1 byte) then sll2_addr (8 bytes).
        LinkType::LinuxSll2 => (11, 12),
        _ => return None,
    };
    (data.get(length_at) == Some(&6))
        .then(|| mac_at(data, address_at))
        .flatten()
}

fn mac_at(data: &[u8], at: usize) -> Option<Mac> {
    let bytes: [u8; 6] = data.get(at..at + 6)?.try_into().ok()?;
    Some(Mac(bytes))
}

/// The sender of an ARP request or reply for IPv4 over Ethernet (RFC 826): which MAC the
/// sender's IP address uses. Probes (sender 0.0.0.0) and other hardware types say nothing.
pub(super) fn arp_sender(bytes: &[u8]) -> Option<Neighbour> {
    let header = bytes.get(0..8)?;
    if header != [0, 1, 8, 0, 6, 4, 0, 1] && header != [0, 1, 8, 0, 6, 4, 0, 2] {
        return None;
    }
    let mac = mac_at(bytes, 8)?;
    let ip: [u8; 4] = bytes.get(14..18)?.try_into().ok()?;
    let ip = Ipv4Addr::from(ip);
    (!ip.is_unspecified()).then_some(Neighbour {
        ip: IpAddr::V4(ip),
        mac,
    })
}

/// Linux cooked capture v2: 20 bytes, the protocol (an EtherType) first.
fn linux_sll2(data: &[u8]) -> Result<Layer<'_>, Skip> {
    let protocol = be16(data, 0).ok_or(Skip::Truncated)?;
    if data.len() < 20 {
        return Err(Skip::Truncated);
    }
    Ok(Layer::EtherType(protocol, after(data, 20)?))
}

/// FDDI: frame control, two MAC addresses, then 802.2 LLC.
fn fddi(data: &[u8]) -> Result<Layer<'_>, Skip> {
    llc(after(data, 13)?)
}

/// 802.2 LLC: only SNAP (AA AA 03) carries an EtherType; anything else is not IP.
fn llc(data: &[u8]) -> Result<Layer<'_>, Skip> {
    let header = data.get(0..8).ok_or(Skip::Truncated)?;
    if header[0..3] != [0xaa, 0xaa, 0x03] {
        return Err(Skip::NotTcp);
    }
    let ether_type = u16::from_be_bytes([header[6], header[7]]);
    Ok(Layer::EtherType(ether_type, after(data, 8)?))
}

/// An IEEE 802.11 data frame (as Aruba's GRE tunnels carry them): its MAC header, then LLC.
/// QoS data frames carry two more bytes, four-address frames six, an HT control field four; an
/// A-MSDU's first subframe is read. Encrypted frames and frames without data are not TCP here.
pub(super) fn ieee80211_data(bytes: &[u8]) -> Layer<'_> {
    next_or_truncated(wlan_payload(bytes))
}

fn wlan_payload(bytes: &[u8]) -> Result<Layer<'_>, Skip> {
    let (fc0, fc1) = match bytes.get(0..2) {
        Some(&[fc0, fc1]) => (fc0, fc1),
        _ => return Err(Skip::Truncated),
    };
    const DATA: u8 = 0x08;
    let is_data = fc0 & 0x0c == DATA;
    let carries_data = fc0 & 0x40 == 0;
    let protected = fc1 & 0x40 != 0;
    if !is_data || !carries_data || protected {
        return Err(Skip::NotTcp);
    }
    let qos = fc0 & 0x80 != 0;
    let four_addresses = fc1 & 0x03 == 0x03;
    let ht_control = qos && fc1 & 0x80 != 0;
    let mut len = 24;
    if four_addresses {
        len += 6;
    }
    let amsdu = qos && bytes.get(len).ok_or(Skip::Truncated)? & 0x80 != 0;
    if qos {
        len += 2;
    }
    if ht_control {
        len += 4;
    }
    // An A-MSDU subframe: destination, source and length before its LLC header.
    if amsdu {
        len += 14;
    }
    llc(after(bytes, len)?)
}

/// A PPP frame as DLT_PPP stores it: optional address/control bytes, then the protocol.
fn ppp_frame(data: &[u8]) -> Result<Layer<'_>, Skip> {
    let data = if data.starts_with(&[0xff, 0x03]) {
        after(data, 2)?
    } else {
        data
    };
    let protocol = be16(data, 0).ok_or(Skip::Truncated)?;
    Ok(Layer::Ppp(protocol, after(data, 2)?))
}

/// An Ethernet II or 802.3 header.
pub(super) fn ethernet(bytes: &[u8]) -> Layer<'_> {
    let Some(type_or_len) = be16(bytes, 12) else {
        return Layer::Done(Skip::Truncated);
    };
    next_or_truncated(after(bytes, 14).and_then(|rest| {
        if type_or_len <= 1500 {
            llc(rest)
        } else {
            Ok(Layer::EtherType(type_or_len, rest))
        }
    }))
}

/// The payload of an EtherType: IP, a tag to strip, or an encapsulated frame.
pub(super) fn ether_type(ether_type: u16, bytes: &[u8]) -> Layer<'_> {
    next_or_truncated(ether_type_payload(ether_type, bytes))
}

fn ether_type_payload(ether_type: u16, bytes: &[u8]) -> Result<Layer<'_>, Skip> {
    match ether_type {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => Ok(Layer::Ip(bytes)),
        ETHERTYPE_ARP => Ok(Layer::Arp(bytes)),
        // 802.1Q, 802.1ad (QinQ) and the older QinQ types: TCI, then the next EtherType.
        0x8100 | 0x88a8 | 0x9100 | 0x9200 | 0x9300 => tag(bytes, 2, 4),
        // VN-Tag: 4 bytes of tag, then the next EtherType.
        0x8926 => tag(bytes, 4, 6),
        0x8847 | 0x8848 => mpls(bytes),
        // PPPoE session stage: 6 bytes of header, then the PPP protocol.
        0x8864 => be16(bytes, 6)
            .ok_or(Skip::Truncated)
            .and_then(|protocol| Ok(Layer::Ppp(protocol, after(bytes, 8)?))),
        // PBB (802.1ah): a 4-byte I-TAG, then the customer's Ethernet frame.
        0x88e7 => Ok(Layer::Ethernet(after(bytes, 4)?)),
        // Cisco FabricPath: FTag and TTL, then the inner Ethernet frame.
        0x8903 => Ok(Layer::Ethernet(after(bytes, 2)?)),
        // Transparent Ethernet bridging (GRE, Geneve): a whole Ethernet frame.
        0x6558 => Ok(Layer::Ethernet(bytes)),
        // ERSPAN type II: an 8-byte header, then the mirrored frame.
        0x88be => Ok(Layer::Ethernet(after(bytes, 8)?)),
        // ERSPAN type III: 12 bytes, plus 8 of platform subheader when the O bit is set.
        0x22eb => erspan3(bytes),
        _ => Err(Skip::NotTcp),
    }
}

fn tag(bytes: &[u8], type_at: usize, len: usize) -> Result<Layer<'_>, Skip> {
    let next = be16(bytes, type_at).ok_or(Skip::Truncated)?;
    Ok(Layer::EtherType(next, after(bytes, len)?))
}

fn erspan3(bytes: &[u8]) -> Result<Layer<'_>, Skip> {
    let flags = *bytes.get(11).ok_or(Skip::Truncated)?;
    let len = if flags & 0x01 != 0 { 20 } else { 12 };
    Ok(Layer::Ethernet(after(bytes, len)?))
}

/// An MPLS label stack; after the bottom label, guess the payload from its first nibble.
fn mpls(bytes: &[u8]) -> Result<Layer<'_>, Skip> {
    let mut rest = bytes;
    loop {
        let label = rest.get(0..4).ok_or(Skip::Truncated)?;
        let bottom = label[2] & 0x01 != 0;
        rest = after(rest, 4)?;
        if bottom {
            break;
        }
    }
    match rest.first().map(|b| b >> 4) {
        Some(4) | Some(6) => Ok(Layer::Ip(rest)),
        // A pseudowire control word (first nibble 0), then an Ethernet frame.
        Some(0) => Ok(Layer::Ethernet(after(rest, 4)?)),
        Some(_) => Ok(Layer::Ethernet(rest)),
        None => Err(Skip::Truncated),
    }
}

/// A PPP payload: IPv4, IPv6 or MPLS; anything else (LCP, IPCP, ...) is not TCP.
pub(super) fn ppp(protocol: u16, bytes: &[u8]) -> Layer<'_> {
    match protocol {
        0x0021 | 0x0057 => Layer::Ip(bytes),
        0x0281 => next_or_truncated(mpls(bytes)),
        _ => Layer::Done(Skip::NotTcp),
    }
}
