//! Capture files, one frame at a time: classic pcap by our own block reader (`classic`),
//! pcapng and anything unusual by libpcap.
//!
//! A compressed file (gzip, zstd, xz, bzip2, lz4: told by its first bytes, never its name), a
//! pipe and standard input (`-`) come through a feed (`feed`): a thread that decompresses (or
//! copies) the stream into an anonymous pipe, which the same readers read. Its first bytes
//! choose the reader, and name what the input looks like when it is no capture (`sniff`).
//!
//! Frames are numbered from 1 within each file, as Wireshark numbers them. The BPF filter is
//! compiled by libpcap for the file's link type and tested on each frame in user space; a frame
//! that does not match is still handed on, marked unselected (`Frame::selected`): the analysis
//! sees every frame, and the filter only chooses which flows are reported. A read error partway through ends
//! the file with [`NextFrame::Broken`]; the frames before it stand.

use std::fs::File;
use std::io::{self, IsTerminal, Read, Seek};
use std::path::Path;

use pcap::{BpfProgram, Capture, Offline, Precision};

use super::classic::{self, ClassicPcap, Record, read_full};
use super::compression::{Compression, MAGIC_LEN};
use super::feed::{Feed, stream_failure};
use super::sniff::{empty_stream, open_error};
use super::{CaptureError, Frame, LinkType, NextFrame, Source, pcap_error_text};
use crate::time::Timestamp;

/// What reads the file's records.
enum Reader {
    Classic(ClassicPcap),
    Libpcap(Capture<Offline>),
    /// Closed, before its feed is (see `FileSource`'s `Drop`).
    Closed,
}

/// An open capture file, compressed file, pipe or standard input.
pub struct FileSource {
    path: String,
    reader: Reader,
    /// The feed the reader reads from, for all but plain regular files.
    feed: Option<Feed>,
    link_type: LinkType,
    /// The file's own DLT (several map to one `LinkType`), for writing an export in kind.
    dlt: i32,
    filter: Option<BpfProgram>,
    frames_read: u64,
}

impl FileSource {
    /// Opens `path` (`-` for standard input) and compiles `filter` (a tcpdump expression)
    /// for its link type.
    pub fn open(path: &Path, filter: Option<&str>) -> Result<FileSource, CaptureError> {
        let shown = path.display().to_string();
        let (reader, feed) = match open_input(path, &shown)? {
            Opened::Plain => (open_plain(path, &shown)?, None),
            Opened::Fed(feed) => match open_fed(&feed, &shown) {
                Ok(reader) => (reader, Some(feed)),
                Err(err) => return Err(err),
            },
        };
        match link_and_filter(&reader, &shown, filter) {
            Ok((dlt, link_type, filter)) => Ok(FileSource {
                path: shown,
                reader,
                feed,
                link_type,
                dlt,
                filter,
                frames_read: 0,
            }),
            Err(err) => {
                // The reader first: a feed waits for its thread, which may be writing to it.
                drop(reader);
                drop(feed);
                Err(err)
            }
        }
    }

    /// The file's DLT value.
    pub fn dlt(&self) -> i32 {
        self.dlt
    }

    /// Checks that `path` will open, before anything is written: a regular file is opened
    /// and the filter compiled for it. A pipe (a FIFO, `<(tcpdump -w - ...)`) can be read
    /// only once, so it is only looked up; opening it here would take the capture's first
    /// bytes, or its writer's reader.
    /// Standard input likewise. A compressed file is opened and its start decompressed.
    pub fn check(path: &Path, filter: Option<&str>) -> Result<(), CaptureError> {
        if is_stdin(path) || is_read_once(path) {
            return Ok(());
        }
        FileSource::open(path, filter).map(drop)
    }

