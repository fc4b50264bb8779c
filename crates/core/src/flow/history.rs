//! Zeek's `history` string: which letters a segment adds, and when a letter repeats.
//!
//! Upper case is the originator, lower case the responder. `a d i q` are recorded once per
//! direction; `s h f r` again when the sequence number differs from the last one of their kind;
//! `c t w g` at the 1st, 10th, 100th... occurrence (Zeek's `ScaledHistoryEntry`). The "seen"
//! bits belong to the role, not the host, and are not swapped when roles flip, as in Zeek.

use super::Side;
use crate::tcp::Flags;

/// Which single-letter slot a once-per-direction letter uses (Zeek's HIST_* masks).
#[derive(Debug, Clone, Copy)]
enum Slot {
    Syn = 0x1,
    Fin = 0x2,
    Rst = 0x4,
    FinRst = 0x8,
    Data = 0x10,
    Ack = 0x20,
    MultiFlag = 0x40,
}

/// The history string of one connection.
#[derive(Debug, Clone, Default)]
pub(super) struct History {
    letters: Letters,
    seen: u32,
}

/// Letters kept in the flow itself: most connections have no more than this many.
const INLINE_LETTERS: usize = 22;

/// The letters: inline while they fit, so a flow's history costs no allocation; on the heap
/// when a long connection (or a storm of resets) writes more.
#[derive(Debug, Clone)]
enum Letters {
    Inline {
        len: u8,
        bytes: [u8; INLINE_LETTERS],
    },
    Heap {
        len: u8,
        bytes: Box<[u8; MAX_HISTORY_LETTERS]>,
    },
}

impl Default for Letters {
    fn default() -> Self {
        Letters::Inline {
            len: 0,
            bytes: [0; INLINE_LETTERS],
        }
    }
}

impl Letters {
    fn as_str(&self) -> &str {
        match self {
            // Only ASCII letters are ever added.
            Letters::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            Letters::Heap { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Letters::Inline { len, .. } | Letters::Heap { len, .. } => usize::from(*len),
        }
    }

    /// Appends a letter; the caller keeps to `MAX_HISTORY_LETTERS`.
    fn push(&mut self, letter: u8) {
        match self {
            Letters::Inline { len, bytes } if usize::from(*len) < INLINE_LETTERS => {
                bytes[usize::from(*len)] = letter;
                *len += 1;
            }
            Letters::Inline { len, bytes } => {
                let mut heap = Box::new([0; MAX_HISTORY_LETTERS]);
                heap[..INLINE_LETTERS].copy_from_slice(bytes);
                heap[INLINE_LETTERS] = letter;
                *self = Letters::Heap {
                    len: *len + 1,
                    bytes: heap,
                };
            }
            Letters::Heap { len, bytes } => {
                if let Some(slot) = bytes.get_mut(usize::from(*len)) {
                    *slot = letter;
                    *len += 1;
                }
            }
        }
    }
}

/// Per-endpoint memory for repeated letters: last sequence numbers and scaled counters.
#[derive(Debug, Clone, Default)]
pub(super) struct LetterMemory {
    /// The low 32 bits of the relative sequence numbers last seen (equality is all that
    /// matters, and 4 GB apart is the same connection's wrap anyway).
    last_syn: u32,
    last_fin: u32,
    last_rst: u32,
    pub(super) checksum: Scaled,
    pub(super) retransmit: Scaled,
    pub(super) zero_window: Scaled,
    pub(super) gap: Scaled,
}

/// A logarithmic counter: fires at the 1st, 10th, 100th... event.
#[derive(Debug, Clone, Default)]
pub(super) struct Scaled {
    count: u32,
}

impl Scaled {
    /// Counts one event; true when this event should add a letter.
    fn fire(&mut self) -> bool {
        if self.count == u32::MAX {
            return false;
        }
        self.count += 1;
        is_power_of_ten(self.count)
    }
}

fn is_power_of_ten(mut n: u32) -> bool {
    while n >= 10 && n.is_multiple_of(10) {
        n /= 10;
    }
    n == 1
}

/// Zeek writes the client's letters in upper case and the server's in lower case.
fn cased(letter: char, side: Side) -> char {
    match side {
        Side::Client => letter.to_ascii_uppercase(),
        Side::Server => letter.to_ascii_lowercase(),
    }
}

/// At most this many letters are kept: Zeek repeats `S`, `F` and `R` for every new sequence
/// number, so a storm of resets into one connection would otherwise grow it without end.
pub(super) const MAX_HISTORY_LETTERS: usize = 64;

impl History {
    pub(super) fn as_str(&self) -> &str {
        self.letters.as_str()
    }

    /// Appends a letter (ASCII) while there is room.
    fn add(&mut self, letter: char) {
        if self.letters.len() < MAX_HISTORY_LETTERS
            && let Ok(letter) = u8::try_from(letter)
        {
            self.letters.push(letter);
        }
    }

    /// Appends `^`: the roles of originator and responder were swapped.
    pub(super) fn flip(&mut self) {
        self.add('^');
    }

    /// Zeek's CheckHistory: adds the letter the first time its slot is used in this direction.
    /// True when the slot had been used before.
    fn check(&mut self, slot: Slot, letter: char, side: Side) -> bool {
        let mask = match side {
            Side::Client => slot as u32,
            Side::Server => (slot as u32) << 16,
        };
        if self.seen & mask == 0 {
            self.seen |= mask;
            self.add(cased(letter, side));
            false
        } else {
            true
        }
    }

    /// Adds a scaled letter (`c t w g`) when its counter says so.
    pub(super) fn scaled(&mut self, counter: &mut Scaled, letter: char, side: Side) {
        if counter.fire() {
            self.add(cased(letter, side));
        }
    }

