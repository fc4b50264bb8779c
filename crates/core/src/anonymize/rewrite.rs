//! Rewriting a captured frame in place for an anonymised export: every IP header's addresses
//! (tunnels included) go through the anonymiser, the IPv4 header checksum is recomputed, and
//! the TCP or UDP checksum that covers those addresses is corrected incrementally (RFC 1624),
//! which stays right even when the snap length cut the payload. Link-layer addresses
//! (Ethernet, Linux cooked) are replaced too, and the TCP payload is blanked (zeros, its length
//! kept, the checksum corrected): payloads carry addresses and names of their own (a Host
//! header, a certificate) that no header rewrite reaches.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::decode::ip_header_offsets;
use crate::link::LinkType;
use crate::wire;

const TCP: u8 = 6;
const UDP: u8 = 17;

/// Rewrites the addresses of one frame with `ip` (IP addresses) and `mac` (6-byte link
/// addresses).
pub fn rewrite_frame(
    link_type: LinkType,
    frame: &mut [u8],
    ip: &mut dyn FnMut(IpAddr) -> IpAddr,
    mac: &mut dyn FnMut([u8; 6]) -> [u8; 6],
) {
    let mut innermost = None;
    for offset in ip_header_offsets(link_type, frame) {
        if let Some(header) = frame.get_mut(offset..) {
            innermost = rewrite_ip(header, ip).map(|(protocol, l4)| (protocol, offset + l4));
        }
    }
    if let Some((TCP, l4)) = innermost
        && let Some(segment) = frame.get_mut(l4..)
    {
        blank_tcp_payload(segment);
    }
    rewrite_link(link_type, frame, mac);
}

/// Zeros the TCP payload of a frame (its innermost TCP segment, inside any tunnel), addresses
/// unchanged, lengths kept and checksums corrected: `--flow` exports carry the evidence, not
/// the data.
pub(crate) fn blank_frame_payload(link_type: LinkType, frame: &mut [u8]) {
    rewrite_frame(link_type, frame, &mut |addr| addr, &mut |mac| mac);
}

/// Zeros the captured payload of a TCP segment, correcting its checksum (the payload starts
/// on a 16-bit boundary of the segment, as the header is a multiple of 4 bytes long).
fn blank_tcp_payload(segment: &mut [u8]) {
    let Some(&offset_byte) = segment.get(12) else {
        return;
    };
    let header_len = usize::from(offset_byte >> 4) * 4;
    if header_len < 20 || segment.len() <= header_len {
        return;
    }
    let checksum = u16::from_be_bytes([segment[16], segment[17]]);
    // The payload's words become zeros, which add nothing to a sum.
    let blanked = wire::updated(checksum, &segment[header_len..], &[]);
    segment[16..18].copy_from_slice(&blanked.to_be_bytes());
    segment[header_len..].fill(0);
}

/// The link header's own addresses.
fn rewrite_link(link_type: LinkType, frame: &mut [u8], mac: &mut dyn FnMut([u8; 6]) -> [u8; 6]) {
    let at: &[usize] = match link_type {
        // Destination, then source.
        LinkType::Ethernet => &[0, 6],
        // SLL: the sender's address at 6 (length at 4); SLL2: at 12 (length at 11).
        LinkType::LinuxSll => &[6],
        LinkType::LinuxSll2 => &[12],
        _ => &[],
    };
    for &start in at {
        if let Some(bytes) = frame.get_mut(start..start + 6) {
            let mut old = [0u8; 6];
            old.copy_from_slice(bytes);
            bytes.copy_from_slice(&mac(old));
        }
    }
}

/// One IP header and the checksum of the TCP or UDP header after it; returns the upper
/// protocol and where its header starts.
fn rewrite_ip(packet: &mut [u8], map: &mut dyn FnMut(IpAddr) -> IpAddr) -> Option<(u8, usize)> {
    match packet.first().map(|b| b >> 4) {
        Some(4) => rewrite_ipv4(packet, map),
        Some(6) => rewrite_ipv6(packet, map),
        _ => None,
    }
}