    /// Fails on a pipe or standard input: for a second read of the inputs, by `reader`
    /// (`--export-pcap`, `compare`). A compressed file is decompressed again.
    pub fn check_rereadable(path: &Path, reader: &'static str) -> Result<(), CaptureError> {
        let what = if is_stdin(path) {
            "is standard input"
        } else if is_read_once(path) {
            "is a pipe"
        } else {
            return Ok(());
        };
        Err(CaptureError::ReadOnce {
            path: path.display().to_string(),
            what,
            reader,
        })
    }
}

impl Drop for FileSource {
    /// Closes the reader before the feed: the feed's thread stops writing once every reader
    /// of its pipe is gone, and the feed waits for it.
    fn drop(&mut self) {
        self.reader = Reader::Closed;
    }
}

/// What an input turned out to be once opened.
enum Opened {
    /// A regular file of plain capture bytes: read by path.
    Plain,
    /// A compressed file, a pipe or standard input, read through a feed.
    Fed(Feed),
}

/// True for `-`, standard input.
fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Opens an input and tells which way it is read.
fn open_input(path: &Path, shown: &str) -> Result<Opened, CaptureError> {
    if is_stdin(path) {
        let stdin = io::stdin();
        if stdin.is_terminal() {
            return Err(CaptureError::StdinIsTerminal);
        }
        return start_feed(Box::new(stdin), shown, true);
    }
    let (mut file, regular) = open_file(path, shown)?;
    if !regular {
        return start_feed(Box::new(file), shown, true);
    }
    let mut magic = [0u8; MAGIC_LEN];
    let got = read_full(&mut file, &mut magic).map_err(|err| unreadable(shown, &err))?;
    let Some(compression) = magic.get(..got).and_then(Compression::detect) else {
        return Ok(Opened::Plain);
    };
    file.rewind().map_err(|err| unreadable(shown, &err))?;
    Feed::start(Box::new(file), Vec::new(), Some(compression), false)
        .map(Opened::Fed)
        .map_err(|err| unreadable(shown, &err))
}

/// Starts the feed of a stream that can be read only once: its first bytes tell whether it
/// is compressed, and travel on with the rest.
fn start_feed(
    mut raw: Box<dyn Read + Send>,
    shown: &str,
    may_block: bool,
) -> Result<Opened, CaptureError> {
    let mut magic = vec![0u8; MAGIC_LEN];
    let got = read_full(&mut raw, &mut magic).map_err(|err| unreadable(shown, &err))?;
    magic.truncate(got);
    let compression = Compression::detect(&magic);
    Feed::start(raw, magic, compression, may_block)
        .map(Opened::Fed)
        .map_err(|err| unreadable(shown, &err))
}

/// The reader of a plain regular file: ours for classic pcap, else libpcap's.
fn open_plain(path: &Path, shown: &str) -> Result<Reader, CaptureError> {
    if let Some(classic) = ClassicPcap::open(path).map_err(|err| unreadable(shown, &err))? {
        return Ok(Reader::Classic(classic));
    }
    Capture::from_file_with_precision(path, Precision::Nano)
        .map(Reader::Libpcap)
        .map_err(|err| {
            let mut head = vec![0u8; 4096];
            let got = File::open(path)
                .and_then(|mut file| read_full(&mut file, &mut head))
                .unwrap_or(0);
            head.truncate(got);
            open_error(shown, &err, &head, None)
        })
}

/// The reader of a feed's pipe, chosen by the stream's first bytes.
fn open_fed(feed: &Feed, shown: &str) -> Result<Reader, CaptureError> {
    let head = feed.head();
    if let (true, Some(failure)) = (head.len() < 24, feed.failure()) {
        // The stream broke before a capture header could pass.
        return Err(CaptureError::BrokenStream {
            detail: stream_failure(shown, feed.compression(), failure, 0),
        });
    }
    if head.is_empty() {
        return Err(empty_stream(shown, feed.compression()));
    }
    if classic::accepts(head) {
        let pipe = feed.reader().map_err(|err| unreadable(shown, &err))?;
        if let Some(classic) =
            ClassicPcap::from_reader(Box::new(pipe)).map_err(|err| unreadable(shown, &err))?
        {
            return Ok(Reader::Classic(classic));
        }
    }
    Capture::from_file_with_precision(feed.path(), Precision::Nano)
        .map(Reader::Libpcap)
        .map_err(|err| match feed.failure() {
            Some(failure) => CaptureError::BrokenStream {
                detail: stream_failure(shown, feed.compression(), failure, 0),
            },
            None => open_error(shown, &err, head, feed.compression()),
        })
}

