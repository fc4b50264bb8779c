//! Special address ranges an anonymised address must never land in (and never leave): a host
//! on the Internet must not become a multicast group, a broadcast, a loopback or a private
//! address, nor a private host a public one, or the report would tell a false story.
//!
//! Crypto-PAn flips bit `i` of an address by a pseudorandom function of its first `i` bits.
//! Not flipping the bits on the path to a range (every bit whose prefix so far is a proper
//! prefix of the range) maps the range onto itself; as the mapping stays one-to-one and
//! prefix-preserving, every other address then stays outside it. A subnet's own network and
//! broadcast addresses (`.0`, `.255` in a /24) are not kept: the capture does not say how long
//! a prefix is, and keeping every path to them would leave low and high host numbers little
//! to hide behind.
//!
//! The ranges are IANA's special-purpose registries (RFC 6890 and its updates) plus multicast.

use std::net::IpAddr;

/// IPv4 ranges kept, as (address, prefix length).
const V4: [([u8; 4], u32); 17] = [
    ([0, 0, 0, 0], 32),         // unspecified
    ([0, 0, 0, 0], 8),          // "this network"
    ([10, 0, 0, 0], 8),         // private (RFC 1918)
    ([100, 64, 0, 0], 10),      // shared address space (carrier-grade NAT)
    ([127, 0, 0, 0], 8),        // loopback
    ([169, 254, 0, 0], 16),     // link-local
    ([172, 16, 0, 0], 12),      // private
    ([192, 0, 0, 0], 24),       // IETF protocol assignments
    ([192, 0, 2, 0], 24),       // documentation (TEST-NET-1)
    ([192, 88, 99, 0], 24),     // 6to4 relay anycast
    ([192, 168, 0, 0], 16),     // private
    ([198, 18, 0, 0], 15),      // benchmarking
    ([198, 51, 100, 0], 24),    // documentation (TEST-NET-2)
    ([203, 0, 113, 0], 24),     // documentation (TEST-NET-3)
    ([224, 0, 0, 0], 4),        // multicast
    ([240, 0, 0, 0], 4),        // reserved
    ([255, 255, 255, 255], 32), // the limited broadcast
];

/// IPv6 ranges kept.
const V6: [(u128, u32); 15] = [
    (0, 128),                     // unspecified
    (1, 128),                     // loopback
    (0xffff_0000_0000, 96),       // IPv4-mapped (::ffff:0:0/96)
    (0x0064_ff9b << 96, 96),      // IPv4/IPv6 translation
    (0x0064_ff9b_0001 << 80, 48), // local-use translation
    (0x0100 << 112, 64),          // discard-only
    (0x2001 << 112, 23),          // IETF protocol assignments
    (0x2001_0db8 << 96, 32),      // documentation
    (0x2002 << 112, 16),          // 6to4
    (0x3fff << 112, 20),          // documentation (RFC 9637)
    (0xfc00 << 112, 7),           // unique local
    (0xfe80 << 112, 10),          // link-local
    (0xfec0 << 112, 10),          // site-local (deprecated)
    (0xff00 << 112, 8),           // multicast
    (0x5f00 << 112, 16),          // segment routing SIDs (RFC 9602)
];

/// The bits of `addr` (left-aligned in a u128, bit 0 the most significant) whose flip must be
/// skipped so that the special ranges map onto themselves.
pub(crate) fn kept_bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(v4) => {
            let bits = u128::from(v4.to_bits()) << 96;
            V4.iter().fold(0, |kept, &(net, len)| {
                let net = u128::from(u32::from_be_bytes(net)) << 96;
                kept | on_path(bits, net, len)
            })
        }
        IpAddr::V6(v6) => {
            let bits = v6.to_bits();
            V6.iter()
                .fold(0, |kept, &(net, len)| kept | on_path(bits, net, len))
        }
    }
}

/// The positions up to where `bits` leaves the path to the range `net`/`len`: bit `i` is on
/// the path when the first `i` bits of `bits` are a proper prefix of the range.
fn on_path(bits: u128, net: u128, len: u32) -> u128 {
    let common = (bits ^ net).leading_zeros();
    let end = (common + 1).min(len);
    u128::MAX.checked_shl(128 - end).unwrap_or(0)
}

