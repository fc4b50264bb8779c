//! The one loop: next frame → decode → flow table → finished flows out to the caller.
//!
//! `analyze` reads capture files in the order given, as one continuous capture (rotated
//! `tcpdump -C/-G` files continue each other's flows), counts what it skipped and why, and hands
//! every finished flow to a callback as soon as the flow table lets go of it. It never prints.

use std::path::PathBuf;

use crate::attribution::{Attribution, HostBaselines, attribute};
use crate::capture::{CaptureError, FileSource, NextFrame};
use crate::decode::{Captured, Decoded, Skip, decode};
use crate::flow::{Flow, FlowConfig, FlowTable, FrameRef};
use crate::time::Timestamp;

/// What the analysis needs besides the files.
#[derive(Debug, Clone, Default)]
pub struct AnalyzeOptions {
    /// A tcpdump filter expression, compiled by libpcap for each file's link type.
    pub filter: Option<String>,
    pub flows: FlowConfig,
}

/// A finished flow and the attribution of each of its listed resets (same order).
#[derive(Debug, Clone)]
pub struct AnalyzedFlow {
    pub flow: Flow,
    pub attributions: Vec<Attribution>,
}

/// The stages after the flow table: host baselines learn from every finished flow, then
/// attribution judges its resets, then the caller gets both.
struct Finisher<'a> {
    hosts: HostBaselines,
    on_flow: &'a mut dyn FnMut(AnalyzedFlow),
}

impl Finisher<'_> {
    fn finish(&mut self, done: &mut Vec<Flow>) {
        for flow in done.iter() {
            self.hosts.observe_flow(flow);
        }
        for flow in done.drain(..) {
            let attributions = attribute(&flow, &self.hosts);
            (self.on_flow)(AnalyzedFlow { flow, attributions });
        }
    }
}

/// What one input gave.
#[derive(Debug, Clone, Default)]
pub struct InputStats {
    pub path: String,
    pub link_type: &'static str,
    /// Frames read, filtered or not.
    pub frames: u64,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    pub filtered: u64,
    pub tcp: u64,
    pub not_tcp: u64,
    pub truncated: u64,
    pub undecodable: u64,
    /// Why the input ended early, if it did.
    pub broken: Option<String>,
}

/// What the whole run gave besides the flows.
#[derive(Debug, Clone, Default)]
pub struct RunStats {
    pub inputs: Vec<InputStats>,
    /// Flows evicted because the flow table was full.
    pub evicted_flows: u64,
}

/// Opens every input once (and compiles the filter for each), so that a bad path, file or
/// filter fails before any output is written.
pub fn check_inputs(paths: &[PathBuf], options: &AnalyzeOptions) -> Result<(), CaptureError> {
    for path in paths {
        FileSource::open(path, options.filter.as_deref())?;
    }
    Ok(())
}

/// Analyses capture files; each finished flow goes to `on_flow`.
pub fn analyze(
    paths: &[PathBuf],
    options: &AnalyzeOptions,
    on_flow: &mut dyn FnMut(AnalyzedFlow),
) -> Result<RunStats, CaptureError> {
    check_inputs(paths, options)?;
    let mut table = FlowTable::new(options.flows);
    let mut done = Vec::new();
    let mut finisher = Finisher {
        hosts: HostBaselines::default(),
        on_flow,
    };
    let mut stats = RunStats::default();
    for (input, path) in paths.iter().enumerate() {
        let mut source = FileSource::open(path, options.filter.as_deref())?;
        let input_stats = read_input(&mut source, input, &mut table, &mut done, &mut finisher);
        stats.inputs.push(input_stats);
    }
    table.finish_all(&mut done);
    finisher.finish(&mut done);
    stats.evicted_flows = table.evicted;
    Ok(stats)
}

fn read_input(
    source: &mut FileSource,
    input: usize,
    table: &mut FlowTable,
    done: &mut Vec<Flow>,
    finisher: &mut Finisher<'_>,
) -> InputStats {
    let mut stats = InputStats {
        path: source.path().to_string(),
        link_type: source.link_type().name(),
        ..InputStats::default()
    };
    let link_type = source.link_type();
    loop {
        let frame = match source.next_frame() {
            NextFrame::Frame(frame) => frame,
            NextFrame::Filtered(ts) => {
                stats.frames += 1;
                stats.filtered += 1;
                stats.first_ts.get_or_insert(ts);
                stats.last_ts = Some(ts);
                continue;
            }
            NextFrame::End => break,
            NextFrame::Broken(reason) => {
                stats.broken = Some(reason);
                break;
            }
        };
        stats.frames += 1;
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
            Decoded::Segment(segment) => {
                stats.tcp += 1;
                finisher.hosts.observe(&segment);
                table.observe(&segment, at, done);
            }
            Decoded::Skipped(Skip::NotTcp) => stats.not_tcp += 1,
            Decoded::Skipped(Skip::Truncated) => stats.truncated += 1,
            Decoded::Skipped(Skip::Undecodable) => stats.undecodable += 1,
        }
        if !done.is_empty() {
            finisher.finish(done);
        }
    }
    stats
}