/// The file's DLT, its link type and the compiled filter.
fn link_and_filter(
    reader: &Reader,
    shown: &str,
    filter: Option<&str>,
) -> Result<(i32, LinkType, Option<BpfProgram>), CaptureError> {
    let dlt = match reader {
        Reader::Classic(classic) => classic.dlt(),
        Reader::Libpcap(capture) => capture.get_datalink().0,
        Reader::Closed => 1,
    };
    let link_type = LinkType::from_dlt(dlt).ok_or_else(|| CaptureError::UnsupportedLinkType {
        path: shown.to_string(),
        name: match pcap::Linktype(dlt).get_name() {
            Ok(name) => format!("{name} ({dlt})"),
            Err(_) => format!("{dlt} (not one libpcap knows)"),
        },
    })?;
    let filter = match (filter, reader) {
        (None, _) => None,
        (Some(expr), Reader::Libpcap(capture)) => Some(compile_filter(capture, expr)?),
        (Some(expr), Reader::Classic(_) | Reader::Closed) => Some(compile_for(dlt, expr)?),
    };
    Ok((dlt, link_type, filter))
}

/// Compiles `expr` for a link type, with no capture open.
fn compile_for(dlt: i32, expr: &str) -> Result<BpfProgram, CaptureError> {
    let dead =
        Capture::dead_with_precision(pcap::Linktype(dlt), Precision::Nano).map_err(|err| {
            CaptureError::BadFilter {
                filter: expr.to_string(),
                detail: pcap_error_text(&err),
            }
        })?;
    compile_filter(&dead, expr)
}

/// Checks that `expr` is a filter libpcap compiles, for Ethernet: whether words after the
/// files are one (`rstscope analyze x.pcap port 80`). Each file compiles it for its own link
/// type when it is read.
pub fn check_filter(expr: &str) -> Result<(), CaptureError> {
    compile_for(1, expr).map(drop)
}

impl Source for FileSource {
    fn name(&self) -> &str {
        &self.path
    }

    fn link_type(&self) -> LinkType {
        self.link_type
    }

    /// Reads the next frame.
    fn next_frame(&mut self) -> NextFrame<'_> {
        let (ts, data, wire_len) = match &mut self.reader {
            Reader::Classic(classic) => match classic.next() {
                Record::Frame {
                    secs,
                    nanos,
                    data,
                    wire_len,
                } => (Timestamp::from_parts(secs, nanos), data, wire_len),
                Record::End => return ended(&self.feed, &self.path, self.frames_read, None),
                Record::Broken(reason) => {
                    return ended(&self.feed, &self.path, self.frames_read, Some(reason));
                }
            },
            Reader::Libpcap(capture) => match capture.next_packet() {
                // With nanosecond precision libpcap puts nanoseconds in tv_usec.
                Ok(packet) => (
                    Timestamp::from_parts(packet.header.ts.tv_sec, packet.header.ts.tv_usec),
                    packet.data,
                    packet.header.len,
                ),
                Err(pcap::Error::NoMorePackets) => {
                    return ended(&self.feed, &self.path, self.frames_read, None);
                }
                Err(err) => {
                    let reason = pcap_error_text(&err);
                    return ended(&self.feed, &self.path, self.frames_read, Some(reason));
                }
            },
            Reader::Closed => return NextFrame::End,
        };
        self.frames_read += 1;
        let selected = self
            .filter
            .as_ref()
            .is_none_or(|program| program.filter(data));
        NextFrame::Frame(Frame {
            number: self.frames_read,
            ts,
            data,
            wire_len,
            selected,
        })
    }
}

