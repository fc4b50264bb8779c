//! Crypto-PAn: prefix-preserving IP address anonymisation.
//!
//! Hand-written: the one Rust implementation found (cryptoPAn-rs) has OpenSSL as its only
//! backend, a C library rstscope would otherwise not link; the AES block cipher comes from a
//! crate (`aes`), and the reference vectors of the original distribution test the rest below.
//!
//! Crypto-PAn (Xu, Fan, Ammar and Moon, "Prefix-Preserving IP Address
//! Anonymization: Measurement-based Security Evaluation and a New
//! Cryptography-based Scheme", ICNP 2002) maps every address one-to-one to a
//! pseudonym such that two addresses sharing exactly a k-bit prefix map to two
//! pseudonyms sharing exactly a k-bit prefix. Subnet structure survives, the
//! addresses themselves do not, and the same key gives the same mapping in every
//! run, so separately anonymised captures stay comparable.
//!
//! The construction follows the reference C++ implementation (`panonymizer.cpp`,
//! Crypto-PAn 1.0 by Jinliang Fan): the 32-byte key is an AES-128 key (bytes
//! 0..16) and a pad, `AES(bytes 16..32)`. Bit `i` of a one-time pad is the most
//! significant bit of `AES(first i bits of the address ‖ pad bits i..128)`, and
//! the pseudonym is the address XOR that one-time pad. IPv6 uses the same
//! construction over 128 bits, as the Go (`Yawning/cryptopan`), Python
//! (`yacryptopan`) and Node (`node-cryptopan`) implementations do, so results
//! agree with theirs. An IPv4-mapped IPv6 address is anonymised as IPv6.

use std::fmt;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use aes::Aes128;
use aes::cipher::{BlockEncrypt, KeyInit};

/// A Crypto-PAn anonymiser: an AES-128 key schedule and the encrypted pad.
#[derive(Clone)]
pub(crate) struct CryptoPan {
    cipher: Aes128,
    /// `AES(key[16..32])`, big-endian.
    pad: u128,
}

impl fmt::Debug for CryptoPan {
    /// Shows nothing of the key or the pad.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CryptoPan").finish_non_exhaustive()
    }
}

impl CryptoPan {
    /// Builds the anonymiser from a 32-byte key: bytes 0..16 are the AES-128
    /// key, bytes 16..32 encrypted with it are the pad.
    pub(crate) fn new(key: &[u8; 32]) -> CryptoPan {
        let (aes_key, pad_plain) = key.split_at(16);
        let cipher = Aes128::new(aes::Block::from_slice(aes_key));
        let mut pad = *aes::Block::from_slice(pad_plain);
        cipher.encrypt_block(&mut pad);
        CryptoPan {
            cipher,
            pad: u128::from_be_bytes(pad.into()),
        }
    }

    /// Anonymises an IPv4 address exactly as the reference implementation does.
    pub(crate) fn anonymize_v4(&self, addr: Ipv4Addr) -> Ipv4Addr {
        let orig = u128::from(addr.to_bits()) << 96;
        let anon = orig ^ self.one_time_pad::<32>(orig);
        // The low 96 bits of `anon` are zero: only the first 32 bits are kept.
        Ipv4Addr::from_bits((anon >> 96) as u32)
    }

    /// Anonymises an IPv6 address with the same construction over 128 bits.
    pub(crate) fn anonymize_v6(&self, addr: Ipv6Addr) -> Ipv6Addr {
        let orig = addr.to_bits();
        Ipv6Addr::from_bits(orig ^ self.one_time_pad::<128>(orig))
    }

    /// Anonymises `addr` without flipping the bits set in `kept` (left-aligned, as
    /// `special::kept_bits` gives them): still one-to-one and prefix-preserving.
    pub(crate) fn anonymize_keeping(&self, addr: IpAddr, kept: u128) -> IpAddr {
        match addr {
            IpAddr::V4(v4) => {
                let orig = u128::from(v4.to_bits()) << 96;
                let anon = orig ^ (self.one_time_pad::<32>(orig) & !kept);
                IpAddr::V4(Ipv4Addr::from_bits((anon >> 96) as u32))
            }
            IpAddr::V6(v6) => {
                let orig = v6.to_bits();
                IpAddr::V6(Ipv6Addr::from_bits(
                    orig ^ (self.one_time_pad::<128>(orig) & !kept),
                ))
            }
        }
    }

