//! Wireshark's `tcp.stream` numbers and the base sequence numbers its relative `tcp.seq` and
//! `tcp.ack` count from, kept beside rstscope's own flows so a report can point into Wireshark.
//!
//! Wireshark numbers TCP conversations per file, from 0, in the order of their first packet
//! (`epan/dissectors/packet-tcp.c`, `init_tcp_conversation_data`: `tcp_stream_count++`). A
//! conversation is an unordered address and port pair that lives as long as the file; it ends
//! only when a SYN without ACK whose sequence number differs from its direction's base starts
//! a new one on the same pair (`dissect_tcp`, the `TCP_A_REUSED_PORTS` case). A SYN-ACK never
//! does. Each direction's base is fixed by its first packet (SYN: SEG.SEQ, otherwise SEG.SEQ −
//! 1, so the first shows as 1), or earlier by the other direction's first ACK (SEG.ACK − 1),
//! as `tcp_analyze_sequence_number` sets it. These rules were checked against tshark 4.0 on
//! hand-made traces and on the Zeek corpus (`tests/pivots.rs`). Not followed: a TCP header
//! quoted in an ICMP error also finds or makes a conversation in Wireshark (so it takes a
//! number, and a quoted SYN may split one), and decoding does not look into ICMP errors.
//!
//! rstscope's flows end where Wireshark's conversations go on (idle timeout, close linger,
//! eviction, a SYN retransmission after a reset), so a finished flow's conversation is kept in
//! a bounded ring of recent ones, and a flow that starts on the same pair in the same file
//! takes it over. The numbers and bases belong to flows here; nothing here decides anything.

use std::net::SocketAddr;

use hashbrown::HashTable;

use super::Side;
use crate::tcp::{Flags, SeqNum};

/// How many finished conversations are remembered for a later packet of the same pair: about
/// 64 bytes each, 8 MB in all. Older ones are forgotten: a packet of such a pair after this
/// many other flows finished gets a new number where Wireshark keeps the old one.
const REMEMBERED: usize = 131_072;

/// Which file a stream number is counted in, and the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamRef {
    /// The input (0-based, in the order given; saturated at `u16::MAX`).
    pub input: u16,
    /// Wireshark's `tcp.stream`.
    pub stream: u32,
}

/// An input's index as a `StreamRef` keeps it.
fn input_index(input: usize) -> u16 {
    u16::try_from(input).unwrap_or(u16::MAX)
}

/// Which sides' bases are fixed (an enum, so an `Option` of what holds it costs nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fixed {
    Neither,
    Client,
    Server,
    Both,
}

impl Fixed {
    fn has(self, side: Side) -> bool {
        matches!(
            (self, side),
            (Fixed::Both, _) | (Fixed::Client, Side::Client) | (Fixed::Server, Side::Server)
        )
    }

    fn with(self, side: Side) -> Fixed {
        match (self.has(side.peer()), side) {
            (true, _) => Fixed::Both,
            (false, Side::Client) => Fixed::Client,
            (false, Side::Server) => Fixed::Server,
        }
    }

    fn swapped(self) -> Fixed {
        match self {
            Fixed::Client => Fixed::Server,
            Fixed::Server => Fixed::Client,
            other => other,
        }
    }
}

/// One Wireshark conversation as it stands: its number, and each side's base sequence number
/// (by the flow's sides), once fixed. 16 bytes: a flow carries one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conversation {
    stream: u32,
    base: [u32; 2],
    input: u16,
    fixed: Fixed,
}

/// A flow's numbering: the stream of its first segment Wireshark dissects, and the
/// conversation of its latest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Numbering {
    pub first: StreamRef,
    pub now: Conversation,
}

/// The TCP header fields Wireshark's numbering reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header {
    pub flags: Flags,
    pub seq: SeqNum,
    /// SEG.ACK when the ACK bit is set.
    pub ack: Option<SeqNum>,
}

impl Header {
    pub(crate) fn of(segment: &crate::decode::Segment) -> Header {
        Header {
            flags: segment.flags,
            seq: segment.seq,
            ack: segment.ack,
        }
    }
}

