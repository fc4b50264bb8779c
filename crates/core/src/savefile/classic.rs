//! Classic pcap, as libpcap's `pcap_dump` writes it on a little-endian machine: magic,
//! version 2.4, zone 0, sigfigs 0, snap length, link type; then per frame seconds,
//! micro- or nanoseconds, captured length, wire length, and the bytes.

use std::io::{self, Write};

use super::Precision;
use crate::time::Timestamp;

const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
const MAGIC_NANOS: u32 = 0xa1b2_3c4d;

pub(super) struct ClassicWriter<W: Write> {
    pub(super) out: W,
    precision: Precision,
    pub(super) written: u64,
}

impl<W: Write> ClassicWriter<W> {
    pub(super) fn new(
        mut out: W,
        linktype: u32,
        snaplen: u32,
        precision: Precision,
    ) -> io::Result<ClassicWriter<W>> {
        let magic = match precision {
            Precision::Micro => MAGIC_MICROS,
            Precision::Nano => MAGIC_NANOS,
        };
        let mut header = [0u8; 24];
        header[0..4].copy_from_slice(&magic.to_le_bytes());
        header[4..6].copy_from_slice(&2u16.to_le_bytes());
        header[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone (UTC) and sigfigs stay 0.
        header[16..20].copy_from_slice(&snaplen.to_le_bytes());
        header[20..24].copy_from_slice(&linktype.to_le_bytes());
        out.write_all(&header)?;
        Ok(ClassicWriter {
            out,
            precision,
            written: 24,
        })
    }

    /// One record: the captured bytes are `parts` one after the other.
    pub(super) fn packet(
        &mut self,
        ts: Timestamp,
        parts: [&[u8]; 2],
        wire_len: u32,
    ) -> io::Result<()> {
        let captured = parts[0].len() + parts[1].len();
        let (secs, nanos) = ts.split();
        let fraction = match self.precision {
            Precision::Micro => nanos / 1000,
            Precision::Nano => nanos,
        };
        let mut record = [0u8; 16];
        // The file holds 32 bits of seconds, as libpcap writes them.
        record[0..4].copy_from_slice(&(secs as u32).to_le_bytes());
        record[4..8].copy_from_slice(&fraction.to_le_bytes());
        record[8..12].copy_from_slice(&u32::try_from(captured).unwrap_or(u32::MAX).to_le_bytes());
        record[12..16].copy_from_slice(&wire_len.to_le_bytes());
        self.out.write_all(&record)?;
        self.out.write_all(parts[0])?;
        self.out.write_all(parts[1])?;
        self.written += 16 + captured as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_record_are_libpcaps() {
        let mut writer = ClassicWriter::new(Vec::new(), 1, 65535, Precision::Nano)
            .unwrap_or_else(|e| panic!("{e}"));
        writer
            .packet(Timestamp::from_parts(7, 123_456_789), [&[1, 2], &[3]], 60)
            .unwrap_or_else(|e| panic!("{e}"));
        let bytes = writer.out;
        assert_eq!(&bytes[0..4], &[0x4d, 0x3c, 0xb2, 0xa1]);
        assert_eq!(&bytes[16..24], &[0xff, 0xff, 0, 0, 1, 0, 0, 0]);
        assert_eq!(&bytes[24..28], &7u32.to_le_bytes());
        assert_eq!(&bytes[28..32], &123_456_789u32.to_le_bytes());
        assert_eq!(&bytes[32..36], &3u32.to_le_bytes());
        assert_eq!(&bytes[36..40], &60u32.to_le_bytes());
        assert_eq!(&bytes[40..], &[1, 2, 3]);
        assert_eq!(writer.written, 43);
    }

    #[test]
    fn microsecond_files_keep_microseconds() {
        let mut writer = ClassicWriter::new(Vec::new(), 1, 128, Precision::Micro)
            .unwrap_or_else(|e| panic!("{e}"));
        writer
            .packet(Timestamp::from_parts(1, 999_999_999), [&[], &[]], 0)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&writer.out[0..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(&writer.out[28..32], &999_999u32.to_le_bytes());
    }
}
