//! What a file that is no capture looks like, from its first bytes, and what to do instead:
//! the words of [`CaptureError::NotACapture`](super::CaptureError::NotACapture).
//!
//! People hand rstscope what they have: tcpdump's printed output instead of its `-w` file, a
//! download that saved an error page, a report, a Zeek log, an archive of captures. Each gets
//! its name and its own advice; only a capture in another binary format is sent to `editcap`.
//! The errors for a stream that gave nothing and for one libpcap refuses are made here too.

use super::compression::Compression;
use super::{CaptureError, pcap_error_text};

/// What the bytes look like, as a noun phrase ("a Zeek log ..."), and what to do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Looks {
    pub(crate) what: String,
    pub(crate) fix: &'static str,
}

/// Text samples in messages stop after this many characters.
const QUOTED: usize = 40;

/// Describes `head`, the first bytes of a stream that is no capture rstscope reads.
pub(crate) fn describe(head: &[u8]) -> Looks {
    let looks = |what: &str, fix| Looks {
        what: what.to_string(),
        fix,
    };
    let text = as_text(head);
    let trimmed = text.map(|text| text.trim_start_matches('\u{feff}').trim_start());
    if head.is_empty() {
        return looks(
            "nothing",
            "the capture was never written into it; pass the capture itself",
        );
    }
    if let Some(inner) = Compression::detect(head) {
        return Looks {
            what: format!("a {} stream (it was compressed twice)", inner.name()),
            fix: "decompress it once (e.g. gzip -dc FILE > capture.zst) and pass the result",
        };
    }
    if head.get(257..262) == Some(b"ustar") {
        return looks(
            "a tar archive",
            "extract it (tar xf FILE) and pass the captures inside",
        );
    }
    if head.starts_with(b"PK\x03\x04") {
        return looks("a zip archive", "unzip it and pass the captures inside");
    }
    if head.starts_with(&[0x02, 0x21, 0x4c, 0x18]) {
        return looks(
            "an lz4 stream in the legacy format (lz4 -l)",
            "decompress it (lz4 -d FILE capture.pcap) and pass the result, or recompress it without -l",
        );
    }
    if let Some(format) = other_capture_format(head) {
        return Looks {
            what: format!("a capture in another format ({format})"),
            fix: "convert it with `editcap -F pcap IN OUT` (Wireshark's) and pass the result",
        };
    }
    let Some(trimmed) = trimmed else {
        return Looks {
            what: format!(
                "binary data of no format rstscope knows (it starts with {})",
                hex(head)
            ),
            fix: "if it is a capture in another format (ERF, Network Monitor, Windows ETL...), convert it with `editcap -F pcap IN OUT`; otherwise pass a pcap or pcapng file",
        };
    };
    describe_text(trimmed)
}

/// Describes a stream of text, after any byte-order mark and leading white space.
fn describe_text(text: &str) -> Looks {
    let lower: String = text.chars().take(512).collect::<String>().to_lowercase();
    let looks = |what: String, fix| Looks { what, fix };
    if text.starts_with("#separator") {
        return looks(
            "a Zeek log (its first line is #separator)".to_string(),
            "rstscope reads packets, not Zeek's logs: pass the capture Zeek read (zeek -r FILE)",
        );
    }
    if lower.starts_with("<!doctype html") || lower.starts_with("<html") || lower.contains("<html")
    {
        return looks(
            "an HTML page".to_string(),
            "a download saved the web page (an error or login page?) instead of the capture; download the capture file itself",
        );
    }
    if text.starts_with('{') || text.starts_with('[') {
        if text.contains("rstscope.report/") {
            return looks(
                "an rstscope JSON report".to_string(),
                "pass the capture the report was made from",
            );
        }
        return looks(
            "JSON text".to_string(),
            "rstscope reads packets, not JSON (tshark -T json, an export, a report): pass the capture it was made from",
        );
    }
    if lower.starts_with("<?xml") {
        return looks(
            "XML text".to_string(),
            "rstscope reads packets, not XML (tshark -T pdml, an export): pass the capture it was made from",
        );
    }
    looks(
        format!("text (it starts with \"{}\")", first_line(text)),
        "write captures with tcpdump -w FILE (what tcpdump prints is text) and pass that file",
    )
}

/// `head` as text, if it is text: UTF-8 (a character cut at the end of the head is fine) with
/// no NUL and no control characters but white space and escape.
fn as_text(head: &[u8]) -> Option<&str> {
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(err) if err.error_len().is_none() => {
            std::str::from_utf8(head.get(..err.valid_up_to())?).ok()?
        }
        Err(_) => return None,
    };
    let binary = text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}' | '\u{1b}'));
    (!text.is_empty() && !binary).then_some(text)
}

/// The first line of `text`, shortened for a message.
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim_end();
    let mut quoted: String = line.chars().take(QUOTED).collect();
    if line.chars().count() > QUOTED {
        quoted.push_str("...");
    }
    quoted.replace('"', "'")
}

/// Another capture format Wireshark's editcap converts, by its magic number (Wireshark's
/// wiretap: snoop.c, netmon.c, netxray.c, 5views.c, nettl.c).
fn other_capture_format(head: &[u8]) -> Option<&'static str> {
    const MAGICS: [(&[u8], &str); 6] = [
        (b"snoop\0\0\0", "snoop"),
        (b"RTSS", "Network Monitor 1"),
        (b"GMBU", "Network Monitor 2"),
        (b"XCP\0", "NetXRay or Sniffer"),
        (b"\xaa\xaa\xaa\xaa", "5Views"),
        (b"\x54\x52\x00\x64\x00", "HP-UX nettl"),
    ];
    MAGICS
        .iter()
        .find(|(magic, _)| head.starts_with(magic))
        .map(|&(_, name)| name)
}

