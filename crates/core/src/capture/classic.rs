//! A reader of our own for classic pcap files, the format tcpdump writes: the file is read in
//! large blocks and each frame is a slice of the block, where libpcap reads every record with
//! two small `fread`s and copies each frame into its own buffer. On a capture of small frames
//! that copying, not the analysis, was the biggest single cost of reading.
//!
//! It takes only the plain case: pcap 2.4, either byte order, micro- or nanosecond time
//! stamps, no FCS bits in the link-type field. Any other file (pcapng, older versions, odd
//! headers) is left to libpcap. On the files it takes it gives what libpcap gives: the same
//! frames, time stamps, snap-length handling (a record longer than the file's snap length is
//! cut to it; a snap length of 0 or above 262,144 means 262,144) and the same reasons when a
//! record is cut off or absurd.
//!
//! Hand-written on purpose, where the `pcap` crate (libpcap) and `pcap-file` already read the
//! format: it is measurably faster on the files it takes (`scripts/bench`: the block reads and
//! borrowed slices, not the analysis, set the speed on small frames).

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// libpcap's largest snap length for the link types rstscope reads (MAXIMUM_SNAPLEN).
const MAXIMUM_SNAPLEN: u32 = 262_144;

const FILE_HEADER: usize = 24;
const RECORD_HEADER: usize = 16;

/// Bytes read from the file at a time; a whole record (at most 16 + 262,144 bytes) always fits.
const BLOCK: usize = 1 << 20;

/// One record as read.
#[derive(Debug)]
pub(super) enum Record<'a> {
    Frame {
        /// Seconds and nanoseconds, as libpcap gives them with nanosecond precision.
        secs: i64,
        nanos: i64,
        data: &'a [u8],
        wire_len: u32,
    },
    End,
    /// The file is cut off or corrupt here: libpcap's words for why.
    Broken(String),
}

/// An open classic pcap file.
pub(super) struct ClassicPcap {
    input: Box<dyn Read + Send>,
    buffer: Vec<u8>,
    /// The unread bytes are `buffer[start..end]`.
    start: usize,
    end: usize,
    /// Set once a read returned nothing.
    eof: bool,
    swapped: bool,
    nanosecond: bool,
    snapshot: u32,
    dlt: i32,
}

impl ClassicPcap {
    /// Opens `path` if it is a regular classic pcap file this reader takes; None leaves it to
    /// libpcap (pipes, and every file whose header libpcap would refuse, so its error stands).
    pub(super) fn open(path: &Path) -> io::Result<Option<ClassicPcap>> {
        // A pipe or device can be opened and read only once: it comes through a feed instead.
        if !std::fs::metadata(path)?.is_file() {
            return Ok(None);
        }
        ClassicPcap::from_reader(Box::new(File::open(path)?))
    }

    /// Reads a classic pcap file from `input` (a file, or the pipe of a feed that decompresses
    /// one) if its header is one this reader takes; None when it is not (its first bytes are
    /// gone then: a caller with a stream looks first, with [`accepts`]).
    pub(super) fn from_reader(mut input: Box<dyn Read + Send>) -> io::Result<Option<ClassicPcap>> {
        let mut header = [0u8; FILE_HEADER];
        if read_full(&mut input, &mut header)? < FILE_HEADER {
            return Ok(None);
        }
        let Some(header) = Header::parse(&header) else {
            return Ok(None);
        };
        Ok(Some(ClassicPcap {
            input,
            buffer: vec![0; BLOCK],
            start: 0,
            end: 0,
            eof: false,
            swapped: header.swapped,
            nanosecond: header.nanosecond,
            snapshot: header.snapshot,
            dlt: header.dlt,
        }))
    }

    /// The file's DLT.
    pub(super) fn dlt(&self) -> i32 {
        self.dlt
    }

