//! Capture sources: where frames come from (files now, live interfaces later).
//!
//! This module owns the pcap handles, BPF filters, link types, frame numbers (1-based per input,
//! as Wireshark counts them) and timestamps. It never looks inside a frame: decoding is
//! `decode`'s job. Every failure a user can cause is a [`CaptureError`] whose message names the
//! file or interface and says how to fix it.

mod classic;
pub(crate) mod compression;
mod feed;
pub(crate) mod file;
pub(crate) mod live;
mod sniff;

use crate::time::Timestamp;

pub use crate::link::LinkType;
pub use file::{FileSource, check_filter};
pub use live::{Drops, LiveOptions, LiveSource};

/// Where frames come from: a file or an interface. The pipeline reads either the same way.
pub trait Source {
    /// The file's path or the interface's name, for reports and messages.
    fn name(&self) -> &str;
    fn link_type(&self) -> LinkType;
    fn next_frame(&mut self) -> NextFrame<'_>;
}

/// One frame as the capture gave it, borrowed from libpcap's buffer until the next read.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// 1-based frame number within its input, counting every frame, filtered or not.
    pub number: u64,
    pub ts: Timestamp,
    /// The captured bytes (at most the snap length).
    pub data: &'a [u8],
    /// The frame's length on the wire, which may exceed `data.len()`.
    pub wire_len: u32,
    /// False when `analyze --filter` was given and this frame does not match it. Such frames
    /// are still analysed (a verdict compares a reset with its host's other packets); the
    /// filter only chooses which flows the report lists.
    pub selected: bool,
}

/// What the next read from a source gave.
#[derive(Debug)]
pub enum NextFrame<'a> {
    /// The next frame.
    Frame(Frame<'a>),
    /// No frame arrived within the read timeout (live capture); the current time.
    Idle(Timestamp),
    /// The input ended cleanly.
    End,
    /// The input ended early, for the reason given; frames before it are valid.
    Broken(String),
}

/// Everything that can stop a capture source from opening. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{path}: no such file; check the path (rstscope analyze takes pcap or pcapng files)")]
    NotFound { path: String },
    #[error("{path}: is a directory; pass the capture files inside it, e.g. {path}/*.pcap")]
    IsDirectory { path: String },
    #[error("{path}: permission denied; make the file readable or run with sudo")]
    FileNotReadable { path: String },
    #[error(
        "{path}: the file is empty; the capture was never written (was tcpdump stopped before it flushed?)"
    )]
    EmptyFile { path: String },
    /// What the input looks like ("it is text (...)", "its gzip stream holds a Zeek log"),
    /// and what to do.
    #[error("{path}: not a pcap or pcapng capture: {looks}; {fix}")]
    NotACapture {
        path: String,
        looks: String,
        fix: String,
    },
    /// A compressed stream (or a pipe) that broke before a capture could be read from it.
    #[error("{detail}")]
    BrokenStream { detail: String },
    #[error(
        "-: standard input is a terminal; pipe a capture into it (tcpdump -w - | rstscope analyze -, or rstscope analyze - < trace.pcap.gz) or name the file"
    )]
    StdinIsTerminal,
    #[error("{path}: cannot read the file ({detail}); check that it is readable and complete")]
    Unreadable { path: String, detail: String },
    #[error(
        "{path}: unsupported link type {name}; rstscope reads Ethernet, Linux cooked (SLL/SLL2), raw IP, BSD loopback, FDDI and PPP captures (capture on an Ethernet or the `any` interface)"
    )]
    UnsupportedLinkType { path: String, name: String },
    #[error("bad filter '{filter}': {detail}; write it as for tcpdump, e.g. 'tcp port 443'")]
    BadFilter { filter: String, detail: String },
    #[error(
        "no interface named {name}; capture on one of: {available} (`rstscope interfaces` lists them)"
    )]
    NoSuchInterface { name: String, available: String },
    #[error(
        "{name}: permission denied; run as root, or grant the binary the right once: sudo setcap cap_net_raw,cap_net_admin=eip $(command -v rstscope)"
    )]
    PermissionDenied { name: String },
    #[error(
        "{name}: the interface is down; bring it up (ip link set {name} up) or capture on another"
    )]
    InterfaceDown { name: String },
    #[error(
        "{path}: cannot write the capture ({detail}); check that the directory exists and is writable"
    )]
    CannotWrite { path: String, detail: String },
    #[error(
        "{path}: {what}, which can be read only once, and {reader} reads its inputs twice; save the capture to a file first (tcpdump -w FILE) and name the file"
    )]
    ReadOnce {
        path: String,
        what: &'static str,
        reader: &'static str,
    },
}

/// The text of a pcap error, without the enum's wrapper.
pub(crate) fn pcap_error_text(err: &pcap::Error) -> String {
    match err {
        pcap::Error::PcapError(text) => text.clone(),
        other => other.to_string(),
    }
}