    /// The letters one segment's flags add (Zeek's `update_history`).
    pub(super) fn observe(
        &mut self,
        flags: Flags,
        memory: &mut LetterMemory,
        rel_seq: u64,
        len: u32,
        side: Side,
    ) {
        let set = u8::from(flags.syn()) + u8::from(flags.fin()) + u8::from(flags.rst());
        if set > 1 {
            if flags.fin() && flags.rst() {
                self.check(Slot::FinRst, 'I', side);
            } else {
                self.check(Slot::MultiFlag, 'Q', side);
            }
            return;
        }
        if flags.syn() {
            let letter = if flags.ack() { 'H' } else { 'S' };
            if self.check(Slot::Syn, letter, side) && rel_seq as u32 != memory.last_syn {
                self.add(cased(letter, side));
            }
            memory.last_syn = rel_seq as u32;
        } else if flags.fin() {
            let end = rel_seq.wrapping_add(u64::from(len));
            if self.check(Slot::Fin, 'F', side) && end as u32 != memory.last_fin {
                self.add(cased('F', side));
            }
            memory.last_fin = end as u32;
        } else if flags.rst() {
            if self.check(Slot::Rst, 'R', side) && rel_seq as u32 != memory.last_rst {
                self.add(cased('R', side));
            }
            memory.last_rst = rel_seq as u32;
        } else if len > 0 {
            self.check(Slot::Data, 'D', side);
        } else if flags.ack() {
            self.check(Slot::Ack, 'A', side);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYN: Flags = Flags(Flags::SYN);
    const SYN_ACK: Flags = Flags(Flags::SYN | Flags::ACK);
    const ACK: Flags = Flags(Flags::ACK);
    const FIN_ACK: Flags = Flags(Flags::FIN | Flags::ACK);
    const RST: Flags = Flags(Flags::RST);

    fn run(steps: &[(bool, Flags, u64, u32)]) -> String {
        let mut history = History::default();
        let mut memory = [LetterMemory::default(), LetterMemory::default()];
        for &(from_client, flags, seq, len) in steps {
            let side = if from_client {
                Side::Client
            } else {
                Side::Server
            };
            history.observe(flags, &mut memory[side.index()], seq, len, side);
        }
        history.as_str().to_string()
    }

    #[test]
    fn a_full_connection_reads_like_zeek() {
        let steps = [
            (true, SYN, 0, 0),
            (false, SYN_ACK, 0, 0),
            (true, ACK, 1, 0),
            (true, ACK, 1, 10),
            (false, ACK, 1, 0),
            (false, ACK, 1, 20),
            (true, ACK, 11, 0),
            (true, FIN_ACK, 11, 0),
            (false, FIN_ACK, 21, 0),
        ];
        assert_eq!(run(&steps), "ShADadFf");
    }

    #[test]
    fn retransmitted_syn_adds_nothing_but_a_new_isn_repeats_the_letter() {
        assert_eq!(run(&[(true, SYN, 0, 0), (true, SYN, 0, 0)]), "S");
        assert_eq!(run(&[(true, SYN, 0, 0), (true, SYN, 7, 0)]), "SS");
    }

    #[test]
    fn resets_repeat_only_with_a_new_sequence_number() {
        let same = [(false, RST, 5, 0), (false, RST, 5, 0)];
        let moved = [(false, RST, 5, 0), (false, RST, 1465, 0)];
        assert_eq!(run(&same), "r");
        assert_eq!(run(&moved), "rr");
    }

    #[test]
    fn payload_on_a_fin_or_rst_is_not_data() {
        let fin_with_data = Flags(Flags::FIN | Flags::ACK | Flags::PSH);
        assert_eq!(run(&[(true, fin_with_data, 1, 100)]), "F");
        assert_eq!(run(&[(false, Flags(Flags::RST | Flags::ACK), 1, 30)]), "r");
    }

    #[test]
    fn multi_flag_segments_give_q_or_i() {
        assert_eq!(run(&[(true, Flags(Flags::SYN | Flags::FIN), 0, 0)]), "Q");
        assert_eq!(run(&[(false, Flags(Flags::FIN | Flags::RST), 0, 0)]), "i");
    }

    #[test]
    fn scaled_counters_fire_at_every_power_of_ten_and_nowhere_else() {
        let mut counter = Scaled::default();
        let mut fired = Vec::new();
        for n in 1..=100_000u32 {
            if counter.fire() {
                fired.push(n);
            }
        }
        assert_eq!(fired, [1, 10, 100, 1_000, 10_000, 100_000]);
        let mut full = Scaled {
            count: u32::MAX - 1,
        };
        assert!(
            !full.fire() && !full.fire(),
            "no letter once the count is spent"
        );
        assert!(is_power_of_ten(1_000_000_000) && !is_power_of_ten(0));
    }

    #[test]
    fn a_long_history_moves_to_the_heap_and_stops_at_the_cap() {
        let mut history = History::default();
        let mut expected = String::new();
        for n in 0..100 {
            let letter = if n % 2 == 0 { 'R' } else { 'r' };
            history.add(letter);
            if expected.len() < MAX_HISTORY_LETTERS {
                expected.push(letter);
            }
            assert_eq!(history.as_str(), expected, "after {} letters", n + 1);
        }
        assert!(matches!(history.letters, Letters::Heap { .. }));
        assert_eq!(history.as_str().len(), MAX_HISTORY_LETTERS);
    }

    #[test]
    fn scaled_letters_fire_at_powers_of_ten() {
        let mut history = History::default();
        let mut counter = Scaled::default();
        for _ in 0..100 {
            history.scaled(&mut counter, 'T', Side::Client);
        }
        assert_eq!(history.as_str(), "TTT");
    }
}
