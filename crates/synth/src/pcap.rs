//! The classic libpcap file format, written directly: a 24-byte global header, then for each
//! frame a 16-byte record header and the captured bytes. Microsecond timestamps, little-endian,
//! Ethernet link type, so every reader (tcpdump, tshark, tcptrace, argus, libpcap) takes it.
//!
//! The writer only cuts frames to the snap length and counts bytes; what a frame holds is
//! `frame`'s job, and buffering is the caller's (hand it a `BufWriter`).

use std::io::{self, Write};

/// The magic number of a microsecond-resolution pcap file.
const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
/// LINKTYPE_ETHERNET.
const LINKTYPE_ETHERNET: u32 = 1;

/// A pcap file being written.
pub(crate) struct PcapWriter<W: Write> {
    out: W,
    snaplen: usize,
    /// Bytes written so far, headers included.
    pub written: u64,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the global header; frames longer than `snaplen` will be cut.
    pub(crate) fn new(mut out: W, snaplen: u32) -> io::Result<PcapWriter<W>> {
        let mut header = Vec::with_capacity(24);
        header.extend_from_slice(&MAGIC_MICROS.to_le_bytes());
        header.extend_from_slice(&2u16.to_le_bytes());
        header.extend_from_slice(&4u16.to_le_bytes());
        header.extend_from_slice(&0i32.to_le_bytes()); // thiszone: UTC
        header.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        header.extend_from_slice(&snaplen.to_le_bytes());
        header.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        out.write_all(&header)?;
        Ok(PcapWriter {
            out,
            snaplen: usize::try_from(snaplen).unwrap_or(usize::MAX),
            written: 24,
        })
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
        let mut record = [0u8; 16];
        let secs = (ts_ns / 1_000_000_000) as u32;
        let micros = (ts_ns % 1_000_000_000 / 1000) as u32;
        record[0..4].copy_from_slice(&secs.to_le_bytes());
        record[4..8].copy_from_slice(&micros.to_le_bytes());
        record[8..12].copy_from_slice(&(captured as u32).to_le_bytes());
        record[12..16].copy_from_slice(&(wire as u32).to_le_bytes());
        self.out.write_all(&record)?;
        self.out.write_all(head)?;
        self.out.write_all(payload)?;
        self.written += 16 + captured as u64;
        Ok(captured < wire)
    }

    /// Flushes and hands back the output.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
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