impl Conversation {
    fn new(at: StreamRef) -> Conversation {
        Conversation {
            stream: at.stream,
            base: [0, 0],
            input: at.input,
            fixed: Fixed::Neither,
        }
    }

    /// Its stream, and the input it is counted in.
    pub fn at(&self) -> StreamRef {
        StreamRef {
            input: self.input,
            stream: self.stream,
        }
    }

    /// The base sequence number of `side`'s direction, once Wireshark has fixed it.
    pub fn base(&self, side: Side) -> Option<SeqNum> {
        self.fixed
            .has(side)
            .then(|| SeqNum(self.base[side.index()]))
    }

    /// `seq` relative to `side`'s base, as Wireshark shows `tcp.seq` (and `tcp.ack` for the
    /// other side's base).
    pub fn relative(&self, side: Side, seq: SeqNum) -> Option<u32> {
        Some(seq.0.wrapping_sub(self.base(side)?.0))
    }

    /// The same conversation with its sides swapped.
    fn swapped(mut self) -> Conversation {
        self.base.swap(0, 1);
        self.fixed = self.fixed.swapped();
        self
    }

    /// True when a bare SYN from `side` starts a new conversation: its direction's base is set
    /// and the SYN does not match it.
    fn is_reused_by(&self, side: Side, header: Header) -> bool {
        header.flags.syn()
            && !header.flags.ack()
            && self.base(side).is_some_and(|base| base != header.seq)
    }

    /// Fixes the bases a segment from `side` fixes (`tcp_analyze_sequence_number`).
    fn fix_bases(&mut self, side: Side, header: Header) {
        if !self.fixed.has(side) {
            let base = if header.flags.syn() {
                header.seq
            } else {
                header.seq.minus(1)
            };
            self.base[side.index()] = base.0;
            self.fixed = self.fixed.with(side);
        }
        let peer = side.peer();
        if let (false, Some(ack)) = (self.fixed.has(peer), header.ack) {
            self.base[peer.index()] = ack.minus(1).0;
            self.fixed = self.fixed.with(peer);
        }
    }
}

/// A finished flow's conversation, by its pair, the lower address first.
#[derive(Debug, Clone, Copy)]
struct Remembered {
    lower: SocketAddr,
    upper: SocketAddr,
    /// Sides as `lower` (client) and `upper` (server).
    conversation: Conversation,
    hash: u64,
}

/// The per-file counter and the recently finished conversations.
#[derive(Default)]
pub(crate) struct Streams {
    input: u16,
    next: u32,
    /// A ring of finished conversations of the current input; `index` finds them by pair.
    ring: Vec<Remembered>,
    oldest: usize,
    index: HashTable<usize>,
}

impl Streams {
    /// A new conversation of `input`: the next number of that file.
    fn open(&mut self, input: usize) -> Conversation {
        let input = input_index(input);
        if input != self.input {
            // Inputs are read one after the other: a new file counts from 0 again.
            self.input = input;
            self.next = 0;
            self.ring.clear();
            self.oldest = 0;
            self.index.clear();
        }
        let stream = self.next;
        self.next = self.next.saturating_add(1);
        Conversation::new(StreamRef { input, stream })
    }

    /// The conversation a new flow starts with: the one a finished flow of the same pair left
    /// in this input, if remembered, else a new one.
    pub(crate) fn start(
        &mut self,
        hash: u64,
        client: SocketAddr,
        server: SocketAddr,
        input: usize,
    ) -> Conversation {
        match self.take(hash, client, server, input) {
            Some(conversation) => conversation,
            None => self.open(input),
        }
    }

    /// The segment of `side` with `header` in `input` reaches the flow's `conversation`: a
    /// file change or a reused pair opens a new one. Returns the segment's stream.
    pub(crate) fn observe(
        &mut self,
        conversation: &mut Conversation,
        side: Side,
        header: Header,
        input: usize,
    ) -> StreamRef {
        if conversation.input != input_index(input) || conversation.is_reused_by(side, header) {
            *conversation = self.open(input);
        }
        conversation.fix_bases(side, header);
        conversation.at()
    }

