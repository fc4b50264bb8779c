//! Capture files, one frame at a time: classic pcap by our own block reader (`classic`),
//! pcapng and anything unusual by libpcap.
//!
//! Frames are numbered from 1 within each file, as Wireshark numbers them. The BPF filter is
//! compiled by libpcap for the file's link type and tested on each frame in user space; a frame
//! that does not match is still handed on, marked unselected (`Frame::selected`): the analysis
//! sees every frame, and the filter only chooses which flows are reported. A read error partway through ends
//! the file with [`NextFrame::Broken`]; the frames before it stand.

use std::path::Path;

use pcap::{BpfProgram, Capture, Offline, Precision};

use super::classic::{ClassicPcap, Record};
use super::{CaptureError, Frame, LinkType, NextFrame, Source, pcap_error_text};
use crate::time::Timestamp;

/// What reads the file's records.
enum Reader {
    Classic(ClassicPcap),
    Libpcap(Capture<Offline>),
}

/// An open capture file.
pub struct FileSource {
    path: String,
    reader: Reader,
    link_type: LinkType,
    /// The file's own DLT (several map to one `LinkType`), for writing an export in kind.
    dlt: i32,
    filter: Option<BpfProgram>,
    frames_read: u64,
}

impl FileSource {
    /// Opens `path` and compiles `filter` (a tcpdump expression) for its link type.
    pub fn open(path: &Path, filter: Option<&str>) -> Result<FileSource, CaptureError> {
        let shown = path.display().to_string();
        check_file(path, &shown)?;
        let classic = ClassicPcap::open(path).map_err(|err| CaptureError::Unreadable {
            path: shown.clone(),
            detail: err.to_string(),
        })?;
        let reader = match classic {
            Some(classic) => Reader::Classic(classic),
            None => Reader::Libpcap(
                Capture::from_file_with_precision(path, Precision::Nano)
                    .map_err(|err| open_error(&shown, &err))?,
            ),
        };
        let dlt = match &reader {
            Reader::Classic(classic) => classic.dlt(),
            Reader::Libpcap(capture) => capture.get_datalink().0,
        };
        let link_type =
            LinkType::from_dlt(dlt).ok_or_else(|| CaptureError::UnsupportedLinkType {
                path: shown.clone(),
                name: match pcap::Linktype(dlt).get_name() {
                    Ok(name) => format!("{name} ({dlt})"),
                    Err(_) => format!("{dlt} (not one libpcap knows)"),
                },
            })?;
        let filter = match (filter, &reader) {
            (None, _) => None,
            (Some(expr), Reader::Libpcap(capture)) => Some(compile_filter(capture, expr)?),
            (Some(expr), Reader::Classic(_)) => {
                let dead = Capture::dead_with_precision(pcap::Linktype(dlt), Precision::Nano)
                    .map_err(|err| CaptureError::BadFilter {
                        filter: expr.to_string(),
                        detail: pcap_error_text(&err),
                    })?;
                Some(compile_filter(&dead, expr)?)
            }
        };
        Ok(FileSource {
            path: shown,
            reader,
            link_type,
            dlt,
            filter,
            frames_read: 0,
        })
    }

    /// The file's DLT value.
    pub fn dlt(&self) -> i32 {
        self.dlt
    }

    /// Checks that `path` will open, before anything is written: a regular file is opened
    /// and the filter compiled for it. A pipe (a FIFO, `<(tcpdump -w - ...)`) can be read
    /// only once, so it is only looked up; opening it here would take the capture's first
    /// bytes, or its writer's reader.
    pub fn check(path: &Path, filter: Option<&str>) -> Result<(), CaptureError> {
        if is_read_once(path) {
            return Ok(());
        }
        FileSource::open(path, filter).map(drop)
    }

    /// Fails on a pipe: for a second read of the inputs.
    pub fn check_rereadable(path: &Path) -> Result<(), CaptureError> {
        if is_read_once(path) {
            return Err(CaptureError::ReadOnce {
                path: path.display().to_string(),
            });
        }
        Ok(())
    }
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
                Record::End => return NextFrame::End,
                Record::Broken(reason) => {
                    return NextFrame::Broken(cut_off(&self.path, self.frames_read, &reason));
                }
            },
            Reader::Libpcap(capture) => match capture.next_packet() {
                // With nanosecond precision libpcap puts nanoseconds in tv_usec.
                Ok(packet) => (
                    Timestamp::from_parts(packet.header.ts.tv_sec, packet.header.ts.tv_usec),
                    packet.data,
                    packet.header.len,
                ),
                Err(pcap::Error::NoMorePackets) => return NextFrame::End,
                Err(err) => {
                    let reason = pcap_error_text(&err);
                    return NextFrame::Broken(cut_off(&self.path, self.frames_read, &reason));
                }
            },
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

/// Checks that a capture file can be opened, so the error names the real cause.
fn check_file(path: &Path, shown: &str) -> Result<(), CaptureError> {
    let meta = std::fs::metadata(path).map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => CaptureError::NotFound {
            path: shown.to_string(),
        },
        std::io::ErrorKind::PermissionDenied => CaptureError::FileNotReadable {
            path: shown.to_string(),
        },
        _ => CaptureError::Unreadable {
            path: shown.to_string(),
            detail: err.to_string(),
        },
    })?;
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
    if !meta.is_file() {
        // A pipe: opening it here and closing it would cut off its writer.
        return Ok(());
    }
    std::fs::File::open(path).map_err(|err| match err.kind() {
        std::io::ErrorKind::PermissionDenied => CaptureError::FileNotReadable {
            path: shown.to_string(),
        },
        _ => CaptureError::Unreadable {
            path: shown.to_string(),
            detail: err.to_string(),
        },
    })?;
    Ok(())
}

/// Turns libpcap's refusal to open a file into the error that names its cause. The file
/// exists and is readable (checked before), so whatever libpcap objects to is its content.
fn open_error(shown: &str, err: &pcap::Error) -> CaptureError {
    let detail = pcap_error_text(err);
    let lower = detail.to_lowercase();
    let detail = if lower.contains("unknown file format") || lower.contains("bad dump file format")
    {
        "unknown file format".to_string()
    } else if lower.contains("truncated") {
        "the file header is incomplete".to_string()
    } else {
        format!("its header is corrupt: {detail}")
    };
    CaptureError::NotACapture {
        path: shown.to_string(),
        detail,
    }
}