fn rewrite_ipv4(packet: &mut [u8], map: &mut dyn FnMut(IpAddr) -> IpAddr) -> Option<(u8, usize)> {
    let header_len = usize::from(packet[0] & 0x0f) * 4;
    if header_len < 20 || packet.len() < 20 {
        return None;
    }
    let old: [u8; 8] = array(&packet[12..20]);
    let mut new = old;
    for at in [0, 4] {
        let addr = Ipv4Addr::from(array::<4>(&old[at..at + 4]));
        if let IpAddr::V4(mapped) = map(IpAddr::V4(addr)) {
            new[at..at + 4].copy_from_slice(&mapped.octets());
        }
    }
    packet[12..20].copy_from_slice(&new);
    if packet.len() >= header_len {
        packet[10..12].copy_from_slice(&[0, 0]);
        let sum = !wire::fold(wire::sum_words(&packet[..header_len], 0));
        packet[10..12].copy_from_slice(&sum.to_be_bytes());
    }
    let protocol = packet[9];
    let fragment_offset = u16::from_be_bytes([packet[6], packet[7]]) & 0x1fff;
    if fragment_offset != 0 {
        return None;
    }
    let l4 = packet.get_mut(header_len..)?;
    if protocol == UDP {
        // A tunnel's UDP checksum also covers the inner packet, whose payload is blanked:
        // IPv4 allows none at all.
        if let Some(field) = l4.get_mut(6..8) {
            field.copy_from_slice(&[0, 0]);
        }
    } else {
        fix_l4_checksum(l4, protocol, &old, &new);
    }
    Some((protocol, header_len))
}

fn rewrite_ipv6(packet: &mut [u8], map: &mut dyn FnMut(IpAddr) -> IpAddr) -> Option<(u8, usize)> {
    if packet.len() < 40 {
        return None;
    }
    let old: [u8; 32] = array(&packet[8..40]);
    let mut new = old;
    for at in [0, 16] {
        let addr = Ipv6Addr::from(array::<16>(&old[at..at + 16]));
        if let IpAddr::V6(mapped) = map(IpAddr::V6(addr)) {
            new[at..at + 16].copy_from_slice(&mapped.octets());
        }
    }
    packet[8..40].copy_from_slice(&new);
    let (protocol, l4) = upper_layer(packet)?;
    // Extension lengths come from the capture: the upper layer may lie past the frame.
    fix_l4_checksum(packet.get_mut(l4..)?, protocol, &old, &new);
    Some((protocol, l4))
}

/// The upper-layer protocol of an IPv6 packet and where it starts, past the extension
/// headers (none for a non-first fragment).
fn upper_layer(packet: &[u8]) -> Option<(u8, usize)> {
    let mut next = packet[6];
    let mut at = 40;
    for _ in 0..8 {
        match next {
            // Hop-by-hop, routing, destination options: length in 8-byte units after the first 8.
            0 | 43 | 60 => {
                let header = packet.get(at..at + 2)?;
                next = header[0];
                at += (usize::from(header[1]) + 1) * 8;
            }
            // Fragment: fixed 8 bytes; only the first fragment carries the upper header.
            44 => {
                let header = packet.get(at..at + 4)?;
                if u16::from_be_bytes([header[2], header[3]]) >> 3 != 0 {
                    return None;
                }
                next = header[0];
                at += 8;
            }
            _ => return Some((next, at)),
        }
    }
    None
}

/// Corrects a TCP or UDP checksum for the changed pseudo-header addresses (RFC 1624:
/// HC' = ~(~HC + ~m + m')).
fn fix_l4_checksum(l4: &mut [u8], protocol: u8, old: &[u8], new: &[u8]) {
    let at = match protocol {
        TCP => 16,
        UDP => 6,
        _ => return,
    };
    let Some(field) = l4.get_mut(at..at + 2) else {
        return;
    };
    let checksum = u16::from_be_bytes([field[0], field[1]]);
    if protocol == UDP && checksum == 0 {
        // No checksum (IPv4 UDP, or a tunnel's zero checksum): nothing to correct.
        return;
    }
    let mut updated = wire::updated(checksum, old, new);
    if protocol == UDP && updated == 0 {
        updated = 0xffff;
    }
    field.copy_from_slice(&updated.to_be_bytes());
}

fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[..N]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{Checksum, Decoded, decode};

    /// An Ethernet frame with an IPv4 TCP segment (valid checksums), by etherparse.
    fn ipv4_frame() -> Vec<u8> {
        let builder = etherparse::PacketBuilder::ethernet2(
            [0, 0, 0x5e, 0, 0x53, 1],
            [0, 0, 0x5e, 0, 0x53, 2],
        )
        .ipv4([192, 0, 2, 10], [198, 51, 100, 7], 64)
        .tcp(51514, 443, 1000, 65535)
        .ack(2000)
        .psh();
        let payload = b"GET / HTTP/1.1\r\n\r\n";
        let mut frame = Vec::new();
        builder
            .write(&mut frame, payload)
            .unwrap_or_else(|e| panic!("{e}"));
        frame
    }

    fn ipv6_frame() -> Vec<u8> {
        let builder = etherparse::PacketBuilder::ethernet2(
            [0, 0, 0x5e, 0, 0x53, 1],
            [0, 0, 0x5e, 0, 0x53, 2],
        )
        .ipv6(
            [
                0x20, 0x01, 0x0d, 0xb8, 0, 0xc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
            ],
            [0x20, 0x01, 0x0d, 0xb8, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7],
            64,
        )
        .tcp(51514, 443, 1000, 65535)
        .rst();
        let mut frame = Vec::new();
        builder
            .write(&mut frame, &[])
            .unwrap_or_else(|e| panic!("{e}"));
        frame
    }

    fn flip_ip(addr: IpAddr) -> IpAddr {
        match addr {
            IpAddr::V4(v4) => IpAddr::V4(Ipv4Addr::from(!u32::from(v4))),
            IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(!u128::from(v6))),
        }
    }

    fn segment_of(frame: &[u8]) -> crate::decode::Segment {
        match decode(LinkType::Ethernet, frame, crate::decode::Captured::Whole) {
            Decoded::Segment(segment) => segment,
            other => panic!("not a segment: {other:?}"),
        }
    }

    #[test]
    fn rewritten_frames_keep_valid_checksums() {
        for mut frame in [ipv4_frame(), ipv6_frame()] {
            let before = segment_of(&frame);
            assert_eq!(before.checksum, Checksum::Valid);
            rewrite_frame(LinkType::Ethernet, &mut frame, &mut flip_ip, &mut |m| {
                m.map(|b| !b)
            });
            let after = segment_of(&frame);
            assert_eq!(after.src.ip(), flip_ip(before.src.ip()));
            assert_eq!(after.dst.ip(), flip_ip(before.dst.ip()));
            assert_eq!(after.src.port(), before.src.port());
            assert_eq!(after.checksum, Checksum::Valid, "checksums fixed");
            assert_eq!(after.len, before.len, "payload length kept");
            assert!(!frame.windows(3).any(|w| w == b"GET"), "payload blanked");
            assert_eq!(frame[0..6], [0, 0, 0x5e, 0, 0x53, 2].map(|b: u8| !b));
        }
    }

    #[test]
    fn a_cut_frame_still_gets_a_correct_checksum() {
        let whole = ipv4_frame();
        let cut_at = whole.len() - 5;
        let mut cut = whole[..cut_at].to_vec();
        rewrite_frame(LinkType::Ethernet, &mut cut, &mut flip_ip, &mut |m| m);
        // The bytes the snap length dropped still count in the checksum: put them back and
        // the segment checks out.
        cut.extend_from_slice(&whole[cut_at..]);
        assert_eq!(segment_of(&cut).checksum, Checksum::Valid);
    }
}
