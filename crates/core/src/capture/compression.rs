//! Compressed captures: which compression a stream is in, told by its first bytes (never by
//! the file's name), and the decoder that streams it.
//!
//! Each format's magic number is the one its own tool writes: gzip (RFC 1952 §2.3.1), zstd
//! (RFC 8878 §3.1.1), xz (the .xz file format, §2.1.1.1), bzip2 ("BZh" and the block size) and
//! the LZ4 frame format (lz4's `doc/lz4_Frame_format.md`). Every decoder reads concatenated
//! members or frames, as `gzip -d` and the others do, so `cat a.gz b.gz` reads as one stream.
//! Feeding the decoded bytes to a reader is `feed`'s job.

use std::io::{self, Read};

/// A compression rstscope decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    Gzip,
    Zstd,
    Xz,
    Bzip2,
    Lz4,
}

/// The most bytes any magic number below needs.
pub(crate) const MAGIC_LEN: usize = 6;

impl Compression {
    /// The compression whose magic number `head` starts with.
    pub(crate) fn detect(head: &[u8]) -> Option<Compression> {
        match head {
            [0x1f, 0x8b, ..] => Some(Compression::Gzip),
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Some(Compression::Zstd),
            [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Some(Compression::Xz),
            [b'B', b'Z', b'h', b'1'..=b'9', ..] => Some(Compression::Bzip2),
            [0x04, 0x22, 0x4d, 0x18, ..] => Some(Compression::Lz4),
            _ => None,
        }
    }

    /// The name people know it by, as its tool is called.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Xz => "xz",
            Compression::Bzip2 => "bzip2",
            Compression::Lz4 => "lz4",
        }
    }

    /// A reader of the decompressed bytes of `compressed`.
    pub(crate) fn decoder<'a>(
        self,
        compressed: impl Read + Send + 'a,
    ) -> io::Result<Box<dyn Read + Send + 'a>> {
        Ok(match self {
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(compressed)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(compressed)?),
            Compression::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(compressed)),
            Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(compressed)),
            Compression::Lz4 => Box::new(lz4_flex::frame::FrameDecoder::new(compressed)),
        })
    }
}

/// The compression a capture file is in (by its first bytes), as its tool is called; `None`
/// for an uncompressed file, one that cannot be opened, or anything not a regular file (a pipe
/// must not lose its first bytes to a peek).
pub fn compression_of(path: &std::path::Path) -> Option<&'static str> {
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return None;
    }
    let mut head = [0u8; MAGIC_LEN];
    let mut file = std::fs::File::open(path).ok()?;
    let filled = super::classic::read_full(&mut file, &mut head).ok()?;
    Compression::detect(&head[..filled]).map(Compression::name)
}

/// A byte count as people read sizes: `900 bytes`, `12 KB`, `3.4 MB`, `1.2 GB` (decimal units,
/// as `ls -h --si` and the compressors' own summaries give them).
pub(crate) fn size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1_000_000_000, "GB"), (1_000_000, "MB"), (1_000, "KB")];
    for (unit, name) in UNITS {
        if bytes >= unit {
            let value = bytes as f64 / unit as f64;
            return if value < 10.0 {
                format!("{value:.1} {name}")
            } else {
                format!("{value:.0} {name}")
            };
        }
    }
    if bytes == 1 {
        "1 byte".to_string()
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_magic_number_is_told_apart() {
        let cases: [(&[u8], Option<Compression>); 9] = [
            (&[0x1f, 0x8b, 0x08, 0], Some(Compression::Gzip)),
            (&[0x28, 0xb5, 0x2f, 0xfd, 0x24], Some(Compression::Zstd)),
            (b"\xfd7zXZ\x00\x00", Some(Compression::Xz)),
            (b"BZh91AY&SY", Some(Compression::Bzip2)),
            (&[0x04, 0x22, 0x4d, 0x18, 0x64], Some(Compression::Lz4)),
            // Classic pcap, pcapng, text, and a "BZh" that is not a block size.
            (&[0xd4, 0xc3, 0xb2, 0xa1], None),
            (&[0x0a, 0x0d, 0x0d, 0x0a], None),
            (b"BZhx", None),
            (&[0x1f], None),
        ];
        for (head, expected) in cases {
            assert_eq!(Compression::detect(head), expected, "{head:02x?}");
        }
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(0), "0 bytes");
        assert_eq!(size(1), "1 byte");
        assert_eq!(size(999), "999 bytes");
        assert_eq!(size(12_345), "12 KB");
        assert_eq!(size(3_400_000), "3.4 MB");
        assert_eq!(size(12_000_000), "12 MB");
        assert_eq!(size(1_250_000_000), "1.2 GB");
    }
}