/// The first bytes in hex, for a message.
fn hex(head: &[u8]) -> String {
    head.iter()
        .take(8)
        .map(|byte| format!("{byte:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The error for a stream that gave no byte.
pub(super) fn empty_stream(shown: &str, compression: Option<Compression>) -> CaptureError {
    let (looks, fix) = match compression {
        Some(compression) => (
            format!("its {} stream holds nothing", compression.name()),
            "the capture was never written into it; compress the capture itself (e.g. gzip trace.pcap)",
        ),
        None if shown == "-" => (
            "standard input is empty".to_string(),
            "pipe a capture into it (tcpdump -w - | rstscope analyze -) or name the file",
        ),
        None => (
            "the pipe gave nothing".to_string(),
            "check the command writing into it (tcpdump -w -, not tcpdump > FILE)",
        ),
    };
    CaptureError::NotACapture {
        path: shown.to_string(),
        looks,
        fix: fix.to_string(),
    }
}

/// Turns libpcap's refusal to open a stream into the error that names its cause, from its
/// first bytes `head` (decompressed, when it is compressed). The stream exists and is readable
/// (checked before), so whatever libpcap objects to is its content.
pub(super) fn open_error(
    shown: &str,
    err: &pcap::Error,
    head: &[u8],
    compression: Option<Compression>,
) -> CaptureError {
    let inside = compression
        .map(|compression| format!(" of the capture in its {} stream", compression.name()));
    let inside = inside.as_deref().unwrap_or("");
    let (looks, fix) = if is_capture_magic(head) {
        let detail = pcap_error_text(err);
        let looks = if detail.to_lowercase().contains("truncated") {
            format!("the header{inside} is cut off")
        } else {
            format!("libpcap refuses the header{inside} ({detail})")
        };
        (
            looks,
            "it was cut off or damaged before its first packet; capture it again, or try `editcap -F pcap IN OUT` on it",
        )
    } else {
        let what = describe(head);
        let looks = match compression {
            Some(compression) => format!("its {} stream holds {}", compression.name(), what.what),
            None => format!("it is {}", what.what),
        };
        (looks, what.fix)
    };
    CaptureError::NotACapture {
        path: shown.to_string(),
        looks,
        fix: fix.to_string(),
    }
}

/// True when `head` starts with the magic number of a pcap (any byte order and time stamp
/// precision, and the modified format of Alexey Kuznetzov's patches) or pcapng file.
fn is_capture_magic(head: &[u8]) -> bool {
    const MAGICS: [u32; 7] = [
        0xa1b2_c3d4,
        0xd4c3_b2a1,
        0xa1b2_3c4d,
        0x4d3c_b2a1,
        0xa1b2_cd34,
        0x34cd_b2a1,
        0x0a0d_0d0a,
    ];
    head.first_chunk::<4>()
        .is_some_and(|magic| MAGICS.contains(&u32::from_le_bytes(*magic)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn what(head: &[u8]) -> String {
        describe(head).what
    }

    #[test]
    fn text_is_quoted_by_its_first_line() {
        let looks = describe(b"10.0.0.1.443 > 10.0.0.2.5000: Flags [R], seq 1\nmore\n");
        assert_eq!(
            looks.what,
            "text (it starts with \"10.0.0.1.443 > 10.0.0.2.5000: Flags [R],...\")"
        );
        assert!(looks.fix.contains("tcpdump -w"));
    }

    #[test]
    fn each_kind_of_text_is_named() {
        let cases: [(&[u8], &str); 7] = [
            (b"#separator \\x09\n#set_separator\t,\n", "a Zeek log"),
            (
                b"<!DOCTYPE html>\n<html><body>404</body></html>",
                "an HTML page",
            ),
            (b"\xef\xbb\xbf  <HTML>", "an HTML page"),
            (
                b"{\"schema\": \"rstscope.report/1\"}",
                "an rstscope JSON report",
            ),
            (b"[\n  {\"_source\": {}}\n]", "JSON text"),
            (b"<?xml version=\"1.0\"?><pdml>", "XML text"),
            (b"hello\r\n", "text (it starts with \"hello\")"),
        ];
        for (head, expected) in cases {
            assert!(what(head).starts_with(expected), "{}", what(head));
        }
    }

    #[test]
    fn archives_and_other_formats_are_named() {
        let mut tar = vec![0u8; 512];
        tar[..10].copy_from_slice(b"trace.pcap");
        tar[257..263].copy_from_slice(b"ustar\0");
        assert_eq!(what(&tar), "a tar archive");
        assert_eq!(what(b"PK\x03\x04\x14\0"), "a zip archive");
        assert_eq!(
            what(b"snoop\0\0\0\0\0\0\x02"),
            "a capture in another format (snoop)"
        );
        assert_eq!(
            what(&[0x1f, 0x8b, 8, 0]),
            "a gzip stream (it was compressed twice)"
        );
        assert_eq!(what(b""), "nothing");
        assert_eq!(
            what(&[0, 1, 2, 3, 0xff, 0xfe, 7, 8, 9]),
            "binary data of no format rstscope knows (it starts with 00 01 02 03 ff fe 07 08)"
        );
    }

    #[test]
    fn a_character_cut_at_the_end_of_the_head_is_still_text() {
        let mut head = "résumé ".repeat(10).into_bytes();
        head.push(0xc3);
        assert!(what(&head).starts_with("text"));
    }
}