    /// Keeps a finished flow's conversation (client and server as the flow had them) for a
    /// later flow of the same pair in the same input.
    pub(crate) fn remember(
        &mut self,
        hash: u64,
        client: SocketAddr,
        server: SocketAddr,
        conversation: Conversation,
    ) {
        if conversation.input != self.input {
            return;
        }
        let (lower, upper, conversation) = if client <= server {
            (client, server, conversation)
        } else {
            (server, client, conversation.swapped())
        };
        self.forget(hash, lower, upper);
        let entry = Remembered {
            lower,
            upper,
            conversation,
            hash,
        };
        let slot = if self.ring.len() < REMEMBERED {
            self.ring.push(entry);
            self.ring.len() - 1
        } else {
            let slot = self.oldest;
            self.oldest = (self.oldest + 1) % REMEMBERED;
            if let Some(old) = self.ring.get(slot).copied()
                && let Ok(found) = self.index.find_entry(old.hash, |&i| i == slot)
            {
                found.remove();
            }
            if let Some(place) = self.ring.get_mut(slot) {
                *place = entry;
            }
            slot
        };
        let ring = &self.ring;
        self.index
            .insert_unique(hash, slot, |&i| ring.get(i).map_or(0, |r| r.hash));
    }

    /// Takes the remembered conversation of a pair out (a flow carries it on).
    fn take(
        &mut self,
        hash: u64,
        client: SocketAddr,
        server: SocketAddr,
        input: usize,
    ) -> Option<Conversation> {
        if input_index(input) != self.input {
            return None;
        }
        let (lower, upper) = super::address_pair(client, server);
        let slot = self.forget(hash, lower, upper)?;
        let remembered = self.ring.get(slot)?;
        Some(if client == lower {
            remembered.conversation
        } else {
            remembered.conversation.swapped()
        })
    }

