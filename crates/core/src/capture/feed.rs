//! A feed: a thread that reads a compressed file, a pipe or standard input, decompresses it if
//! it is compressed, and writes the capture's plain bytes into an anonymous pipe, from which
//! the classic reader or libpcap (given `/proc/self/fd/N`) reads it as from a FIFO.
//!
//! Nothing is decompressed into memory or to a file: the pipe holds 64 KiB, so the thread
//! decompresses as fast as the capture is read, and the decompressing runs beside the reading
//! and decoding, on a core of its own where there is one. The feed keeps the stream's first
//! bytes for its opener (which reader takes it, what it looks like when it is no capture).
//! What stopped the stream early (a cut-off or corrupt compressed stream, a failing read) is
//! recorded before the pipe is closed, so a reader that meets the end of the pipe finds why,
//! and worded here (`stream_failure`).
//! Which compression it is, and its decoder, are `compression`'s.
//!
//! A reader that stops early closes the pipe under the thread's feet: the thread's next write
//! then fails with EPIPE and it stops, as long as SIGPIPE is ignored, which the Rust runtime
//! does for every Rust program (rstscope among them). A program embedding this crate from
//! another runtime (a C `main`, libFuzzer's) must ignore SIGPIPE too, or that write kills it.

use std::io::{self, PipeReader, Read, Write};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, mpsc};
use std::thread::JoinHandle;

use super::classic::read_up_to;
use super::compression::{Compression, size};

/// The stream's first bytes that the feed keeps for its opener: enough for any capture
/// header, and for telling text, HTML, JSON and archives (tar's magic is at byte 257).
const HEAD: usize = 4096;
/// The thread's buffer.
const CHUNK: usize = 256 * 1024;

/// Why a feed stopped before the end of its stream.
#[derive(Debug)]
pub(super) struct Failure {
    pub(super) error: io::Error,
    /// Bytes read of the raw input (compressed, when it is) when it stopped.
    pub(super) raw_bytes: u64,
    /// Bytes of the plain stream written to the pipe by then.
    pub(super) plain_bytes: u64,
    /// The raw input had ended: a decoder that fails then was cut off, not corrupt.
    pub(super) raw_ended: bool,
}

impl Failure {
    /// True when the stream stopped because its input ended too soon.
    pub(super) fn is_cut_off(&self) -> bool {
        self.raw_ended || self.error.kind() == io::ErrorKind::UnexpectedEof
    }
}

/// A running feed and the read end of its pipe.
pub(super) struct Feed {
    compression: Option<Compression>,
    head: Vec<u8>,
    pipe: Option<PipeReader>,
    thread: Option<JoinHandle<()>>,
    failure: Arc<OnceLock<Failure>>,
    /// The raw input is a pipe or standard input, whose next read may wait for its writer.
    may_block: bool,
}

impl Feed {
    /// Starts a feed of `raw`, whose first bytes, already read to tell its compression, are
    /// `prefix`; waits until it has the stream's first bytes (or its end).
    pub(super) fn start(
        raw: Box<dyn Read + Send>,
        prefix: Vec<u8>,
        compression: Option<Compression>,
        may_block: bool,
    ) -> io::Result<Feed> {
        let (pipe, writer) = io::pipe()?;
        let failure = Arc::new(OnceLock::new());
        let (head_sender, head_receiver) = mpsc::sync_channel(1);
        let recorder = Recorder {
            failure: Arc::clone(&failure),
            raw: Arc::new(RawProgress::default()),
        };
        let thread = std::thread::Builder::new()
            .name("rstscope-feed".to_string())
            .spawn(move || {
                let counted = Counted {
                    inner: io::Cursor::new(prefix).chain(raw),
                    progress: Arc::clone(&recorder.raw),
                };
                pump(counted, compression, writer, &head_sender, &recorder);
                // The pipe's writer is dropped here, after any failure was recorded: a
                // reader that meets the end of the pipe finds why it ended.
            })?;
        // A feed that died before sending its head (it cannot) would give an empty head.
        let head = head_receiver.recv().unwrap_or_default();
        Ok(Feed {
            compression,
            head,
            pipe: Some(pipe),
            thread: Some(thread),
            failure,
            may_block,
        })
    }

