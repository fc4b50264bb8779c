//! Tunnels that carry TCP inside another packet: GRE (including PPTP's enhanced GRE and Aruba's
//! tunnelled 802.11 frames), and UDP
//! tunnels recognised by their well-known ports: VXLAN, Geneve, GRE-in-UDP, GTP-U, Teredo and
//! AYIYA. Cloud traffic mirroring arrives as VXLAN, so these are not exotic.

use super::link::be16;
use super::{Layer, Skip};

/// A GRE header (RFC 2784/2890, and version 1 from RFC 2637); what it carries comes next.
pub(super) fn gre(bytes: &[u8]) -> Layer<'_> {
    let (Some(flags), Some(protocol)) = (be16(bytes, 0), be16(bytes, 2)) else {
        return Layer::Done(Skip::Truncated);
    };
    let has = |bit: u16| flags & bit != 0;
    let (checksum, routing, key, sequence) = (has(0x8000), has(0x4000), has(0x2000), has(0x1000));
    let len = match flags & 0x0007 {
        0 if !routing => 4 + 4 * (usize::from(checksum) + usize::from(key) + usize::from(sequence)),
        // Enhanced GRE (PPTP): key always present, acknowledgment when the A bit is set.
        1 => 8 + 4 * (usize::from(sequence) + usize::from(has(0x0080))),
        _ => return Layer::Done(Skip::Undecodable),
    };
    let Some(rest) = bytes.get(len..) else {
        return Layer::Done(Skip::Truncated);
    };
    if protocol == 0x880b {
        return pptp_ppp(rest);
    }
    // Aruba controllers tunnel their access points' 802.11 frames in GRE, protocol types
    // 0x8200 to 0x8370 in steps of 16 (Wireshark's packet-gre.h, GRE_ARUBA_8200...).
    if (0x8200..=0x8370).contains(&protocol) && protocol % 0x10 == 0 {
        return super::link::ieee80211_data(rest);
    }
    Layer::EtherType(protocol, rest)
}

/// PPP inside enhanced GRE: optional address/control, then a 1- or 2-byte protocol.
fn pptp_ppp(bytes: &[u8]) -> Layer<'_> {
    let bytes = bytes.strip_prefix(&[0xff, 0x03]).unwrap_or(bytes);
    match bytes.first() {
        Some(&first) if first & 0x01 == 1 => Layer::Ppp(u16::from(first), &bytes[1..]),
        Some(_) => match (be16(bytes, 0), bytes.get(2..)) {
            (Some(protocol), Some(rest)) => Layer::Ppp(protocol, rest),
            _ => Layer::Done(Skip::Truncated),
        },
        None => Layer::Done(Skip::Truncated),
    }
}

/// A UDP datagram: the inner layer when a port names a tunnel, else None (plain UDP).
pub(super) fn udp(bytes: &[u8]) -> Option<Layer<'_>> {
    let (src, dst) = (be16(bytes, 0)?, be16(bytes, 2)?);
    let payload = bytes.get(8..)?;
    let is = |port: u16| src == port || dst == port;
    let inner = if is(4789) || is(8472) {
        vxlan(payload)
    } else if is(6081) {
        geneve(payload)
    } else if is(4754) {
        Some(gre(payload))
    } else if is(2152) {
        gtp_u(payload)
    } else if is(3544) {
        teredo(payload)
    } else if is(5072) {
        ayiya(payload)
    } else {
        teredo_by_shape(payload)
    }?;
    Some(inner)
}

/// Whether Wireshark, with its default preferences, follows a UDP tunnel into its payload: it
/// registers VXLAN on 4789 only (not Linux's old 8472), and its Teredo heuristic, which finds
/// Teredo on other ports than 3544, is off (`packet-vxlan.c`, `packet-teredo.c`:
/// `global_teredo_heur`). Checked with tshark 4.0.
pub(super) fn is_followed_by_wireshark(bytes: &[u8]) -> bool {
    let (Some(src), Some(dst)) = (be16(bytes, 0), be16(bytes, 2)) else {
        return false;
    };
    let is = |port: u16| src == port || dst == port;
    [4789, 6081, 4754, 2152, 3544, 5072].into_iter().any(is)
}