    /// Anonymises an address of either family; the family is kept.
    pub(crate) fn anonymize(&self, addr: IpAddr) -> IpAddr {
        match addr {
            IpAddr::V4(v4) => IpAddr::V4(self.anonymize_v4(v4)),
            IpAddr::V6(v6) => IpAddr::V6(self.anonymize_v6(v6)),
        }
    }

    /// The first `BITS` bits of the one-time pad for `addr` (left-aligned in a
    /// `u128`; the remaining bits are zero).
    ///
    /// Bit `pos` is the top bit of `AES(addr's first pos bits ‖ pad's other bits)`.
    /// The `BITS` inputs do not depend on each other, so they are encrypted in
    /// one batch, which lets the `aes` crate pipeline them.
    fn one_time_pad<const BITS: usize>(&self, addr: u128) -> u128 {
        let mut blocks = [aes::Block::default(); BITS];
        for (pos, block) in blocks.iter_mut().enumerate() {
            // `checked_shl` gives the empty mask for pos 0 (a shift by 128).
            let from_addr = u128::MAX.checked_shl((128 - pos) as u32).unwrap_or(0);
            let input = (addr & from_addr) | (self.pad & !from_addr);
            *block = input.to_be_bytes().into();
        }
        self.cipher.encrypt_blocks(&mut blocks);
        blocks.iter().enumerate().fold(0, |otp, (pos, block)| {
            otp | (u128::from(block[0] >> 7) << (127 - pos))
        })
    }
}

/// Parses a key written as exactly 64 hex digits (surrounding whitespace, such
/// as a key file's final newline, is ignored).
///
/// Hand-written rather than with the `hex` crate: its errors count bytes, so for a key
/// pasted with a non-ASCII character they name the wrong position; this names the character.
pub fn parse_key(text: &str) -> Result<[u8; 32], String> {
    const EXPECTED: &str = "the anonymisation key must be 64 hex digits (32 bytes)";
    let text = text.trim();
    let len = text.chars().count();
    if len != 64 {
        return Err(format!("{EXPECTED}, got {len} characters"));
    }
    let mut digits = [0u8; 64];
    for ((i, c), digit) in text.chars().enumerate().zip(digits.iter_mut()) {
        *digit = c
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
            .ok_or_else(|| format!("{EXPECTED}; character {} ({c:?}) is not a hex digit", i + 1))?;
    }
    let mut key = [0u8; 32];
    for (byte, pair) in key.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (pair[0] << 4) | pair[1];
    }
    Ok(key)
}

/// Draws a fresh random key from `/dev/urandom`.
pub fn random_key() -> std::io::Result<[u8; 32]> {
    let mut key = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut key)?;
    Ok(key)
}

