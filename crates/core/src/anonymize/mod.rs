//! `--anonymize`: every address replaced consistently in every output. IP addresses go
//! through Crypto-PAn (prefix-preserving: two addresses that share an n-bit prefix still do,
//! so subnets and the hop structure stay readable), never into or out of a special range
//! (multicast, broadcast, loopback, private, documentation: `special`); link-layer addresses
//! are replaced by keyed pseudonyms; input files are renamed `input1.pcap`, ... The same key gives the same mapping in every run, so reports made on
//! different days can be compared.
//!
//! The pipeline anonymises each segment right after decoding, so flows, attribution texts and
//! every report see only anonymised addresses; an exported pcap is rewritten frame by frame
//! (`rewrite`), checksums fixed.

pub(crate) mod cryptopan;
pub(crate) mod rewrite;
pub(crate) mod special;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};

use crate::decode::{Neighbour, Segment};
use crate::link::LinkType;
use cryptopan::CryptoPan;

/// At most this many addresses are remembered; past it the memory starts over (the mapping is
/// a pure function of the key, so forgetting only costs time).
const CACHE_LIMIT: usize = 1 << 20;

/// The name an input goes by in an anonymised report (a file name says who made the capture,
/// where, and often which customer): `input1.pcap`, numbered from 1, its extension kept.
pub fn input_name(index: usize, path: &str) -> String {
    let extension = std::path::Path::new(path)
        .extension()
        .map(|ext| ext.to_string_lossy().to_string())
        .filter(|ext| ext.len() <= 8 && ext.chars().all(|c| c.is_ascii_alphanumeric()));
    match extension {
        Some(ext) => format!("input{}.{ext}", index + 1),
        None => format!("input{}", index + 1),
    }
}

/// The key of a run's anonymisation (its Debug form does not show it).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AnonymizeKey(pub [u8; 32]);

impl std::fmt::Debug for AnonymizeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AnonymizeKey(..)")
    }
}

/// The anonymiser for one run: Crypto-PAn under one key, with a cache (an address costs 32
/// to 128 AES blocks).
pub struct Anonymizer {
    pan: CryptoPan,
    cache: HashMap<IpAddr, IpAddr>,
}

impl Anonymizer {
    pub fn new(key: &AnonymizeKey) -> Anonymizer {
        Anonymizer {
            pan: CryptoPan::new(&key.0),
            cache: HashMap::new(),
        }
    }

    /// The anonymised address.
    pub fn ip(&mut self, addr: IpAddr) -> IpAddr {
        if let Some(&mapped) = self.cache.get(&addr) {
            return mapped;
        }
        if self.cache.len() >= CACHE_LIMIT {
            self.cache.clear();
        }
        let mapped = self.pan.anonymize_keeping(addr, special::kept_bits(addr));
        self.cache.insert(addr, mapped);
        mapped
    }

    /// A link-layer address: a keyed pseudonym, locally administered, unicast or multicast as
    /// the original was.
    pub fn mac(&mut self, mac: [u8; 6]) -> [u8; 6] {
        let mut as_ip = [0u8; 16];
        as_ip[10..16].copy_from_slice(&mac);
        let hashed = self.pan.anonymize(IpAddr::V6(Ipv6Addr::from(as_ip)));
        let IpAddr::V6(hashed) = hashed else {
            return mac;
        };
        let octets = hashed.octets();
        let mut out = [0u8; 6];
        out.copy_from_slice(&octets[10..16]);
        out[0] = (out[0] & 0xfc) | 0x02 | (mac[0] & 0x01);
        out
    }

    /// Anonymises a decoded segment's addresses, its link-layer source, and any address in the
    /// text a RST carries.
    pub fn segment(&mut self, segment: &mut Segment) {
        segment.src.set_ip(self.ip(segment.src.ip()));
        segment.dst.set_ip(self.ip(segment.dst.ip()));
        if let Some(mac) = &mut segment.link_src {
            mac.0 = self.mac(mac.0);
        }
        if let Some(payload) = &mut segment.rst_payload {
            let text = self.text(&String::from_utf8_lossy(payload));
            *payload = text.into_bytes().into_boxed_slice();
        }
    }

