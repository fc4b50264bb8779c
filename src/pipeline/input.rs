//! Reading one input: every frame counted, each TCP segment decoded, anonymised when asked,
//! and handed on. The one-thread loop (`Stages`) and the threaded reader hand segments on
//! differently; the reading is this one loop.

use super::{InputStats, PROGRESS_EVERY, RECORD_HEADER};
use crate::anonymize::Anonymizer;
use crate::capture::{NextFrame, Source};
use crate::decode::{Captured, Decoded, Neighbour, Segment, Skip, decode};
use crate::flow::FrameRef;
use crate::time::Timestamp;

/// Where the segments of an input go, and who may stop the reading.
pub(super) trait Frames {
    /// The anonymiser, when anonymising.
    fn anonymizer(&mut self) -> Option<&mut Anonymizer>;

    /// A decoded (and anonymised) segment.
    fn segment(&mut self, segment: Segment, at: FrameRef, stats: &mut InputStats);

    /// An address-to-link-address binding (ARP, neighbour discovery) a frame announced.
    fn neighbour(&mut self, neighbour: Neighbour);

    /// A live source was quiet until `now`; true stops reading.
    fn idle(&mut self, _now: Timestamp, _input: usize, _stats: &InputStats) -> bool {
        false
    }

    /// After every frame; true stops reading.
    fn after_frame(&mut self, _now: Timestamp, _input: usize, _stats: &InputStats) -> bool {
        false
    }

    /// Every `PROGRESS_EVERY` frames and at the end of the input.
    fn progress(&mut self, _input: usize, _stats: &InputStats) {}

    /// Text as the reports may show it: addresses in it anonymised when anonymising.
    fn text(&mut self, text: &str) -> String {
        match self.anonymizer() {
            Some(anonymizer) => anonymizer.text(text),
            None => text.to_string(),
        }
    }
}

/// Reads `source` (input number `input`) until it ends or `to` stops it.
pub(super) fn read_input<F: Frames + ?Sized>(
    source: &mut dyn Source,
    input: usize,
    to: &mut F,
) -> InputStats {
    let mut stats = InputStats {
        path: to.text(source.name()),
        link_type: source.link_type().name(),
        ..InputStats::default()
    };
    let link_type = source.link_type();
    loop {
        let frame = match source.next_frame() {
            NextFrame::Frame(frame) => frame,
            NextFrame::Idle(now) => {
                if to.idle(now, input, &stats) {
                    break;
                }
                continue;
            }
            NextFrame::End => break,
            NextFrame::Broken(reason) => {
                stats.broken = Some(to.text(&reason));
                break;
            }
        };
        stats.frames += 1;
        stats.filtered += u64::from(!frame.selected);
        stats.bytes += RECORD_HEADER + frame.data.len() as u64;
        stats.first_ts.get_or_insert(frame.ts);
        stats.last_ts = Some(frame.ts);
        let at = FrameRef {
            input,
            frame: frame.number,
            ts: frame.ts,
        };
        match decode(
            link_type,
            frame.data,
            Captured::of(frame.data.len(), frame.wire_len),
        ) {
            Decoded::Segment(mut segment) => {
                stats.tcp += 1;
                segment.selected = frame.selected;
                if let Some(anonymizer) = to.anonymizer() {
                    anonymizer.segment(&mut segment);
                }
                to.segment(segment, at, &mut stats);
            }
            Decoded::Neighbour(mut neighbour) => {
                stats.not_tcp += 1;
                if let Some(anonymizer) = to.anonymizer() {
                    anonymizer.neighbour(&mut neighbour);
                }
                to.neighbour(neighbour);
            }
            Decoded::Skipped(Skip::NotTcp) => stats.not_tcp += 1,
            Decoded::Skipped(Skip::Truncated) => stats.truncated += 1,
            Decoded::Skipped(Skip::Undecodable) => stats.undecodable += 1,
        }
        if to.after_frame(at.ts, input, &stats) {
            break;
        }
        if stats.frames.is_multiple_of(PROGRESS_EVERY) {
            to.progress(input, &stats);
        }
    }
    to.progress(input, &stats);
    stats
}