/// How an input ended: cleanly, cut off or corrupt (`reason`, the reader's words), or with
/// its feed's stream broken, which is the cause of whatever the reader saw.
fn ended(
    feed: &Option<Feed>,
    path: &str,
    frames_read: u64,
    reason: Option<String>,
) -> NextFrame<'static> {
    let failure = feed
        .as_ref()
        .and_then(|feed| Some((feed.compression(), feed.failure()?)));
    match (failure, reason) {
        (Some((compression, failure)), _) => {
            NextFrame::Broken(stream_failure(path, compression, failure, frames_read))
        }
        (None, Some(reason)) => {
            let broken = cut_off(path, frames_read, &reason);
            match feed.as_ref().and_then(Feed::compression) {
                // The capture broke before its compressed stream did (or could tell).
                Some(compression) => NextFrame::Broken(broken.replacen(
                    "the capture is",
                    &format!("the capture in the {} stream is", compression.name()),
                    1,
                )),
                None => NextFrame::Broken(broken),
            }
        }
        (None, None) => NextFrame::End,
    }
}

/// Why a file ended early, in one line.
fn cut_off(path: &str, frames_read: u64, reason: &str) -> String {
    // libpcap reads a pcapng file only while every interface has the first one's link type
    // and snapshot length (pcap-ng.c, read_block for IDBs): the file is fine, the reader is not.
    if reason.contains("different from the snapshot length")
        || reason.contains("different from the type of the first interface")
    {
        return format!(
            "{path}: libpcap stops after frame {frames_read}: {reason} (libpcap reads pcapng only while every interface has the first one's link type and snapshot length, which files merged from several captures often break); the frames before it were analysed; analyse the original captures one by one, or split this one per interface (`editcap` with a display filter on frame.interface_id)"
        );
    }
    format!(
        "{path}: the capture is cut off or corrupt after frame {frames_read} ({reason}); the frames before it were analysed"
    )
}

/// Compiles a tcpdump filter expression for the link type of an open capture.
pub(crate) fn compile_filter<T: pcap::Activated + ?Sized>(
    capture: &Capture<T>,
    expr: &str,
) -> Result<BpfProgram, CaptureError> {
    capture
        .compile(expr, true)
        .map_err(|err| CaptureError::BadFilter {
            filter: expr.to_string(),
            detail: pcap_error_text(&err),
        })
}

/// True for a path that exists and is neither a regular file nor a directory: a FIFO, a
/// character device, a socket.
fn is_read_once(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|meta| !meta.is_file() && !meta.is_dir())
}

/// Opens an input file, with the error that names the real cause; says whether it is a
/// regular file (or a pipe, a device).
fn open_file(path: &Path, shown: &str) -> Result<(File, bool), CaptureError> {
    let refused = |err: io::Error| match err.kind() {
        io::ErrorKind::NotFound => CaptureError::NotFound {
            path: shown.to_string(),
        },
        io::ErrorKind::PermissionDenied => CaptureError::FileNotReadable {
            path: shown.to_string(),
        },
        _ => unreadable(shown, &err),
    };
    let meta = std::fs::metadata(path).map_err(refused)?;
    if meta.is_dir() {
        return Err(CaptureError::IsDirectory {
            path: shown.to_string(),
        });
    }
    if meta.is_file() && meta.len() == 0 {
        return Err(CaptureError::EmptyFile {
            path: shown.to_string(),
        });
    }
    let file = File::open(path).map_err(refused)?;
    Ok((file, meta.is_file()))
}

/// A read that failed for a reason of the system's.
fn unreadable(shown: &str, err: &io::Error) -> CaptureError {
    CaptureError::Unreadable {
        path: shown.to_string(),
        detail: err.to_string(),
    }
}