    /// The compression being decoded, if any.
    pub(super) fn compression(&self) -> Option<Compression> {
        self.compression
    }

    /// The plain stream's first bytes (at most 4 KiB; fewer when that is all of it).
    pub(super) fn head(&self) -> &[u8] {
        &self.head
    }

    /// Why the stream stopped early, once its reader has met the end of the pipe.
    pub(super) fn failure(&self) -> Option<&Failure> {
        self.failure.get()
    }

    /// A reader of the pipe, for the classic reader.
    pub(super) fn reader(&self) -> io::Result<PipeReader> {
        match &self.pipe {
            Some(pipe) => pipe.try_clone(),
            None => Err(io::Error::other("the feed is closed")),
        }
    }

    /// The pipe's name for libpcap, which opens it as it opens a FIFO; valid while the feed
    /// lives.
    pub(super) fn path(&self) -> PathBuf {
        let fd = self.pipe.as_ref().map_or(-1, AsRawFd::as_raw_fd);
        PathBuf::from(format!("/proc/self/fd/{fd}"))
    }
}

impl Drop for Feed {
    /// Closes the pipe, so that a thread still writing stops (its write fails), and waits for
    /// it. The readers of the pipe must be closed first (`FileSource`'s own `Drop` does it).
    fn drop(&mut self) {
        self.pipe = None;
        if let Some(thread) = self.thread.take() {
            // A thread waiting for a pipe's writer could wait for as long as that writer
            // lives (a `tcpdump -w -` left running): it ends at its next write instead, as
            // the process does; a file's read never waits like that.
            if !self.may_block || thread.is_finished() {
                let _ = thread.join();
            }
        }
    }
}

/// The thread's work: sends the plain stream's first bytes, then copies the rest into the
/// pipe. A stop before the end is recorded, always before the head is sent or the pipe closed;
/// a reader that closed the pipe is no failure.
fn pump(
    counted: impl Read + Send + 'static,
    compression: Option<Compression>,
    mut writer: io::PipeWriter,
    head_sender: &mpsc::SyncSender<Vec<u8>>,
    recorder: &Recorder,
) {
    let mut plain: Box<dyn Read + Send> = match compression {
        Some(compression) => match compression.decoder(counted) {
            Ok(decoder) => decoder,
            Err(err) => {
                recorder.record(err, 0);
                let _ = head_sender.send(Vec::new());
                return;
            }
        },
        None => Box::new(counted),
    };
    let mut buffer = vec![0u8; CHUNK];
    let (mut length, head_error) = read_up_to(&mut plain, &mut buffer[..HEAD]);
    let mut written = 0u64;
    let head_failed = head_error.is_some();
    if let Some(err) = head_error {
        recorder.record(err, length as u64);
    }
    let _ = head_sender.send(buffer[..length].to_vec());
    loop {
        if length > 0 {
            match writer.write_all(&buffer[..length]) {
                Ok(()) => written += length as u64,
                // The reader stopped reading (it had enough, or gave up on the capture).
                Err(err) if err.kind() == io::ErrorKind::BrokenPipe => return,
                Err(err) => return recorder.record(err, written),
            }
        }
        if head_failed {
            return;
        }
        match plain.read(&mut buffer) {
            Ok(0) => return,
            Ok(read) => length = read,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => length = 0,
            Err(err) => return recorder.record(err, written),
        }
    }
}

/// Records why a feed stopped.
struct Recorder {
    failure: Arc<OnceLock<Failure>>,
    raw: Arc<RawProgress>,
}

impl Recorder {
    fn record(&self, error: io::Error, plain_bytes: u64) {
        let _ = self.failure.set(Failure {
            error,
            raw_bytes: self.raw.bytes.load(Ordering::Relaxed),
            plain_bytes,
            raw_ended: self.raw.ended.load(Ordering::Relaxed),
        });
    }
}

/// How far the raw input has been read.
#[derive(Default)]
struct RawProgress {
    bytes: AtomicU64,
    ended: AtomicBool,
}

/// A reader that counts the bytes it gives and notes its end.
struct Counted<R> {
    inner: R,
    progress: Arc<RawProgress>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buffer)?;
        if read == 0 && !buffer.is_empty() {
            self.progress.ended.store(true, Ordering::Relaxed);
        }
        self.progress
            .bytes
            .fetch_add(read as u64, Ordering::Relaxed);
        Ok(read)
    }
}

