//! RFC 9293 rules that hold for any flow: sequence numbers modulo 2^32 and the control bits.
//!
//! This module knows nothing about flows, frames or I/O. Sequence arithmetic wraps: an observer
//! must never panic on a number that a sender chose, so nothing here can overflow.

use std::fmt;

/// A TCP sequence (or acknowledgment) number, compared modulo 2^32 (RFC 9293 §3.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct SeqNum(pub u32);

impl SeqNum {
    /// `self + n` modulo 2^32.
    pub fn plus(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_add(n))
    }

    /// `self - n` modulo 2^32.
    pub fn minus(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_sub(n))
    }

    /// True when counting forward from `earlier` to `self` passes 2^32 back to 0: the raw
    /// value went down. Counters of wraps (Zeek's seq_wraps, ack_wraps) step on this.
    pub fn wrapped_since(self, earlier: SeqNum) -> bool {
        self.0 < earlier.0
    }

    /// Signed distance from `other` to `self`: positive when `self` is after `other`.
    /// Valid while the two are less than 2^31 apart, as RFC 9293 §3.4 assumes.
    pub fn distance(self, other: SeqNum) -> i64 {
        i64::from(self.0.wrapping_sub(other.0) as i32)
    }

    /// True when `self` comes strictly before `other` in sequence space.
    pub fn is_before(self, other: SeqNum) -> bool {
        self.distance(other) < 0
    }

    /// True when `self` comes strictly after `other` in sequence space.
    pub fn is_after(self, other: SeqNum) -> bool {
        self.distance(other) > 0
    }

    /// True when `start <= self < start + wnd` modulo 2^32 (RFC 9293 §3.10.7.4 acceptability).
    pub fn in_window(self, start: SeqNum, wnd: u32) -> bool {
        self.0.wrapping_sub(start.0) < wnd
    }

    /// The later of two sequence numbers.
    pub fn max(self, other: SeqNum) -> SeqNum {
        if self.is_after(other) { self } else { other }
    }
}

impl fmt::Display for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The TCP control bits of one segment (RFC 9293 §3.1, plus ECE/CWR from RFC 3168).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Flags(pub u8);

impl Flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;

    fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
    pub fn fin(self) -> bool {
        self.has(Self::FIN)
    }
    pub fn syn(self) -> bool {
        self.has(Self::SYN)
    }
    pub fn rst(self) -> bool {
        self.has(Self::RST)
    }
    pub fn psh(self) -> bool {
        self.has(Self::PSH)
    }
    pub fn ack(self) -> bool {
        self.has(Self::ACK)
    }
    pub fn urg(self) -> bool {
        self.has(Self::URG)
    }
}

impl fmt::Display for Flags {
    /// Wireshark-like letters in the schema's order: `S`, `SA`, `FA`, `RA`, `PA`...
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const LETTERS: [(u8, char); 8] = [
            (Flags::SYN, 'S'),
            (Flags::FIN, 'F'),
            (Flags::RST, 'R'),
            (Flags::PSH, 'P'),
            (Flags::ACK, 'A'),
            (Flags::URG, 'U'),
            (Flags::ECE, 'E'),
            (Flags::CWR, 'C'),
        ];
        let mut any = false;
        for (bit, letter) in LETTERS {
            if self.has(bit) {
                write!(f, "{letter}")?;
                any = true;
            }
        }
        if !any {
            write!(f, "-")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn distance_across_wraparound() {
        let before = SeqNum(u32::MAX - 10);
        let after = SeqNum(5);
        assert_eq!(after.distance(before), 16);
        assert_eq!(before.distance(after), -16);
        assert!(before.is_before(after));
        assert!(after.is_after(before));
        assert_eq!(before.plus(16), after);
    }

    #[test]
    fn window_across_wraparound() {
        let start = SeqNum(u32::MAX - 1);
        assert!(SeqNum(u32::MAX).in_window(start, 10));
        assert!(SeqNum(7).in_window(start, 10));
        assert!(!SeqNum(8).in_window(start, 10));
        assert!(!SeqNum(u32::MAX - 2).in_window(start, 10));
        assert!(!start.in_window(start, 0));
    }

    #[test]
    fn flags_display_like_the_schema() {
        assert_eq!(Flags(Flags::SYN).to_string(), "S");
        assert_eq!(Flags(Flags::SYN | Flags::ACK).to_string(), "SA");
        assert_eq!(Flags(Flags::FIN | Flags::ACK).to_string(), "FA");
        assert_eq!(Flags(Flags::RST | Flags::ACK).to_string(), "RA");
        assert_eq!(Flags(Flags::RST).to_string(), "R");
        assert_eq!(Flags(0).to_string(), "-");
    }

    proptest! {
        #[test]
        fn add_then_distance_round_trips(a in any::<u32>(), n in 0u32..(1 << 31)) {
            prop_assert_eq!(SeqNum(a).plus(n).distance(SeqNum(a)), i64::from(n));
        }

        #[test]
        fn before_and_after_are_mirror_images(a in any::<u32>(), b in any::<u32>()) {
            let (x, y) = (SeqNum(a), SeqNum(b));
            if a.wrapping_sub(b) != 1 << 31 {
                prop_assert_eq!(x.is_before(y), y.is_after(x));
            }
        }
    }
}
