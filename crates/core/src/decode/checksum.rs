//! Internet checksums (RFC 1071) for IPv4 headers and TCP segments, and the offload test.
//!
//! A sending host that offloads checksums to its NIC hands the capture a segment whose checksum
//! field holds only the pseudo-header sum (Linux CHECKSUM_PARTIAL) or zero. Such a segment is
//! fine on the wire, so it is reported as [`Checksum::Offloaded`](super::Checksum), not bad.

use std::net::IpAddr;

use crate::wire::{fold, sum_words};

/// True when an IPv4 header's checksum is right (or zero, as some offloading stacks leave it).
pub(super) fn ipv4_header_ok(header: &[u8]) -> bool {
    let stored = header
        .get(10..12)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .unwrap_or(0);
    stored == 0 || fold(sum_words(header, 0)) == 0xffff
}

fn pseudo_header_sum(src: IpAddr, dst: IpAddr, tcp_len: usize) -> u64 {
    let mut sum = 0;
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            sum = sum_words(&s.octets(), sum);
            sum = sum_words(&d.octets(), sum);
        }
        (s, d) => {
            sum = sum_words(&to_v6_octets(s), sum);
            sum = sum_words(&to_v6_octets(d), sum);
        }
    }
    sum + 6 + tcp_len as u64
}

fn to_v6_octets(addr: IpAddr) -> [u8; 16] {
    match addr {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// The verdict on a complete TCP segment's checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TcpChecksum {
    Valid,
    Offloaded,
    Bad,
}

/// Checks a whole TCP segment (header and all payload) against its checksum field.
pub(super) fn check_tcp(src: IpAddr, dst: IpAddr, segment: &[u8]) -> TcpChecksum {
    let pseudo = pseudo_header_sum(src, dst, segment.len());
    if fold(sum_words(segment, pseudo)) == 0xffff {
        return TcpChecksum::Valid;
    }
    let stored = segment
        .get(16..18)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .unwrap_or(0);
    let partial = fold(pseudo);
    if stored == 0 || stored == partial || stored == !partial {
        TcpChecksum::Offloaded
    } else {
        TcpChecksum::Bad
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example_sums_right() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum (folded) to ddf2.
        let bytes = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum_words(&bytes, 0)), 0xddf2);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(fold(sum_words(&[0x12], 0)), 0x1200);
    }
}
