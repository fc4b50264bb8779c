//! Reading one source: every frame counted, each decoded, anonymised when asked. This is the
//! one loop every command reads through (`analyze`, `capture`, the export's second read):
//! `while let Some(read) = reader.next() { ... }`, with what it counted in
//! [`Reader::stats`].

use crate::anonymize::Anonymizer;
use crate::capture::{Frame, LinkType, NextFrame, Source};
use crate::decode::{Captured, Decoded, Neighbour, Segment, Skip, decode};
use crate::flow::FrameRef;
use crate::time::Timestamp;

/// What one input gave.
#[derive(Debug, Clone, Default)]
pub struct InputStats {
    pub path: String,
    pub link_type: &'static str,
    /// Frames read, filtered or not.
    pub frames: u64,
    /// About how many bytes of the input were read (a pcap record header and the captured
    /// bytes per frame): for progress, not for the report.
    pub bytes: u64,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    pub filtered: u64,
    pub tcp: u64,
    pub not_tcp: u64,
    pub truncated: u64,
    pub undecodable: u64,
    /// TCP packets left out as copies of a packet seen on another interface (`any`).
    pub copies: u64,
    /// libpcap's drop counters, for a live capture.
    pub drops: Option<crate::capture::Drops>,
    /// Why the input ended early, if it did.
    pub broken: Option<String>,
    /// A live capture's kernel reset tracing.
    pub kernel: Option<crate::kernel::KernelTracing>,
}

/// A pcap record's header, counted per frame in `InputStats::bytes`.
const RECORD_HEADER: u64 = 16;

/// What a frame held, decoded (and anonymised).
#[derive(Debug)]
pub enum Content {
    Segment(Segment),
    /// An address-to-link-address binding (ARP, neighbour discovery).
    Neighbour(Neighbour),
    /// Not TCP, cut short, or not decodable (counted in the stats).
    Other,
}

/// The next thing a source gave.
// Idle is rare and small; boxing the frame would cost an allocation per frame.
#[allow(clippy::large_enum_variant)]
pub enum Read<'a> {
    /// A frame: where it is, its bytes as captured, and what it held.
    Frame {
        at: FrameRef,
        frame: Frame<'a>,
        content: Content,
    },
    /// A live source was quiet until this time.
    Idle(Timestamp),
}

/// Reads one source; see the module text.
pub struct Reader<'a> {
    source: &'a mut dyn Source,
    link_type: LinkType,
    input: usize,
    anonymizer: Option<&'a mut Anonymizer>,
    stats: InputStats,
    ended: bool,
}

impl<'a> Reader<'a> {
    /// Reads `source` as input number `input`, anonymising what it decodes under `anonymizer`.
    pub fn new(
        source: &'a mut dyn Source,
        input: usize,
        mut anonymizer: Option<&'a mut Anonymizer>,
    ) -> Reader<'a> {
        let path = match &mut anonymizer {
            Some(anonymizer) => anonymizer.text(source.name()),
            None => source.name().to_string(),
        };
        let link_type = source.link_type();
        Reader {
            source,
            link_type,
            input,
            anonymizer,
            stats: InputStats {
                path,
                link_type: link_type.name(),
                ..InputStats::default()
            },
            ended: false,
        }
    }

    /// What was read so far.
    pub fn stats(&self) -> &InputStats {
        &self.stats
    }

    /// What the whole input gave.
    pub fn into_stats(self) -> InputStats {
        self.stats
    }

    /// The next frame or quiet moment; None once the input has ended (cleanly, or broken: see
    /// `InputStats::broken`).
    #[allow(clippy::should_implement_trait)] // a lending iterator: the frame borrows the source
    pub fn next(&mut self) -> Option<Read<'_>> {
        if self.ended {
            return None;
        }
        let frame = match self.source.next_frame() {
            NextFrame::Frame(frame) => frame,
            NextFrame::Idle(now) => return Some(Read::Idle(now)),
            NextFrame::End => {
                self.ended = true;
                return None;
            }
            NextFrame::Broken(reason) => {
                self.ended = true;
                self.stats.broken = Some(match &mut self.anonymizer {
                    Some(anonymizer) => anonymizer.text(&reason),
                    None => reason,
                });
                return None;
            }
        };
        let stats = &mut self.stats;
        stats.frames += 1;
        stats.filtered += u64::from(!frame.selected);
        stats.bytes += RECORD_HEADER + frame.data.len() as u64;
        stats.first_ts.get_or_insert(frame.ts);
        stats.last_ts = Some(frame.ts);
        let at = FrameRef {
            input: self.input,
            frame: frame.number,
            ts: frame.ts,
        };
        let captured = Captured::of(frame.data.len(), frame.wire_len);
        let content = match decode(self.link_type, frame.data, captured) {
            Decoded::Segment(mut segment) => {
                stats.tcp += 1;
                segment.selected = frame.selected;
                if let Some(anonymizer) = &mut self.anonymizer {
                    anonymizer.segment(&mut segment);
                }
                Content::Segment(segment)
            }
            Decoded::Neighbour(mut neighbour) => {
                stats.not_tcp += 1;
                if let Some(anonymizer) = &mut self.anonymizer {
                    anonymizer.neighbour(&mut neighbour);
                }
                Content::Neighbour(neighbour)
            }
            Decoded::Skipped(skip) => {
                match skip {
                    Skip::NotTcp => stats.not_tcp += 1,
                    Skip::Truncated => stats.truncated += 1,
                    Skip::Undecodable => stats.undecodable += 1,
                }
                Content::Other
            }
        };
        Some(Read::Frame { at, frame, content })
    }
}
