//! Writing capture files: the one writer for classic pcap and pcapng, used by `--export-pcap`,
//! by `capture --write` (through [`Recorder`]), and by the generator.
//!
//! Classic pcap is libpcap's format (a 24-byte header, a 16-byte record header per frame,
//! little-endian, microsecond or nanosecond times) byte for byte as `pcap_dump` writes it;
//! pcapng is written by `pcapng.rs` (one section, an interface per input and link type, nanosecond
//! times, a comment per packet). Both take the frames as they are: cutting to a snap length
//! is the caller's choice.

mod classic;
mod pcapng;
mod record;

use std::io::{self, Write};

use crate::time::Timestamp;
use classic::ClassicWriter;
use pcapng::PcapngWriter;
pub use record::Recorder;

/// How finely a classic pcap file records times (pcapng always records nanoseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Micro,
    Nano,
}

/// The LINKTYPE value a file records for a libpcap DLT value. They are the same number except
/// where platforms once disagreed (libpcap's `dlt_to_linktype`): DLT_RAW is 12 or 14 by
/// platform and always LINKTYPE_RAW (101) in a file.
pub fn linktype_of(dlt: i32) -> u32 {
    match dlt {
        12 | 14 => 101,
        _ => u32::try_from(dlt).unwrap_or(0),
    }
}

/// A capture file being written: classic pcap (one link type) or pcapng.
pub struct SaveFile<W: Write> {
    format: Format<W>,
}

enum Format<W: Write> {
    Classic(ClassicWriter<W>),
    Pcapng(PcapngWriter<W>),
}

impl<W: Write> SaveFile<W> {
    /// A classic pcap file of link type `dlt`, its header claiming `snaplen`.
    pub fn pcap(out: W, dlt: i32, snaplen: u32, precision: Precision) -> io::Result<SaveFile<W>> {
        Ok(SaveFile {
            format: Format::Classic(ClassicWriter::new(
                out,
                linktype_of(dlt),
                snaplen,
                precision,
            )?),
        })
    }

    /// A pcapng file whose section header names `application` as the writer.
    pub fn pcapng(out: W, application: &str) -> io::Result<SaveFile<W>> {
        Ok(SaveFile {
            format: Format::Pcapng(PcapngWriter::new(out, application)?),
        })
    }

    /// The interface to write frames of link type `dlt` on (pcapng describes one the first
    /// time it is asked; a classic file has just the one it was made with).
    pub fn interface(&mut self, dlt: i32, name: &str) -> io::Result<u32> {
        match &mut self.format {
            Format::Classic(_) => Ok(0),
            Format::Pcapng(writer) => writer.interface(linktype_of(dlt), name),
        }
    }

    /// Writes one frame: `data` as captured, `wire_len` its length on the wire, and a
    /// comment where the format holds one (pcapng).
    pub fn packet(
        &mut self,
        interface: u32,
        ts: Timestamp,
        data: &[u8],
        wire_len: u32,
        comment: Option<&str>,
    ) -> io::Result<()> {
        match &mut self.format {
            Format::Classic(writer) => writer.packet(ts, [data, &[]], wire_len),
            Format::Pcapng(writer) => writer.packet(interface, ts, data, wire_len, comment),
        }
    }

    /// Writes one frame of a classic file from two pieces (headers, then payload), so a
    /// generator need not join them; the frame captured is `head` then `tail`.
    pub fn packet_in_parts(
        &mut self,
        ts: Timestamp,
        head: &[u8],
        tail: &[u8],
        wire_len: u32,
    ) -> io::Result<()> {
        match &mut self.format {
            Format::Classic(writer) => writer.packet(ts, [head, tail], wire_len),
            Format::Pcapng(writer) => {
                let joined = [head, tail].concat();
                writer.packet(0, ts, &joined, wire_len, None)
            }
        }
    }

    /// Bytes written so far, headers included.
    pub fn written(&self) -> u64 {
        match &self.format {
            Format::Classic(writer) => writer.written,
            Format::Pcapng(writer) => writer.written,
        }
    }

    pub fn flush(&mut self) -> io::Result<()> {
        match &mut self.format {
            Format::Classic(writer) => writer.out.flush(),
            Format::Pcapng(writer) => writer.out.flush(),
        }
    }

    /// Flushes and hands back the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.flush()?;
        Ok(match self.format {
            Format::Classic(writer) => writer.out,
            Format::Pcapng(writer) => writer.out,
        })
    }
}