    /// Reads the next record.
    pub(super) fn next(&mut self) -> Record<'_> {
        let available = match self.fill(RECORD_HEADER) {
            Ok(available) => available,
            Err(err) => return Record::Broken(format!("error reading dump file: {err}")),
        };
        if available == 0 {
            return Record::End;
        }
        if available < RECORD_HEADER {
            return Record::Broken(format!(
                "truncated dump file; tried to read {RECORD_HEADER} header bytes, only got {available}"
            ));
        }
        let at = self.start;
        let word = |n: usize| {
            let b = &self.buffer[at + 4 * n..at + 4 * n + 4];
            let bytes = [b[0], b[1], b[2], b[3]];
            if self.swapped {
                u32::from_be_bytes(bytes)
            } else {
                u32::from_le_bytes(bytes)
            }
        };
        let (secs, fraction, caplen, wire_len) = (word(0), word(1), word(2), word(3));
        if caplen > MAXIMUM_SNAPLEN {
            return Record::Broken(if caplen > self.snapshot {
                format!(
                    "invalid packet capture length {caplen}, bigger than snaplen of {}",
                    self.snapshot
                )
            } else {
                format!(
                    "invalid packet capture length {caplen}, bigger than maximum of {MAXIMUM_SNAPLEN}"
                )
            });
        }
        // At most 16 + 262,144 bytes: always within one block.
        let record = RECORD_HEADER + caplen as usize;
        let available = match self.fill(record) {
            Ok(available) => available,
            Err(err) => return Record::Broken(format!("error reading dump file: {err}")),
        };
        if available < record {
            return Record::Broken(format!(
                "truncated dump file; tried to read {caplen} captured bytes, only got {}",
                available - RECORD_HEADER
            ));
        }
        // A record longer than the snap length is cut to it, the rest skipped.
        let kept = caplen.min(self.snapshot) as usize;
        let data_at = self.start + RECORD_HEADER;
        self.start += record;
        // As libpcap 1.10 gives them (the tests hold it to that): a nanosecond file's fields
        // pass through unsigned; a microsecond file's are read as signed 32-bit numbers and
        // the fraction scaled to nanoseconds.
        let (secs, nanos) = if self.nanosecond {
            (i64::from(secs), i64::from(fraction))
        } else {
            (i64::from(secs as i32), i64::from(fraction as i32) * 1000)
        };
        Record::Frame {
            secs,
            nanos,
            data: &self.buffer[data_at..data_at + kept],
            wire_len,
        }
    }

    /// Makes at least `wanted` unread bytes available if the file has them; returns how many
    /// are available (fewer only at the end of the file).
    fn fill(&mut self, wanted: usize) -> io::Result<usize> {
        if self.end - self.start >= wanted || self.eof {
            return Ok(self.end - self.start);
        }
        self.buffer.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        while self.end < wanted {
            let read = match self.input.read(&mut self.buffer[self.end..]) {
                Ok(read) => read,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            };
            if read == 0 {
                self.eof = true;
                break;
            }
            self.end += read;
        }
        Ok(self.end - self.start)
    }
}

/// True when `head`, a stream's first bytes, is a classic pcap header this reader takes.
pub(super) fn accepts(head: &[u8]) -> bool {
    head.first_chunk::<FILE_HEADER>()
        .is_some_and(|header| Header::parse(header).is_some())
}

/// What the file header says, for the headers this reader takes.
struct Header {
    swapped: bool,
    nanosecond: bool,
    snapshot: u32,
    dlt: i32,
}

impl Header {
    /// The header's fields; None for a header this reader leaves to libpcap.
    fn parse(header: &[u8; FILE_HEADER]) -> Option<Header> {
        let magic = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let (swapped, nanosecond) = match magic {
            0xa1b2_c3d4 => (false, false),
            0xa1b2_3c4d => (false, true),
            0xd4c3_b2a1 => (true, false),
            0x4d3c_b2a1 => (true, true),
            _ => return None,
        };
        let word = |at: usize| {
            let bytes = [header[at], header[at + 1], header[at + 2], header[at + 3]];
            if swapped {
                u32::from_be_bytes(bytes)
            } else {
                u32::from_le_bytes(bytes)
            }
        };
        let version = word(4);
        let (major, minor) = if swapped {
            (version >> 16, version & 0xffff)
        } else {
            (version & 0xffff, version >> 16)
        };
        let (snaplen, linktype) = (word(16), word(20));
        let dlt = i32::try_from(linktype).ok()?;
        if (major, minor) != (2, 4) || linktype > 0xffff {
            return None;
        }
        let snapshot = if snaplen == 0 || snaplen > MAXIMUM_SNAPLEN {
            MAXIMUM_SNAPLEN
        } else {
            snaplen
        };
        Some(Header {
            swapped,
            nanosecond,
            snapshot,
            dlt,
        })
    }
}