/// Why a feed's stream stopped, in one line: which compression, where it broke, what was read.
pub(super) fn stream_failure(
    path: &str,
    compression: Option<Compression>,
    failure: &Failure,
    frames_read: u64,
) -> String {
    let at = size(failure.raw_bytes);
    let (what, problem, cause, fix) = match compression {
        Some(compression) if failure.is_cut_off() => (
            format!("{} stream", compression.name()),
            "cut off",
            String::new(),
            "the rest of the capture is not in the file (was a copy or download cut short?)"
                .to_string(),
        ),
        Some(compression) => (
            format!("{} stream", compression.name()),
            "corrupt",
            format!("{}: {}", compression.name(), failure.error),
            format!("`{} -t FILE` checks a file", compression.name()),
        ),
        None => (
            "input".to_string(),
            "unreadable",
            failure.error.to_string(),
            "check the command or device it comes from".to_string(),
        ),
    };
    if frames_read == 0 {
        let cause = if cause.is_empty() {
            cause
        } else {
            format!(" ({cause})")
        };
        return format!(
            "{path}: {what} {problem} after {at}{cause}, before the capture's first frame: nothing was read; {fix}"
        );
    }
    let cause = if cause.is_empty() {
        cause
    } else {
        format!("{cause}; ")
    };
    let plain = if compression.is_some() {
        "decompressed"
    } else {
        "read"
    };
    format!(
        "{path}: {what} {problem} after {at} ({cause}{} {plain}, {frames_read} frames): the frames before it were analysed; {fix}",
        size(failure.plain_bytes)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `bytes`, gzip-compressed.
    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap_or_else(|e| panic!("{e}"));
        encoder.finish().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Bytes that do not compress to nothing: a counter's bytes.
    fn plain(length: usize) -> Vec<u8> {
        (0..length).map(|n| (n * 7 % 251) as u8).collect()
    }

    fn feed_of(compressed: Vec<u8>) -> Feed {
        let compression = Compression::detect(&compressed);
        Feed::start(
            Box::new(io::Cursor::new(compressed)),
            Vec::new(),
            compression,
            false,
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn read_all(feed: &Feed) -> Vec<u8> {
        let mut out = Vec::new();
        let mut pipe = feed.reader().unwrap_or_else(|e| panic!("{e}"));
        pipe.read_to_end(&mut out).unwrap_or_else(|e| panic!("{e}"));
        out
    }

    #[test]
    fn a_stream_comes_out_of_the_pipe_decompressed_with_its_head_kept() {
        let bytes = plain(1 << 20);
        let feed = feed_of(gzip(&bytes));
        assert_eq!(feed.compression(), Some(Compression::Gzip));
        assert_eq!(feed.head(), &bytes[..HEAD]);
        assert_eq!(read_all(&feed), bytes);
        assert!(feed.failure().is_none());
    }

    #[test]
    fn a_cut_off_stream_is_recorded_before_the_pipe_ends() {
        let bytes = plain(1 << 20);
        let mut compressed = gzip(&bytes);
        compressed.truncate(compressed.len() / 2);
        let feed = feed_of(compressed);
        let got = read_all(&feed);
        assert!(!got.is_empty() && got.len() < bytes.len());
        assert_eq!(got, &bytes[..got.len()]);
        let failure = feed
            .failure()
            .unwrap_or_else(|| panic!("no failure recorded"));
        assert!(failure.is_cut_off(), "{:?}", failure.error);
        assert_eq!(failure.plain_bytes, got.len() as u64);
    }

    #[test]
    fn a_plain_stream_passes_through_with_its_prefix() {
        let bytes = plain(300_000);
        let (prefix, rest) = bytes.split_at(6);
        let feed = Feed::start(
            Box::new(io::Cursor::new(rest.to_vec())),
            prefix.to_vec(),
            None,
            true,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read_all(&feed), bytes);
    }

    #[test]
    fn dropping_a_feed_that_is_still_writing_ends_its_thread() {
        // Far more than the pipe holds: the thread waits in a write until the feed is dropped.
        let feed = feed_of(gzip(&plain(16 << 20)));
        drop(feed);
    }
}