    /// Anonymises an address-to-link-address binding.
    pub fn neighbour(&mut self, neighbour: &mut Neighbour) {
        neighbour.ip = self.ip(neighbour.ip);
        neighbour.mac.0 = self.mac(neighbour.mac.0);
    }

    /// Rewrites a frame's addresses in place, checksums fixed.
    pub fn frame(&mut self, link_type: LinkType, frame: &mut [u8]) {
        let this = std::cell::RefCell::new(self);
        rewrite::rewrite_frame(
            link_type,
            frame,
            &mut |addr| this.borrow_mut().ip(addr),
            &mut |mac| this.borrow_mut().mac(mac),
        );
    }

    /// Text with every IPv4 or IPv6 address in it replaced (a command line, a file name).
    pub fn text(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut word = String::new();
        for c in text.chars() {
            if c.is_ascii_hexdigit() || c == '.' || c == ':' {
                word.push(c);
            } else {
                self.flush_word(&mut word, &mut out);
                out.push(c);
            }
        }
        self.flush_word(&mut word, &mut out);
        out
    }

    /// Appends `word`, anonymised when it is an address (or ends with ":port" on one).
    fn flush_word(&mut self, word: &mut String, out: &mut String) {
        let trimmed = word.trim_matches(|c| c == '.' || c == ':');
        let start = word.find(trimmed).unwrap_or(0);
        let (before, rest) = word.split_at(start);
        let (middle, after) = rest.split_at(trimmed.len());
        out.push_str(before);
        match middle.parse::<IpAddr>() {
            Ok(addr) => out.push_str(&self.ip(addr).to_string()),
            Err(_) => match middle
                .rsplit_once(':')
                .map(|(ip, port)| (ip.parse::<IpAddr>(), port))
            {
                Some((Ok(addr @ IpAddr::V4(_)), port)) if port.parse::<u16>().is_ok() => {
                    out.push_str(&format!("{}:{port}", self.ip(addr)));
                }
                _ => out.push_str(middle),
            },
        }
        out.push_str(after);
        word.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anonymizer() -> Anonymizer {
        Anonymizer::new(&AnonymizeKey([7u8; 32]))
    }

    #[test]
    fn addresses_in_text_are_replaced_and_the_rest_kept() {
        let mut anon = anonymizer();
        let mapped = anon.ip("192.0.2.10".parse().unwrap_or(IpAddr::from([0, 0, 0, 0])));
        let text =
            anon.text("rstscope capture eth0 host 192.0.2.10 and port 443 -w dump-192.0.2.10.pcap");
        assert!(!text.contains("192.0.2.10"), "{text}");
        assert!(
            text.contains(&format!("host {mapped} and port 443")),
            "{text}"
        );
        assert!(text.contains(&format!("dump-{mapped}.pcap")), "{text}");
        assert!(text.starts_with("rstscope capture eth0 host "), "{text}");
        let v6 = anon.text("[2001:db8::7]:443 deadbeef 1.5");
        assert!(
            !v6.contains("2001:db8::7") && v6.contains("deadbeef 1.5"),
            "{v6}"
        );
        let with_port = anon.text("to 198.51.100.7:8080.");
        assert!(
            !with_port.contains("198.51.100.7") && with_port.ends_with(":8080."),
            "{with_port}"
        );
    }

    #[test]
    fn link_addresses_stay_unicast_or_multicast() {
        let mut anon = anonymizer();
        let unicast = anon.mac([0, 0, 0x5e, 0, 0x53, 1]);
        let multicast = anon.mac([0x01, 0, 0x5e, 0, 0, 1]);
        assert_eq!(unicast[0] & 0x03, 0x02);
        assert_eq!(multicast[0] & 0x03, 0x03);
        assert_ne!(unicast, [0, 0, 0x5e, 0, 0x53, 1]);
        assert_eq!(anon.mac([0, 0, 0x5e, 0, 0x53, 1]), unicast, "consistent");
    }
}