/// Teredo between a client and a relay runs on arbitrary ports; recognise it by its shape,
/// as Wireshark's heuristic does: a whole IPv6 packet to or from the Teredo prefix 2001::/32.
fn teredo_by_shape(bytes: &[u8]) -> Option<Layer<'_>> {
    let header = bytes.get(0..40)?;
    let payload_len = usize::from(u16::from_be_bytes([header[4], header[5]]));
    let is_teredo = |at: usize| header[at..at + 4] == [0x20, 0x01, 0x00, 0x00];
    if header[0] >> 4 == 6 && payload_len + 40 == bytes.len() && (is_teredo(8) || is_teredo(24)) {
        Some(Layer::Ip(bytes))
    } else {
        None
    }
}

/// VXLAN (RFC 7348): 8 bytes with the I flag set, then an Ethernet frame.
fn vxlan(bytes: &[u8]) -> Option<Layer<'_>> {
    if bytes.first()? & 0x08 == 0 {
        return None;
    }
    Some(Layer::Ethernet(bytes.get(8..)?))
}

/// Geneve (RFC 8926): 8 bytes plus options, then the EtherType-named payload.
fn geneve(bytes: &[u8]) -> Option<Layer<'_>> {
    let first = *bytes.first()?;
    if first >> 6 != 0 {
        return None;
    }
    let options_len = usize::from(first & 0x3f) * 4;
    let protocol = be16(bytes, 2)?;
    Some(Layer::EtherType(protocol, bytes.get(8 + options_len..)?))
}

/// GTP-U version 1 (3GPP TS 29.281): a T-PDU carries an IP packet after the header.
fn gtp_u(bytes: &[u8]) -> Option<Layer<'_>> {
    let flags = *bytes.first()?;
    if flags >> 5 != 1 || *bytes.get(1)? != 0xff {
        return None;
    }
    let mut len = if flags & 0x07 != 0 { 12 } else { 8 };
    if flags & 0x04 != 0 {
        let mut next_type = *bytes.get(11)?;
        // Bounded: each extension header is at least 4 bytes of a finite packet.
        while next_type != 0 {
            let units = usize::from(*bytes.get(len)?);
            if units == 0 {
                return Some(Layer::Done(Skip::Undecodable));
            }
            len += units * 4;
            next_type = *bytes.get(len - 1)?;
        }
    }
    ip_inside(bytes.get(len..)?)
}

/// Teredo (RFC 4380): optional authentication and origin indicators, then IPv6.
fn teredo(bytes: &[u8]) -> Option<Layer<'_>> {
    let mut rest = bytes;
    if be16(rest, 0)? == 0x0001 {
        let id_len = usize::from(*rest.get(2)?);
        let auth_len = usize::from(*rest.get(3)?);
        rest = rest.get(4 + id_len + auth_len + 9..)?;
    }
    if be16(rest, 0)? == 0x0000 {
        rest = rest.get(8..)?;
    }
    match rest.first()? >> 4 {
        6 => Some(Layer::Ip(rest)),
        _ => None,
    }
}

/// AYIYA: identity and signature lengths in the header, then the next header's packet.
fn ayiya(bytes: &[u8]) -> Option<Layer<'_>> {
    let id_len = 1usize << (bytes.first()? >> 4);
    let signature_len = usize::from(bytes.get(1)? >> 4) * 4;
    match *bytes.get(3)? {
        4 | 41 => ip_inside(bytes.get(8 + id_len + signature_len..)?),
        _ => None,
    }
}

fn ip_inside(bytes: &[u8]) -> Option<Layer<'_>> {
    match bytes.first()? >> 4 {
        4 | 6 => Some(Layer::Ip(bytes)),
        _ => None,
    }
}
