//! `capture --write`: every frame read saved as it came, like `tcpdump -w`, or with its
//! addresses anonymised and payload blanked under `--anonymize`. The live loop hands each
//! frame over; the source itself only reads.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use super::{Precision, SaveFile};
use crate::anonymize::{AnonymizeKey, Anonymizer};
use crate::capture::{CaptureError, Frame};
use crate::link::LinkType;

/// A classic pcap file the live loop saves frames to.
pub struct Recorder {
    path: PathBuf,
    /// None once a write failed: the capture goes on without saving.
    file: Option<SaveFile<BufWriter<File>>>,
    link_type: LinkType,
    anonymizer: Option<Anonymizer>,
    /// The rewritten copy of the frame being saved.
    rewritten: Vec<u8>,
    /// Frames written since the last flush.
    unflushed: bool,
    /// Why saving stopped, until someone asks.
    failure: Option<String>,
}

impl Recorder {
    /// Creates `path` for frames of `link_type` (libpcap's `dlt`), cut by the capture at
    /// `snaplen`, nanosecond times, as libpcap's `pcap_dump_open` would.
    pub fn create(
        path: &Path,
        link_type: LinkType,
        dlt: i32,
        snaplen: u32,
        anonymize: Option<&AnonymizeKey>,
    ) -> Result<Recorder, CaptureError> {
        let cannot_write = |err: std::io::Error| CaptureError::CannotWrite {
            path: path.display().to_string(),
            detail: err.to_string(),
        };
        let out = BufWriter::new(File::create(path).map_err(cannot_write)?);
        let file = SaveFile::pcap(out, dlt, snaplen, Precision::Nano).map_err(cannot_write)?;
        Ok(Recorder {
            path: path.to_path_buf(),
            file: Some(file),
            link_type,
            anonymizer: anonymize.map(Anonymizer::new),
            rewritten: Vec::new(),
            unflushed: false,
            failure: None,
        })
    }

    /// Saves one frame (rewritten when anonymising).
    pub fn record(&mut self, frame: &Frame<'_>) {
        let Some(file) = &mut self.file else { return };
        let data = match &mut self.anonymizer {
            Some(anonymizer) => {
                self.rewritten.clear();
                self.rewritten.extend_from_slice(frame.data);
                anonymizer.frame(self.link_type, &mut self.rewritten);
                &self.rewritten[..]
            }
            None => frame.data,
        };
        let written = file.packet(0, frame.ts, data, frame.wire_len, None);
        self.unflushed = true;
        if let Err(err) = written {
            self.stop(&err);
        }
    }

    /// The wire is quiet: what was saved reaches the disk now, so a capture killed hard (a
    /// second Ctrl-C, SIGKILL) still leaves it in the file.
    pub fn quiet(&mut self) {
        if !self.unflushed {
            return;
        }
        self.unflushed = false;
        if let Some(file) = &mut self.file
            && let Err(err) = file.flush()
        {
            self.stop(&err);
        }
    }

    /// Why saving stopped, once: the caller warns and the capture goes on.
    pub fn take_failure(&mut self) -> Option<String> {
        let detail = self.failure.take()?;
        Some(format!(
            "{}: cannot write the capture ({detail}); the file ends there, the analysis went on: free some space or save elsewhere",
            self.path.display()
        ))
    }

    /// Writes out what is buffered; the error says why the file is incomplete (unless
    /// `take_failure` said so already).
    pub fn finish(mut self) -> Result<(), String> {
        self.unflushed = true;
        self.quiet();
        self.take_failure().map_or(Ok(()), Err)
    }

    fn stop(&mut self, err: &std::io::Error) {
        self.file = None;
        self.failure = Some(err.to_string());
    }
}
