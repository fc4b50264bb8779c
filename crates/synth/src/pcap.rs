//! The generator's trace file: classic pcap, microsecond times, Ethernet, so every reader
//! (tcpdump, tshark, tcptrace, argus, libpcap) takes it. The bytes are written by
//! rstscope-core's one capture-file writer (`savefile`); what this adds is the generator's
//! snap length, as a capture would cut frames.
//!
//! Buffering is the caller's (hand it a `BufWriter`).

use std::io::{self, Write};

use rstscope_core::Timestamp;
use rstscope_core::savefile::{Precision, SaveFile};

/// LINKTYPE_ETHERNET (also its DLT value).
const ETHERNET: i32 = 1;

/// A pcap file being written, frames cut to a snap length.
pub(crate) struct PcapWriter<W: Write> {
    file: SaveFile<W>,
    snaplen: usize,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the global header; frames longer than `snaplen` will be cut.
    pub(crate) fn new(out: W, snaplen: u32) -> io::Result<PcapWriter<W>> {
        Ok(PcapWriter {
            file: SaveFile::pcap(out, ETHERNET, snaplen, Precision::Micro)?,
            snaplen: usize::try_from(snaplen).unwrap_or(usize::MAX),
        })
    }

    /// Bytes written so far, headers included.
    pub(crate) fn written(&self) -> u64 {
        self.file.written()
    }

    /// Writes one frame made of `head` then `payload`, cut to the snap length; returns true
    /// when it was cut.
    pub(crate) fn frame(&mut self, ts_ns: u64, head: &[u8], payload: &[u8]) -> io::Result<bool> {
        let wire = head.len() + payload.len();
        let captured = wire.min(self.snaplen);
        let (head, payload) = match head.split_at_checked(captured) {
            Some((cut, _)) => (cut, &[][..]),
            None => (
                head,
                payload.get(..captured - head.len()).unwrap_or(payload),
            ),
        };
        let ts = Timestamp(i64::try_from(ts_ns).unwrap_or(i64::MAX));
        let wire_len = u32::try_from(wire).unwrap_or(u32::MAX);
        self.file.packet_in_parts(ts, head, payload, wire_len)?;
        Ok(captured < wire)
    }

    /// Flushes and hands back the output.
    pub(crate) fn finish(self) -> io::Result<W> {
        self.file.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_to_the_snap_length_and_keeps_the_wire_length() {
        let mut writer = PcapWriter::new(Vec::new(), 6).unwrap();
        assert!(writer.frame(1_500_000_123_456, b"abcd", b"efgh").unwrap());
        assert!(!writer.frame(0, b"ab", b"c").unwrap());
        assert_eq!(writer.written(), 24 + 16 + 6 + 16 + 3);
        let bytes = writer.finish().unwrap();
        assert_eq!(bytes.len(), 24 + 16 + 6 + 16 + 3);
        assert_eq!(&bytes[0..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        let record = &bytes[24..40];
        assert_eq!(u32::from_le_bytes(record[0..4].try_into().unwrap()), 1500);
        assert_eq!(u32::from_le_bytes(record[4..8].try_into().unwrap()), 123);
        assert_eq!(u32::from_le_bytes(record[8..12].try_into().unwrap()), 6);
        assert_eq!(u32::from_le_bytes(record[12..16].try_into().unwrap()), 8);
        assert_eq!(&bytes[40..46], b"abcdef");
    }
}