/// Reads until `buffer` is full or the input ends; returns the bytes read.
pub(crate) fn read_full(input: &mut dyn Read, buffer: &mut [u8]) -> io::Result<usize> {
    match read_up_to(input, buffer) {
        (_, Some(err)) => Err(err),
        (filled, None) => Ok(filled),
    }
}

/// Reads until `buffer` is full, the input ends or a read fails; returns the bytes read and
/// the failure (the bytes before a failure still count: a feed hands them on).
pub(super) fn read_up_to(input: &mut dyn Read, buffer: &mut [u8]) -> (usize, Option<io::Error>) {
    let mut filled = 0;
    while filled < buffer.len() {
        match input.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return (filled, Some(err)),
        }
    }
    (filled, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcap::{Capture, Precision};

    /// A classic pcap file: header fields in the given byte order, then the records.
    fn file(
        magic: u32,
        big_endian: bool,
        snaplen: u32,
        records: &[(u32, u32, u32, u32, usize)],
    ) -> Vec<u8> {
        let put = |out: &mut Vec<u8>, v: u32| {
            out.extend(if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            });
        };
        let mut out = Vec::new();
        put(&mut out, magic);
        let version = if big_endian { 2 << 16 | 4 } else { 4 << 16 | 2 };
        put(&mut out, version);
        put(&mut out, 0);
        put(&mut out, 0);
        put(&mut out, snaplen);
        put(&mut out, 1);
        for (n, &(secs, fraction, caplen, len, present)) in records.iter().enumerate() {
            for v in [secs, fraction, caplen, len] {
                put(&mut out, v);
            }
            out.extend((0..present).map(|i| (i + n) as u8));
        }
        out
    }

    /// Every record as (time, data, wire length), then how the file ended.
    type Read = (Vec<(i64, Vec<u8>, u32)>, String);

    fn ours(path: &Path) -> Read {
        let mut reader = ClassicPcap::open(path)
            .unwrap()
            .expect("a classic pcap file");
        let mut frames = Vec::new();
        loop {
            match reader.next() {
                Record::Frame {
                    secs,
                    nanos,
                    data,
                    wire_len,
                } => {
                    frames.push((
                        crate::time::Timestamp::from_parts(secs, nanos).0,
                        data.to_vec(),
                        wire_len,
                    ));
                }
                Record::End => return (frames, "end".into()),
                Record::Broken(reason) => return (frames, reason),
            }
        }
    }

    fn libpcaps(path: &Path) -> Read {
        let mut capture = Capture::from_file_with_precision(path, Precision::Nano).unwrap();
        let mut frames = Vec::new();
        loop {
            match capture.next_packet() {
                Ok(packet) => frames.push((
                    crate::time::Timestamp::from_parts(
                        packet.header.ts.tv_sec,
                        packet.header.ts.tv_usec,
                    )
                    .0,
                    packet.data.to_vec(),
                    packet.header.len,
                )),
                Err(pcap::Error::NoMorePackets) => return (frames, "end".into()),
                Err(err) => return (frames, super::super::pcap_error_text(&err)),
            }
        }
    }

    #[test]
    fn reads_what_libpcap_reads_frame_for_frame_and_fails_where_it_fails() {
        let dir = tempfile::tempdir().unwrap();
        let normal = [
            (1_700_000_000, 5, 60, 60, 60),
            (1_700_000_001, 999_999, 54, 1514, 54),
        ];
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("le-usec", file(0xa1b2_c3d4, false, 65535, &normal)),
            ("be-usec", file(0xa1b2_c3d4, true, 65535, &normal)),
            ("le-nsec", file(0xa1b2_3c4d, false, 65535, &normal)),
            ("be-nsec", file(0xa1b2_3c4d, true, 262_144, &normal)),
            (
                "extreme-times",
                file(
                    0xa1b2_c3d4,
                    false,
                    65535,
                    &[
                        (u32::MAX, 999_999, 60, 60, 60),
                        (1_700_000_000, 4_000_000_000, 60, 60, 60),
                        (0x8000_0000, 0, 60, 60, 60),
                    ],
                ),
            ),
            (
                "extreme-times-nsec",
                file(
                    0xa1b2_3c4d,
                    true,
                    65535,
                    &[(u32::MAX, u32::MAX, 60, 60, 60)],
                ),
            ),
            ("snaplen-0", file(0xa1b2_c3d4, false, 0, &normal)),
            ("snaplen-huge", file(0xa1b2_c3d4, false, u32::MAX, &normal)),
            (
                "over-snaplen",
                file(
                    0xa1b2_c3d4,
                    false,
                    64,
                    &[(1, 0, 1000, 1000, 1000), (2, 0, 60, 60, 60)],
                ),
            ),
            (
                "caplen-over-len",
                file(0xa1b2_c3d4, false, 65535, &[(1, 0, 60, 10, 60)]),
            ),
            (
                "zero-length",
                file(
                    0xa1b2_c3d4,
                    false,
                    65535,
                    &[(1, 0, 0, 0, 0), (2, 0, 60, 60, 60)],
                ),
            ),
            ("header-only", file(0xa1b2_c3d4, false, 65535, &[])),
            (
                "data-cut",
                file(
                    0xa1b2_c3d4,
                    false,
                    65535,
                    &[(1, 0, 60, 60, 60), (2, 0, 60, 60, 20)],
                ),
            ),
            (
                "over-snaplen-cut",
                file(0xa1b2_c3d4, false, 64, &[(1, 0, 1000, 1000, 500)]),
            ),
            (
                "absurd-caplen",
                file(
                    0xa1b2_c3d4,
                    false,
                    65535,
                    &[(1, 0, 60, 60, 60), (2, 0, 300_000, 300_000, 10)],
                ),
            ),
            (
                "absurd-caplen-small-snap",
                file(0xa1b2_c3d4, false, 64, &[(2, 0, 300_000, 300_000, 10)]),
            ),
        ];
        for (name, mut bytes) in cases {
            let path = dir.path().join(format!("{name}.pcap"));
            std::fs::write(&path, &bytes).unwrap();
            assert_eq!(ours(&path), libpcaps(&path), "{name}");
            // The same file with a few stray bytes after its last record: a cut-off header.
            bytes.extend([1, 2, 3, 4, 5]);
            std::fs::write(&path, &bytes).unwrap();
            assert_eq!(ours(&path), libpcaps(&path), "{name} + 5 bytes");
        }
    }

    #[test]
    fn records_across_block_boundaries_come_out_whole() {
        let dir = tempfile::tempdir().unwrap();
        // 3 MB of records of awkward sizes: many straddle the 1 MiB blocks.
        let records: Vec<_> = (0..3000u32)
            .map(|n| (n, 0, 997 + n % 13, 1500, (997 + n % 13) as usize))
            .collect();
        let path = dir.path().join("blocks.pcap");
        std::fs::write(&path, file(0xa1b2_c3d4, false, 65535, &records)).unwrap();
        let read = ours(&path);
        assert_eq!(read.0.len(), 3000);
        assert_eq!(read, libpcaps(&path));
    }

    #[test]
    fn other_files_are_left_to_libpcap() {
        let dir = tempfile::tempdir().unwrap();
        let mut old = file(0xa1b2_c3d4, false, 65535, &[(1, 0, 60, 60, 60)]);
        old[6] = 3; // version 2.3: caplen and len may be swapped
        let mut fcs = file(0xa1b2_c3d4, false, 65535, &[]);
        fcs[23] = 0x14; // FCS bits in the link-type field
        let pcapng = [0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0].repeat(4);
        for (name, bytes) in [
            ("v23", old),
            ("fcs", fcs),
            ("ng", pcapng),
            ("short", vec![0xd4, 0xc3, 0xb2]),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            assert!(ClassicPcap::open(&path).unwrap().is_none(), "{name}");
        }
    }
}
