//! `analyze` over capture files: each file read in the order given, as one continuous capture
//! (rotated `tcpdump -C/-G` files continue each other's flows), through one [`Analyzer`].
//!
//! The files are read by [`Reader`] (the one reading loop) and the arrivals it decodes go to
//! the analyzer (`Run::take`). By default the reading and decoding run a step ahead on a second
//! thread (`ahead`), which hands the arrivals over in batches: the same arrivals, in the same
//! order, so the flows, their ids and verdicts are those of the one-thread run.

mod ahead;

use std::path::PathBuf;

use crate::analyzer::{AnalyzedFlow, Analyzer, AnalyzerConfig};
use crate::anonymize::{AnonymizeKey, Anonymizer};
use crate::capture::{CaptureError, FileSource};
use crate::decode::{Neighbour, Segment};
use crate::flow::{FlowConfig, FrameRef};
use crate::reading::{Content, InputStats, Read, Reader};

/// What the analysis needs besides the files.
#[derive(Debug, Clone, Default)]
pub struct AnalyzeOptions {
    /// A tcpdump filter expression, compiled by libpcap for each file's link type.
    pub filter: Option<String>,
    pub flows: FlowConfig,
    /// Anonymise every address (`--anonymize`) under this key.
    pub anonymize: Option<AnonymizeKey>,
    /// Read, decode and analyse on the caller's thread only (the default reads a step ahead
    /// on a second thread, with the same results).
    pub one_thread: bool,
}

/// What the whole run gave besides the flows.
#[derive(Debug, Clone, Default)]
pub struct RunStats {
    pub inputs: Vec<InputStats>,
    /// Flows evicted because the flow table was full.
    pub evicted_flows: u64,
    /// Reset flows judged before the input ended, with the baselines seen until then, because
    /// more than the analyzer holds were waiting.
    pub judged_early: u64,
    /// True when the inputs are views of the same traffic from two points (`compare`), not
    /// the parts of one capture: their times may overlap.
    pub side_by_side: bool,
}

/// How often (in frames) the caller hears how far the reading is.
const PROGRESS_EVERY: u64 = 4096;

/// Opens every input once (and compiles the filter for each), so that a bad path, file or
/// filter fails before any output is written. Pipes are only looked up (see
/// `FileSource::check`).
pub fn check_inputs(paths: &[PathBuf], options: &AnalyzeOptions) -> Result<(), CaptureError> {
    for path in paths {
        FileSource::check(path, options.filter.as_deref())?;
    }
    Ok(())
}

/// Analyses capture files; each finished flow goes to `on_flow`.
pub fn analyze(
    paths: &[PathBuf],
    options: &AnalyzeOptions,
    on_flow: &mut dyn FnMut(AnalyzedFlow),
) -> Result<RunStats, CaptureError> {
    analyze_with_progress(paths, options, on_flow, &mut |_, _, _| {})
}

/// `analyze`, telling `progress` how far the reading is every few thousand frames and at the
/// end of each input: the input's index, and the frames and bytes of it read so far.
pub fn analyze_with_progress(
    paths: &[PathBuf],
    options: &AnalyzeOptions,
    on_flow: &mut dyn FnMut(AnalyzedFlow),
    progress: &mut dyn FnMut(usize, u64, u64),
) -> Result<RunStats, CaptureError> {
    check_inputs(paths, options)?;
    let mut run = Run {
        analyzer: Analyzer::new(AnalyzerConfig {
            flows: options.flows,
            judge_at_end: true,
            own_addresses: Vec::new(),
        }),
        on_flow,
        progress,
        inputs: Vec::with_capacity(paths.len()),
    };
    if options.one_thread {
        read_inputs(paths, options, &mut |arrival| run.take(arrival))?;
    } else {
        ahead::read_ahead(paths, options, &mut |arrival| run.take(arrival))?;
    }
    for flow in run.analyzer.finish() {
        (run.on_flow)(flow);
    }
    let mut inputs = run.inputs;
    for (index, input) in inputs.iter_mut().enumerate() {
        input.copies = run.analyzer.copies(index);
    }
    Ok(RunStats {
        inputs,
        evicted_flows: run.analyzer.evicted_flows(),
        judged_early: run.analyzer.judged_early(),
        side_by_side: false,
    })
}

/// What the reading hands the analysis.
pub(crate) enum Arrival {
    Segment(Segment, FrameRef),
    Neighbour(Neighbour),
    /// How far input `.0` is: frames and bytes read.
    Progress(usize, u64, u64),
    /// An input ended, with what it gave.
    End(InputStats),
}

/// Reads every file in turn, handing each arrival to `each`.
pub(crate) fn read_inputs(
    paths: &[PathBuf],
    options: &AnalyzeOptions,
    each: &mut dyn FnMut(Arrival),
) -> Result<(), CaptureError> {
    let mut anonymizer = options.anonymize.as_ref().map(Anonymizer::new);
    for (input, path) in paths.iter().enumerate() {
        let mut source = FileSource::open(path, options.filter.as_deref())?;
        let mut reader = Reader::new(&mut source, input, anonymizer.as_mut());
        while let Some(read) = reader.next() {
            if let Read::Frame { at, content, .. } = read {
                match content {
                    Content::Segment(segment) => each(Arrival::Segment(segment, at)),
                    Content::Neighbour(neighbour) => each(Arrival::Neighbour(neighbour)),
                    Content::Other => {}
                }
                let stats = reader.stats();
                if stats.frames.is_multiple_of(PROGRESS_EVERY) {
                    each(Arrival::Progress(input, stats.frames, stats.bytes));
                }
            }
        }
        let stats = reader.into_stats();
        each(Arrival::Progress(input, stats.frames, stats.bytes));
        each(Arrival::End(stats));
    }
    Ok(())
}

/// The analysis side of a run.
struct Run<'a> {
    analyzer: Analyzer,
    on_flow: &'a mut dyn FnMut(AnalyzedFlow),
    progress: &'a mut dyn FnMut(usize, u64, u64),
    inputs: Vec<InputStats>,
}

impl Run<'_> {
    fn take(&mut self, arrival: Arrival) {
        match arrival {
            Arrival::Segment(segment, at) => {
                for flow in self.analyzer.observe(&segment, at) {
                    (self.on_flow)(flow);
                }
            }
            Arrival::Neighbour(neighbour) => self.analyzer.observe_neighbour(neighbour),
            Arrival::Progress(input, frames, bytes) => (self.progress)(input, frames, bytes),
            Arrival::End(stats) => self.inputs.push(stats),
        }
    }
}

#[cfg(test)]
mod tests;