/// Writes a key as 64 lowercase hex digits, the form [`parse_key`] reads.
pub fn key_to_hex(key: &[u8; 32]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sample key of the Crypto-PAn 1.0 source distribution.
    const REFERENCE_KEY: [u8; 32] = [
        21, 34, 23, 141, 51, 164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16, 216, 152, 143, 131,
        121, 121, 101, 39, 98, 87, 76, 45, 42, 132, 34, 2,
    ];

    fn check(key: &[u8; 32], vectors: &[(&str, &str)]) {
        let pan = CryptoPan::new(key);
        for &(orig, anon) in vectors {
            let orig: IpAddr = orig.parse().unwrap();
            let anon: IpAddr = anon.parse().unwrap();
            assert_eq!(pan.anonymize(orig), anon, "anonymising {orig}");
        }
    }

    /// `sample_trace_raw.dat` → `sample_trace_sanitized.dat` from the Crypto-PAn
    /// 1.0 distribution (distinct addresses), as transcribed in the tests of
    /// github.com/Yawning/cryptopan (`cryptopan_test.go`) and
    /// github.com/noinkling/node-cryptopan (`src/test/test_data.ts`); the last
    /// seven come from the C# (Sappan.CryptoPAn) and Perl (IP::Anonymous) tests
    /// collected in the latter.
    #[test]
    fn reference_sample_trace_ipv4() {
        check(
            &REFERENCE_KEY,
            &[
                ("128.11.68.132", "135.242.180.132"),
                ("129.118.74.4", "134.136.186.123"),
                ("130.132.252.244", "133.68.164.234"),
                ("141.223.7.43", "141.167.8.160"),
                ("141.233.145.108", "141.129.237.235"),
                ("152.163.225.39", "151.140.114.167"),
                ("156.29.3.236", "147.225.12.42"),
                ("165.247.96.84", "162.9.99.234"),
                ("166.107.77.190", "160.132.178.185"),
                ("192.102.249.13", "252.138.62.131"),
                ("192.215.32.125", "252.43.47.189"),
                ("192.233.80.103", "252.25.108.8"),
                ("192.41.57.43", "252.222.221.184"),
                ("193.150.244.223", "253.169.52.216"),
                ("195.205.63.100", "255.186.223.5"),
                ("198.200.171.101", "249.199.68.213"),
                ("198.26.132.101", "249.36.123.202"),
                ("198.36.213.5", "249.7.21.132"),
                ("198.51.77.238", "249.18.186.254"),
                ("199.217.79.101", "248.38.184.213"),
                ("202.49.198.20", "245.206.7.234"),
                ("203.12.160.252", "244.248.163.4"),
                ("204.184.162.189", "243.192.77.90"),
                ("204.202.136.230", "243.178.4.198"),
                ("204.29.20.4", "243.33.20.123"),
                ("205.178.38.67", "242.108.198.51"),
                ("205.188.147.153", "242.96.16.101"),
                ("205.188.248.25", "242.96.88.27"),
                ("205.245.121.43", "242.21.121.163"),
                ("207.105.49.5", "241.118.205.138"),
                ("207.135.65.238", "241.202.129.222"),
                ("207.155.9.214", "241.220.250.22"),
                ("207.188.7.45", "241.255.249.220"),
                ("207.25.71.27", "241.33.119.156"),
                ("207.33.151.131", "241.1.233.131"),
                ("208.147.89.59", "227.237.98.191"),
                ("208.234.120.210", "227.154.67.17"),
                ("208.28.185.184", "227.39.94.90"),
                ("208.52.56.122", "227.8.63.165"),
                ("209.12.231.7", "226.243.167.8"),
                ("209.238.72.3", "226.6.119.243"),
                ("209.246.74.109", "226.22.124.76"),
                ("209.68.60.238", "226.184.220.233"),
                ("209.85.249.6", "226.170.70.6"),
                ("212.120.124.31", "228.135.163.231"),
                ("212.146.8.236", "228.19.4.234"),
                ("212.186.227.154", "228.59.98.98"),
                ("212.204.172.118", "228.71.195.169"),
                ("212.206.130.201", "228.69.242.193"),
                ("216.148.237.145", "235.84.194.111"),
                ("216.157.30.252", "235.89.31.26"),
                ("216.184.159.48", "235.96.225.78"),
                ("216.227.10.221", "235.28.253.36"),
                ("216.254.18.172", "235.7.16.162"),
                ("216.32.132.250", "235.192.139.38"),
                ("216.35.217.178", "235.195.157.81"),
                ("24.0.250.221", "100.15.198.226"),
                ("24.13.62.231", "100.2.192.247"),
                ("24.14.213.138", "100.1.42.141"),
                ("24.5.0.80", "100.9.15.210"),
                ("24.7.198.88", "100.10.6.25"),
                ("24.94.26.44", "100.88.228.35"),
                ("38.15.67.68", "64.3.66.187"),
                ("4.3.88.225", "124.60.155.63"),
                ("63.14.55.111", "95.9.215.7"),
                ("63.195.241.44", "95.179.238.44"),
                ("63.97.7.140", "95.97.9.123"),
                ("64.14.118.196", "0.255.183.58"),
                ("64.34.154.117", "0.221.154.117"),
                ("64.39.15.238", "0.219.7.41"),
                ("10.185.25.118", "117.161.29.118"),
                ("129.69.205.36", "134.182.53.212"),
                ("129.69.215.37", "134.182.41.43"),
                ("127.0.0.1", "33.0.243.129"),
                ("0.0.0.0", "120.255.240.1"),
                ("10.0.1.128", "117.15.1.129"),
                ("169.254.100.50", "169.251.68.45"),
                ("255.255.255.255", "206.120.97.255"),
            ],
        );
    }

    /// IPv6 with the reference key, from github.com/Yawning/cryptopan
    /// (`cryptopan_test.go`), also in node-cryptopan's `test_data.ts`.
    #[test]
    fn reference_key_ipv6() {
        check(
            &REFERENCE_KEY,
            &[
                ("::1", "78ff:f001:9fc0:20df:8380:b1f1:704:ed"),
                ("::2", "78ff:f001:9fc0:20df:8380:b1f1:704:ef"),
                ("::ffff", "78ff:f001:9fc0:20df:8380:b1f1:704:f838"),
                ("2001:db8::1", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1e"),
                ("2001:db8::2", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1c"),
            ],
        );
    }

    /// Other keys, from node-cryptopan's `src/test/test_data.ts`, which
    /// collects them from yacryptopan (README and `contrib/diekmann`), libanon,
    /// IP::Anonymous and pwood/cryptopan.
    #[test]
    fn other_published_keys() {
        check(
            b"32-char-str-for-AES-key-and-pad.",
            &[
                ("192.0.2.1", "192.0.125.244"),
                ("2001:db8::1", "27fe:8bc7:fee:1e:1e1f:f0fe:f0e1:83fd"),
            ],
        );
        let mut counting = [0u8; 32];
        for (i, b) in counting.iter_mut().enumerate() {
            *b = i as u8;
        }
        check(
            &counting,
            &[
                ("192.0.2.1", "2.90.93.17"),
                ("0.0.0.0", "254.152.65.220"),
                ("255.255.255.255", "56.0.15.254"),
                ("148.88.132.153", "106.38.130.153"),
                ("148.88.133.200", "106.38.131.223"),
                ("2001:db8::1", "dd92:2c44:3fc0:ff1e:7ff9:c7f0:8180:7e00"),
            ],
        );
        let diekmann =
            parse_key("8009ab3a605435bea0c385bea18485d8b0a1103d6590bdf48c968be5de53836e").unwrap();
        check(
            &diekmann,
            &[
                ("123.123.123.123", "117.8.135.123"),
                ("131.159.1.42", "162.112.255.43"),
                ("8.8.8.8", "55.21.62.136"),
                ("255.255.255.255", "240.15.248.0"),
                (
                    "2a02:db8:85a3::8a2e:370:7344",
                    "1482:f447:75b3:f1f9:fbdf:622e:34f:ff7b",
                ),
                (
                    "2a02:0db8:85a3:08d3:1319:8a2e:0370:7344",
                    "1482:f447:75b3:f904:c1d9:ba2e:489:1346",
                ),
                (
                    "::ffff:192.0.2.128",
                    "3883:b073:ff0f:fff8:203f:7c8:617:fd01",
                ),
                ("fc00::", "f33c:8ca3:ef0f:e019:e7ff:f1e3:f91f:f800"),
            ],
        );
        let libanon =
            parse_key("d1c056a983786a38ca76a05cda240c7b86d7713693544000a0e6c4dd5b3dabdd").unwrap();
        check(
            &libanon,
            &[
                ("1.2.3.4", "236.157.211.10"),
                ("255.255.255.254", "0.0.127.6"),
                ("220.201.45.30", "61.17.221.254"),
                (
                    "2001:638:709:861::1",
                    "d0f1:f603:8e9:98c:3f5f:1f9:ffcf:bf9f",
                ),
                ("2001:638:709:4::4", "d0f1:f603:8e9:6cb:803f:3e39:f134:3fbb"),
                ("ffff:638:709:861::2", "0:e9f8:3928:f76e:3f:3fc6:135:ffa5"),
            ],
        );
    }

    /// SplitMix64: a small deterministic generator, so failures reproduce.
    struct Rng(u64);

    impl Rng {
        fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        fn next_u128(&mut self) -> u128 {
            (u128::from(self.next_u64()) << 64) | u128::from(self.next_u64())
        }

        fn key(&mut self) -> [u8; 32] {
            let mut key = [0u8; 32];
            key[..16].copy_from_slice(&self.next_u128().to_be_bytes());
            key[16..].copy_from_slice(&self.next_u128().to_be_bytes());
            key
        }
    }

    /// A random address of `bits` bits (left-aligned) and a partner that shares
    /// exactly its first `k` bits (or all of them when `k == bits`).
    fn pair(rng: &mut Rng, bits: u32, k: u32) -> (u128, u128) {
        let keep = |x: u128| x & (u128::MAX << (128 - bits));
        let a = keep(rng.next_u128());
        let same = u128::MAX.checked_shl(128 - k).unwrap_or(0);
        let b = if k == bits {
            a
        } else {
            let flip = 1u128 << (127 - k);
            keep((a & same) | ((a ^ flip) & flip) | (rng.next_u128() & !same & !flip))
        };
        (a, b)
    }

    #[test]
    fn prefix_preserving_v4() {
        let mut rng = Rng(4);
        for _ in 0..8 {
            let pan = CryptoPan::new(&rng.key());
            for k in 0..=32 {
                for _ in 0..4 {
                    let (a, b) = pair(&mut rng, 32, k);
                    let (a, b) = ((a >> 96) as u32, (b >> 96) as u32);
                    assert_eq!((a ^ b).leading_zeros(), k);
                    let anon_a = pan.anonymize_v4(Ipv4Addr::from_bits(a)).to_bits();
                    let anon_b = pan.anonymize_v4(Ipv4Addr::from_bits(b)).to_bits();
                    assert_eq!((anon_a ^ anon_b).leading_zeros(), k, "{a:#x} {b:#x}");
                }
            }
        }
    }

    #[test]
    fn prefix_preserving_v6() {
        let mut rng = Rng(6);
        for _ in 0..4 {
            let pan = CryptoPan::new(&rng.key());
            for k in 0..=128 {
                for _ in 0..2 {
                    let (a, b) = pair(&mut rng, 128, k);
                    assert_eq!((a ^ b).leading_zeros(), k);
                    let anon_a = pan.anonymize_v6(Ipv6Addr::from_bits(a)).to_bits();
                    let anon_b = pan.anonymize_v6(Ipv6Addr::from_bits(b)).to_bits();
                    assert_eq!((anon_a ^ anon_b).leading_zeros(), k, "{a:#x} {b:#x}");
                }
            }
        }
    }

    /// Prefix preservation makes the mapping a bijection; check it on a /20.
    #[test]
    fn one_to_one_on_a_subnet() {
        let pan = CryptoPan::new(&REFERENCE_KEY);
        let base = Ipv4Addr::new(10, 20, 0, 0).to_bits();
        let mut seen: Vec<u32> = (0..1 << 12)
            .map(|i| pan.anonymize_v4(Ipv4Addr::from_bits(base | i)).to_bits())
            .collect();
        let prefix = seen[0] >> 12;
        assert!(seen.iter().all(|a| a >> 12 == prefix));
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 1 << 12);
    }

    #[test]
    fn deterministic_and_key_dependent() {
        let mut rng = Rng(7);
        let (key1, key2) = (rng.key(), rng.key());
        let (pan1, pan1_again, pan2) = (
            CryptoPan::new(&key1),
            CryptoPan::new(&key1),
            CryptoPan::new(&key2),
        );
        let mut differ = 0;
        for _ in 0..64 {
            let v4 = IpAddr::V4(Ipv4Addr::from_bits(rng.next_u64() as u32));
            let v6 = IpAddr::V6(Ipv6Addr::from_bits(rng.next_u128()));
            for addr in [v4, v6] {
                let anon = pan1.anonymize(addr);
                assert_eq!(anon, pan1.anonymize(addr));
                assert_eq!(anon, pan1_again.anonymize(addr));
                assert_eq!(anon.is_ipv4(), addr.is_ipv4());
                differ += usize::from(anon != pan2.anonymize(addr));
            }
        }
        // A fixed point shared by two keys has probability about 2^-32 per v4
        // address; allow one anyway.
        assert!(differ >= 127, "only {differ} of 128 addresses differ");
    }

    #[test]
    fn parse_key_accepts_64_hex_digits() {
        let inner_space = "1522178d33a4cf80130a5b1649907d10d8988f8379796527625 74c2d2a842202";
        assert!(parse_key(inner_space).is_err());
        let hex = key_to_hex(&REFERENCE_KEY);
        assert_eq!(
            hex,
            "1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a842202"
        );
        assert_eq!(parse_key(&hex), Ok(REFERENCE_KEY));
        assert_eq!(
            parse_key(&format!(" {}\n", hex.to_uppercase())),
            Ok(REFERENCE_KEY)
        );
    }

    #[test]
    fn parse_key_explains_errors() {
        let short = parse_key("0123456789ab").unwrap_err();
        assert_eq!(
            short,
            "the anonymisation key must be 64 hex digits (32 bytes), got 12 characters"
        );
        let bad = format!("0x{}", "0".repeat(62));
        let err = parse_key(&bad).unwrap_err();
        assert!(err.contains("64 hex digits"), "{err}");
        assert!(err.contains("character 2 ('x')"), "{err}");
        let non_ascii = format!("é{}", "0".repeat(63));
        assert!(
            parse_key(&non_ascii)
                .unwrap_err()
                .contains("character 1 ('é')")
        );
        assert!(parse_key("").unwrap_err().contains("got 0 characters"));
    }

    #[test]
    fn random_keys_round_trip_and_differ() {
        let (k1, k2) = (random_key().unwrap(), random_key().unwrap());
        assert_ne!(k1, k2);
        assert_eq!(parse_key(&key_to_hex(&k1)), Ok(k1));
    }

    #[test]
    fn debug_hides_the_key() {
        let text = format!("{:?}", CryptoPan::new(&REFERENCE_KEY));
        assert_eq!(text, "CryptoPan { .. }");
    }
}
