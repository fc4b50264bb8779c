//! Bytes on the wire: the Internet checksum (RFC 1071), its incremental update (RFC 1624), and
//! the TCP control bits. The decoder checks sums with these, the anonymiser corrects them, and
//! the synthetic-capture generator writes them.

pub use crate::tcp::Flags;

/// Adds the big-endian 16-bit words of `bytes` to `sum` (an odd last byte is padded with a
/// zero, RFC 1071 §4.1), carries kept above bit 16; [`fold`] finishes the sum.
pub fn sum_words(bytes: &[u8], mut sum: u64) -> u64 {
    let mut chunks = bytes.chunks_exact(2);
    for pair in &mut chunks {
        sum += u64::from(u16::from_be_bytes([pair[0], pair[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u64::from(u16::from_be_bytes([*last, 0]));
    }
    sum
}

/// Folds the carries of a ones'-complement sum into 16 bits (not inverted).
pub fn fold(mut sum: u64) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// A checksum field updated for bytes it covers that changed from `old` to `new` (the same
/// length, an even one), by RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m').
pub fn updated(checksum: u16, old: &[u8], new: &[u8]) -> u16 {
    let mut sum = u64::from(!checksum);
    sum += u64::from(!fold(sum_words(old, 0)));
    sum = sum_words(new, sum);
    !fold(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_1071_example_sums_to_ddf2() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum (folded) to ddf2.
        let bytes = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum_words(&bytes, 0)), 0xddf2);
    }

    #[test]
    fn an_incremental_update_equals_a_fresh_sum() {
        let before = [0x45, 0x00, 0x00, 0x54, 0xc0, 0x00, 0x02, 0x01, 0x12, 0x34];
        let mut after = before;
        after[6..8].copy_from_slice(&[0xcb, 0x00]);
        let checksum = !fold(sum_words(&before, 0));
        assert_eq!(
            updated(checksum, &before[6..8], &after[6..8]),
            !fold(sum_words(&after, 0))
        );
    }
}
