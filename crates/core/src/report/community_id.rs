//! The Community ID of a TCP flow (version 1, seed 0), the flow hash Zeek, Suricata, Arkime
//! and Elastic log, so a reset found here can be found in their records.
//!
//! As the spec (corelight/community-id-spec, `community-id.py`) defines it: the two ends are
//! ordered so the smaller (address, port) comes first, then "1:" + base64(SHA-1(seed as a
//! 16-bit big-endian number, the first address, the second, the protocol (6), one zero byte of
//! padding, the first port and the second, both big-endian)). Addresses are the raw 4 or 16
//! bytes. The flow's addresses are hashed as the report carries them: when anonymising, the
//! anonymised ones, so the ID reveals nothing the report does not.

use std::net::{IpAddr, SocketAddr};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest, Sha1};

/// IANA's protocol number for TCP.
const TCP: u8 = 6;

/// The Community ID v1 (seed 0) of the TCP flow between `a` and `b`, either way round.
pub(crate) fn community_id(a: SocketAddr, b: SocketAddr) -> String {
    let (first, second) = if (a.ip(), a.port()) <= (b.ip(), b.port()) {
        (a, b)
    } else {
        (b, a)
    };
    let mut hasher = Sha1::new();
    hasher.update(0u16.to_be_bytes());
    for end in [first, second] {
        match end.ip() {
            IpAddr::V4(v4) => hasher.update(v4.octets()),
            IpAddr::V6(v6) => hasher.update(v6.octets()),
        }
    }
    hasher.update([TCP, 0]);
    hasher.update(first.port().to_be_bytes());
    hasher.update(second.port().to_be_bytes());
    format!("1:{}", STANDARD.encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(a: &str, b: &str) -> String {
        community_id(a.parse().unwrap(), b.parse().unwrap())
    }

    // What the reference implementation (the `communityid` Python package) gives; the whole
    // Zeek corpus is compared with it in tests/pivots.rs.
    #[test]
    fn either_way_round() {
        assert_eq!(
            id("128.232.110.120:34855", "66.35.250.204:80"),
            "1:LQU9qZlK+B5F3KDmev6m5PMibrg="
        );
        assert_eq!(
            id("66.35.250.204:80", "128.232.110.120:34855"),
            "1:LQU9qZlK+B5F3KDmev6m5PMibrg="
        );
    }

    #[test]
    fn ipv6() {
        assert_eq!(
            id(
                "[fe80::260:97ff:fe07:69ea]:2",
                "[fe80::200:86ff:fe05:80da]:1"
            ),
            "1:JETlgBm4LXP5CwobPGu4IYZF5Hs="
        );
    }

    #[test]
    fn the_same_address_orders_by_port() {
        assert_eq!(
            id("192.0.2.1:80", "192.0.2.1:1024"),
            id("192.0.2.1:1024", "192.0.2.1:80")
        );
    }
}