/// True when `addr` is in one of the special ranges.
#[cfg(test)]
pub(crate) fn is_special(addr: IpAddr) -> bool {
    let within = |bits: u128, net: u128, len: u32| (bits ^ net).leading_zeros() >= len;
    match addr {
        IpAddr::V4(v4) => {
            let bits = u128::from(v4.to_bits()) << 96;
            V4.iter()
                .any(|&(net, len)| within(bits, u128::from(u32::from_be_bytes(net)) << 96, len))
        }
        IpAddr::V6(v6) => V6.iter().any(|&(net, len)| within(v6.to_bits(), net, len)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anonymize::cryptopan::CryptoPan;
    use std::net::{Ipv4Addr, Ipv6Addr};

    /// SplitMix64, so a failure reproduces.
    fn next(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn anonymize(pan: &CryptoPan, addr: IpAddr) -> IpAddr {
        pan.anonymize_keeping(addr, kept_bits(addr))
    }

    /// Ordinary addresses stay ordinary and special ones stay in their own range, for many
    /// keys and addresses of both families; two addresses keep their common prefix length.
    #[test]
    fn no_address_moves_into_or_out_of_a_special_range() {
        let mut state = 7;
        for _ in 0..16 {
            let mut key = [0u8; 32];
            for chunk in key.chunks_mut(8) {
                chunk.copy_from_slice(&next(&mut state).to_be_bytes());
            }
            let pan = CryptoPan::new(&key);
            for _ in 0..400 {
                let v4 = Ipv4Addr::from_bits(next(&mut state) as u32);
                let v6 = Ipv6Addr::from_bits(
                    (u128::from(next(&mut state)) << 64) | u128::from(next(&mut state)),
                );
                for addr in [IpAddr::V4(v4), IpAddr::V6(v6)] {
                    let anon = anonymize(&pan, addr);
                    assert_eq!(is_special(anon), is_special(addr), "{addr} -> {anon}");
                }
            }
            for special in [
                "10.1.2.3",
                "224.0.0.251",
                "255.255.255.255",
                "192.0.2.10",
                "ff02::1",
                "fe80::1",
                "::1",
            ] {
                let addr: IpAddr = special.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
                let anon = anonymize(&pan, addr);
                assert!(is_special(anon), "{addr} -> {anon}");
                // Loopback, the limited broadcast and multicast groups keep their meaning.
                if special == "255.255.255.255" || special == "::1" {
                    assert_eq!(anon, addr);
                }
                if special.starts_with("224.") {
                    assert!(anon.is_multicast(), "{addr} -> {anon}");
                }
            }
            let (a, b) = (Ipv4Addr::new(8, 8, 8, 8), Ipv4Addr::new(8, 8, 4, 4));
            let (x, y) = (anonymize(&pan, a.into()), anonymize(&pan, b.into()));
            if let (IpAddr::V4(x), IpAddr::V4(y)) = (x, y) {
                let common = (a.to_bits() ^ b.to_bits()).leading_zeros();
                assert_eq!((x.to_bits() ^ y.to_bits()).leading_zeros(), common);
            }
        }
    }

    /// Still one-to-one: a /20 maps onto a /20.
    #[test]
    fn one_to_one_on_a_subnet() {
        let pan = CryptoPan::new(&[3; 32]);
        let base = Ipv4Addr::new(81, 20, 0, 0).to_bits();
        let mut seen: Vec<u32> = (0..1u32 << 12)
            .filter_map(
                |i| match anonymize(&pan, Ipv4Addr::from_bits(base | i).into()) {
                    IpAddr::V4(v4) => Some(v4.to_bits()),
                    IpAddr::V6(_) => None,
                },
            )
            .collect();
        let prefix = seen[0] >> 12;
        assert!(seen.iter().all(|a| a >> 12 == prefix));
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 1 << 12);
    }

    #[test]
    fn the_path_to_a_range_is_kept_and_nothing_else() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        // Inside 10/8 all 8 bits are on the path; what follows is free.
        let kept = kept_bits(ip("10.1.2.3"));
        assert_eq!(kept >> 96, 0xff00_0000);
        // 8.8.8.8 (00001000) leaves 0/8 at bit 4 and 10/8 (00001010) at bit 6: bits 0-6 kept.
        let kept = kept_bits(ip("8.8.8.8"));
        assert_eq!((kept >> 96) as u32 >> 24, 0b1111_1110);
    }
}
