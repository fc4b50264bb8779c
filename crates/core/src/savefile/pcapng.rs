//! A pcapng writer (the IETF draft "PCAP Next Generation Dump File Format",
//! draft-ietf-opsawg-pcapng): one section, one interface per input and link type, nanosecond
//! timestamps, and an enhanced packet block per frame with an optional comment
//! (`opt_comment`), which Wireshark shows as `frame.comment`. Little-endian, as written on
//! every common machine; readers take either byte order.

use std::io::{self, Write};

use crate::time::Timestamp;

const SECTION_HEADER: u32 = 0x0A0D_0D0A;
const INTERFACE_DESCRIPTION: u32 = 0x0000_0001;
const ENHANCED_PACKET: u32 = 0x0000_0006;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;

const OPT_END: u16 = 0;
const OPT_COMMENT: u16 = 1;
const SHB_USERAPPL: u16 = 4;
const IF_NAME: u16 = 2;
const IF_TSRESOL: u16 = 9;

/// A pcapng file being written.
pub(super) struct PcapngWriter<W: Write> {
    pub(super) out: W,
    /// The link type and name of each interface written, by interface id.
    interfaces: Vec<(u32, String)>,
    /// Bytes written so far.
    pub(super) written: u64,
}

impl<W: Write> PcapngWriter<W> {
    /// Writes the section header, naming the writing application.
    pub(super) fn new(out: W, application: &str) -> io::Result<PcapngWriter<W>> {
        let mut writer = PcapngWriter {
            out,
            interfaces: Vec::new(),
            written: 0,
        };
        let mut body = Vec::new();
        body.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        // Section length unknown.
        body.extend_from_slice(&u64::MAX.to_le_bytes());
        option(&mut body, SHB_USERAPPL, application.as_bytes());
        option(&mut body, OPT_END, &[]);
        writer.block(SECTION_HEADER, &body)?;
        Ok(writer)
    }

    /// The interface id for frames of `linktype` from the input `name`, describing a new
    /// interface (nanosecond timestamps) the first time one is asked for.
    pub(super) fn interface(&mut self, linktype: u32, name: &str) -> io::Result<u32> {
        if let Some(id) = self
            .interfaces
            .iter()
            .position(|(l, n)| *l == linktype && n == name)
        {
            return Ok(id as u32);
        }
        let mut body = Vec::new();
        body.extend_from_slice(&u16::try_from(linktype).unwrap_or(0).to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        // No snap length limit.
        body.extend_from_slice(&0u32.to_le_bytes());
        option(&mut body, IF_NAME, name.as_bytes());
        option(&mut body, IF_TSRESOL, &[9]);
        option(&mut body, OPT_END, &[]);
        self.block(INTERFACE_DESCRIPTION, &body)?;
        self.interfaces.push((linktype, name.to_string()));
        Ok((self.interfaces.len() - 1) as u32)
    }

    /// Writes one frame on `interface` at `ts` (its length on the wire `wire_len`), with a
    /// comment when one is given.
    pub(super) fn packet(
        &mut self,
        interface: u32,
        ts: Timestamp,
        data: &[u8],
        wire_len: u32,
        comment: Option<&str>,
    ) -> io::Result<()> {
        let ns = u64::try_from(ts.0).unwrap_or(0);
        let captured = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let mut body = Vec::with_capacity(data.len() + 64);
        body.extend_from_slice(&interface.to_le_bytes());
        body.extend_from_slice(&((ns >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(ns as u32).to_le_bytes());
        body.extend_from_slice(&captured.to_le_bytes());
        body.extend_from_slice(&wire_len.max(captured).to_le_bytes());
        body.extend_from_slice(data);
        pad(&mut body);
        if let Some(text) = comment {
            option(&mut body, OPT_COMMENT, text.as_bytes());
            option(&mut body, OPT_END, &[]);
        }
        self.block(ENHANCED_PACKET, &body)
    }

    /// A block: type, total length, body (a multiple of 4 bytes), total length again.
    fn block(&mut self, kind: u32, body: &[u8]) -> io::Result<()> {
        let total = u32::try_from(body.len() + 12).unwrap_or(u32::MAX);
        self.out.write_all(&kind.to_le_bytes())?;
        self.out.write_all(&total.to_le_bytes())?;
        self.out.write_all(body)?;
        self.out.write_all(&total.to_le_bytes())?;
        self.written += u64::from(total);
        Ok(())
    }
}

/// Appends an option: code, length, value padded to 32 bits. Values longer than an option can
/// hold are cut (at a character boundary for text).
fn option(body: &mut Vec<u8>, code: u16, value: &[u8]) {
    let mut len = value.len().min(usize::from(u16::MAX) - 3);
    while len < value.len() && len > 0 && (value[len] & 0xC0) == 0x80 {
        len -= 1;
    }
    body.extend_from_slice(&code.to_le_bytes());
    body.extend_from_slice(&(len as u16).to_le_bytes());
    body.extend_from_slice(&value[..len]);
    pad(body);
}

fn pad(body: &mut Vec<u8>) {
    while !body.len().is_multiple_of(4) {
        body.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(bytes: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
    }

    /// Every block's two length fields agree and the blocks tile the file; the comment is in
    /// the packet block.
    #[test]
    fn blocks_are_well_formed() {
        let mut w =
            PcapngWriter::new(Vec::new(), "rstscope test").unwrap_or_else(|e| panic!("{e}"));
        let id = w.interface(1, "a.pcap").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(w.interface(1, "a.pcap").ok(), Some(id));
        w.packet(
            id,
            Timestamp(1_700_000_000_123_456_789),
            &[1, 2, 3],
            60,
            Some("frame 7"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(w.written, w.out.len() as u64);
        let bytes = w.out;
        let mut at = 0;
        let mut kinds = Vec::new();
        while at < bytes.len() {
            let total = u32_at(&bytes, at + 4) as usize;
            assert_eq!(total % 4, 0);
            assert_eq!(u32_at(&bytes, at + total - 4) as usize, total);
            kinds.push(u32_at(&bytes, at));
            at += total;
        }
        assert_eq!(at, bytes.len());
        assert_eq!(
            kinds,
            vec![SECTION_HEADER, INTERFACE_DESCRIPTION, ENHANCED_PACKET]
        );
        assert!(bytes.windows(7).any(|w| w == b"frame 7"));
    }
}