    /// Drops a pair from the index (its ring slot is reused in turn); returns its slot.
    fn forget(&mut self, hash: u64, lower: SocketAddr, upper: SocketAddr) -> Option<usize> {
        let ring = &self.ring;
        let found = self.index.find_entry(hash, |&i| {
            ring.get(i)
                .is_some_and(|r| r.lower == lower && r.upper == upper)
        });
        let (slot, _) = found.ok()?.remove();
        Some(slot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYN: Flags = Flags(Flags::SYN);
    const SYN_ACK: Flags = Flags(Flags::SYN | Flags::ACK);
    const ACK: Flags = Flags(Flags::ACK);
    const RST_ACK: Flags = Flags(Flags::RST | Flags::ACK);

    fn header(flags: Flags, seq: u32, ack: Option<u32>) -> Header {
        Header {
            flags,
            seq: SeqNum(seq),
            ack: ack.map(SeqNum),
        }
    }

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    /// Feeds (side, header) pairs to one conversation; returns each segment's stream.
    fn streams_of(segments: &[(Side, Header)]) -> Vec<u32> {
        let mut streams = Streams::default();
        let mut conversation = streams.open(0);
        segments
            .iter()
            .map(|&(side, h)| streams.observe(&mut conversation, side, h, 0).stream)
            .collect()
    }

    // The cases below are what tshark 4.0.17 prints for the same packets.

    #[test]
    fn a_syn_retransmission_stays() {
        let syn = (Side::Client, header(SYN, 100, None));
        assert_eq!(streams_of(&[syn, syn]), [0, 0]);
    }

    #[test]
    fn a_syn_with_another_isn_starts_a_stream() {
        let first = (Side::Client, header(SYN, 100, None));
        let second = (Side::Client, header(SYN, 200, None));
        assert_eq!(streams_of(&[first, second]), [0, 1]);
    }

    #[test]
    fn a_syn_with_the_same_isn_after_a_reset_stays() {
        let syn = (Side::Client, header(SYN, 100, None));
        let rst = (Side::Server, header(RST_ACK, 0, Some(101)));
        assert_eq!(streams_of(&[syn, rst, syn]), [0, 0, 0]);
    }

    #[test]
    fn a_syn_ack_with_another_isn_stays() {
        let syn = (Side::Client, header(SYN, 100, None));
        let first = (Side::Server, header(SYN_ACK, 500, Some(101)));
        let second = (Side::Server, header(SYN_ACK, 600, Some(101)));
        assert_eq!(streams_of(&[syn, first, second]), [0, 0, 0]);
    }

    #[test]
    fn a_mid_stream_start_counts_from_one_before() {
        let data = (Side::Client, header(ACK, 100, Some(500)));
        let same = (Side::Client, header(SYN, 99, None));
        let other = (Side::Client, header(SYN, 100, None));
        assert_eq!(streams_of(&[data, same]), [0, 0]);
        assert_eq!(streams_of(&[data, other]), [0, 1]);
    }

    #[test]
    fn the_other_sides_ack_fixes_the_base() {
        let data = (Side::Server, header(ACK, 500, Some(101)));
        assert_eq!(
            streams_of(&[data, (Side::Client, header(SYN, 100, None))]),
            [0, 0]
        );
        assert_eq!(
            streams_of(&[data, (Side::Client, header(SYN, 101, None))]),
            [0, 1]
        );
    }

    #[test]
    fn relative_numbers_count_from_each_base() {
        let mut streams = Streams::default();
        let mut conversation = streams.open(0);
        for (side, h) in [
            (Side::Client, header(SYN, 4_294_967_290, None)),
            (Side::Server, header(RST_ACK, 0, Some(4_294_967_291))),
        ] {
            streams.observe(&mut conversation, side, h, 0);
        }
        assert_eq!(conversation.base(Side::Client), Some(SeqNum(4_294_967_290)));
        assert_eq!(conversation.relative(Side::Client, SeqNum(5)), Some(11));
        assert_eq!(conversation.relative(Side::Server, SeqNum(0)), Some(1));
    }

    #[test]
    fn each_input_counts_from_zero() {
        let mut streams = Streams::default();
        let mut conversation = streams.open(0);
        let ack = header(ACK, 1, Some(1));
        streams.open(0);
        assert_eq!(
            streams.observe(&mut conversation, Side::Client, ack, 1),
            StreamRef {
                input: 1,
                stream: 0
            }
        );
    }

    #[test]
    fn a_finished_flows_conversation_is_taken_over_either_way_round() {
        let (a, b) = (addr("192.0.2.1:1000"), addr("198.51.100.2:80"));
        let mut streams = Streams::default();
        let mut conversation = streams.start(7, a, b, 0);
        streams.observe(&mut conversation, Side::Client, header(SYN, 100, None), 0);
        streams.remember(7, a, b, conversation);
        let taken = streams.start(7, b, a, 0);
        assert_eq!(taken.at().stream, 0);
        assert_eq!(taken.base(Side::Server), Some(SeqNum(100)));
        // Taken once: the next flow of the pair gets a new number.
        assert_eq!(streams.start(7, a, b, 0).at().stream, 1);
    }

    #[test]
    fn the_ring_forgets_the_oldest() {
        let mut streams = Streams::default();
        let server = addr("198.51.100.2:80");
        let client = |n: usize| {
            SocketAddr::new(
                std::net::Ipv4Addr::from(0x0a00_0000 + n as u32).into(),
                1000,
            )
        };
        for n in 0..=REMEMBERED {
            let conversation = streams.start(n as u64, client(n), server, 0);
            streams.remember(n as u64, client(n), server, conversation);
        }
        let newest = streams.start(REMEMBERED as u64, client(REMEMBERED), server, 0);
        assert_eq!(newest.at().stream, REMEMBERED as u32);
        // The first was forgotten to make room: a new number.
        let first = streams.start(0, client(0), server, 0);
        assert_eq!(first.at().stream, REMEMBERED as u32 + 1);
    }
}
