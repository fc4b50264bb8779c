//! The loop: next frame → decode → flow table → finished flows out to a [`Sink`].
//!
//! `analyze` reads capture files in the order given, as one continuous capture (rotated
//! `tcpdump -C/-G` files continue each other's flows), on two threads (`threads`); `capture`
//! reads an interface on one thread (`Stages`). Both count what they
//! skipped and why, and hand every finished flow, attributed, to the sink as soon as the flow
//! table lets go of it, in the same order and with the same verdicts. The loop never prints.

mod input;
mod threads;

use input::{Frames, read_input};

use std::collections::VecDeque;
use std::path::PathBuf;

use crate::anonymize::{AnonymizeKey, Anonymizer};
use crate::attribution::{Attribution, HostBaselines, attribute};
use crate::capture::{CaptureError, FileSource, Source};
use crate::decode::{Neighbour, Segment};
use crate::flow::{Flow, FlowConfig, FlowTable, FrameRef, Observed};
use crate::time::Timestamp;

/// What the analysis needs besides the files.
#[derive(Debug, Clone, Default)]
pub struct AnalyzeOptions {
    /// A tcpdump filter expression, compiled by libpcap for each file's link type.
    pub filter: Option<String>,
    pub flows: FlowConfig,
    /// Anonymise every address (`--anonymize`) under this key.
    pub anonymize: Option<AnonymizeKey>,
}

/// A finished flow and the attribution of each of its listed resets (same order).
#[derive(Debug, Clone)]
pub struct AnalyzedFlow {
    pub flow: Flow,
    pub attributions: Vec<Attribution>,
}

/// Where the loop's results go.
pub trait Sink {
    /// A finished, attributed flow.
    fn flow(&mut self, flow: AnalyzedFlow);

    /// A RST segment was just seen (live capture announces it once its flow has shown a
    /// little more).
    fn reset_seen(&mut self, _segment: &Segment, _at: FrameRef) {}

    /// Live capture only: called after every frame, and on quiet moments; the live flows and
    /// baselines can be read. True stops reading.
    fn tick(&mut self, _now: Timestamp, _live: &LiveView<'_>) -> bool {
        false
    }

    /// `analyze` only: how far the reader is, every few thousand frames (the input's index,
    /// and the frames and bytes of it read so far).
    fn progress(&mut self, _input: usize, _frames: u64, _bytes: u64) {}

    /// A batch of input has been taken in: pass on anything held back.
    fn flush(&mut self) {}
}

/// How many segments of each side of each flow teach the host baselines.
const HOST_SAMPLES_PER_FLOW: u32 = 16;

/// How often (in frames) the sink hears how far the reading is.
const PROGRESS_EVERY: u64 = 4096;

/// A pcap record's header, counted per frame in `InputStats::bytes`.
const RECORD_HEADER: u64 = 16;

/// What a sink may look at while the capture runs.
pub struct LiveView<'a> {
    /// Which input is being read (its index in the paths given).
    pub input: usize,
    pub table: &'a FlowTable,
    pub hosts: &'a HostBaselines,
    pub stats: &'a InputStats,
}

/// A sink that only wants finished flows.
struct FlowsTo<'a>(&'a mut dyn FnMut(AnalyzedFlow));

impl Sink for FlowsTo<'_> {
    fn flow(&mut self, flow: AnalyzedFlow) {
        (self.0)(flow);
    }
}

/// How many finished reset flows wait for the end of the input to be judged (see
/// `Stages::judging_at_end`); beyond this the oldest is judged at once, with the baselines
/// seen so far, and counted. About 1.6 kB each, 32 MB in all: the largest real scan capture in
/// the test corpora has under 5,000 reset flows; a storm of more is judged mostly on its own
/// flows, and the report says how many were judged early.
const HELD_FLOWS: usize = 20_000;

/// The stages after the decoder: the flow table, host baselines that learn from every
/// segment and finished flow, attribution, and the sink.
pub(crate) struct Stages<'a> {
    table: FlowTable,
    done: Vec<Flow>,
    hosts: HostBaselines,
    sink: &'a mut dyn Sink,
    anonymizer: Option<Anonymizer>,
    /// Finished flows with resets, held until the input ends when judging at the end.
    held: Option<VecDeque<Flow>>,
    /// Reset flows judged before the input ended because `held` was full.
    judged_early: u64,
}

impl Stages<'_> {
    pub(crate) fn new(flows: FlowConfig, sink: &mut dyn Sink) -> Stages<'_> {
        Stages {
            table: FlowTable::new(flows),
            done: Vec::new(),
            hosts: HostBaselines::default(),
            sink,
            anonymizer: None,
            held: None,
            judged_early: 0,
        }
    }

    /// Anonymises every segment (and input names) under `key`, when given.
    pub(crate) fn anonymizing(mut self, key: Option<AnonymizeKey>) -> Self {
        self.anonymizer = key.as_ref().map(Anonymizer::new);
        self
    }

    /// Holds every finished flow that carried a reset until the input ends, so that each
    /// reset is judged against baselines drawn from the whole capture, whatever the order in
    /// which flows finished (capture files; a live capture judges as it goes and revises).
    pub(crate) fn judging_at_end(mut self) -> Self {
        self.held = Some(VecDeque::new());
        self
    }

    /// The capturing host's own addresses (live capture), so that its resets are known as
    /// its own without guessing from TTLs.
    pub(crate) fn own_addresses(mut self, own: Vec<std::net::IpAddr>) -> Self {
        let own = match &mut self.anonymizer {
            Some(anonymizer) => own.into_iter().map(|ip| anonymizer.ip(ip)).collect(),
            None => own,
        };
        self.hosts = HostBaselines::with_own_addresses(own);
        self
    }

    /// Returns false when the segment was a copy seen on another interface, left out.
    pub(crate) fn observe(&mut self, segment: &Segment, at: FrameRef) -> bool {
        let observed = self.table.observe(segment, at, &mut self.done);
        if segment.interface.is_some() {
            self.hosts.saw_several_links();
        }
        let Observed::Kept { sender_packets } = observed else {
            self.hosts.saw_several_links();
            self.finish();
            return false;
        };
        if segment.flags.rst() {
            let before = self.hosts.last_ip_id(segment.src.ip());
            if let Some(reset) = self.table.latest_reset_mut(segment, at) {
                reset.host_ip_id_before = before;
            }
            self.hosts.observe(segment);
            self.sink.reset_seen(segment, at);
        } else if sender_packets <= HOST_SAMPLES_PER_FLOW {
            // A host's usual TTL shows in the first segments of each of its flows; a bulk
            // transfer's millionth segment adds nothing but a lookup.
            self.hosts.observe(segment);
        }
        self.finish();
        true
    }

    /// Notes an address-to-link-address binding for the host baselines.
    pub(crate) fn observe_neighbour(&mut self, neighbour: Neighbour) {
        self.hosts.observe_neighbour(neighbour);
    }

    /// Tells the sink that a batch of input has been taken in.
    pub(crate) fn flush_sink(&mut self) {
        self.sink.flush();
    }

    pub(crate) fn expire(&mut self, now: Timestamp) {
        self.table.expire(now, &mut self.done);
        self.finish();
    }

    fn finish(&mut self) {
        for flow in &self.done {
            self.hosts.observe_flow(flow);
        }
        let done = std::mem::take(&mut self.done);
        for flow in done {
            self.hand_on(flow);
        }
    }

    /// Judges a finished flow and hands it to the sink, or holds it for the end.
    fn hand_on(&mut self, flow: Flow) {
        let Some(held) = &mut self.held else {
            return deliver(&self.hosts, &mut *self.sink, flow);
        };
        if !flow.selected || flow.resets.is_empty() {
            return deliver(&self.hosts, &mut *self.sink, flow);
        }
        held.push_back(flow);
        if held.len() > HELD_FLOWS
            && let Some(oldest) = held.pop_front()
        {
            self.judged_early += 1;
            deliver(&self.hosts, &mut *self.sink, oldest);
        }
    }

    /// Finishes every live flow, then judges the held ones. Returns the flows evicted.
    pub(crate) fn finish_all(&mut self) -> u64 {
        // What every live flow tells about its hosts, before any of them is judged.
        for flow in self.table.live() {
            self.hosts.observe_flow(flow);
        }
        let mut rest = Vec::new();
        self.table.finish_all(&mut |flow| rest.push(flow));
        for flow in rest {
            self.hand_on(flow);
        }
        for flow in self.held.take().unwrap_or_default() {
            deliver(&self.hosts, &mut *self.sink, flow);
        }
        self.table.evicted
    }

    /// Reset flows judged before the input ended, because too many were waiting.
    pub(crate) fn judged_early(&self) -> u64 {
        self.judged_early
    }

    pub(crate) fn tick(&mut self, now: Timestamp, input: usize, stats: &InputStats) -> bool {
        let view = LiveView {
            input,
            table: &self.table,
            hosts: &self.hosts,
            stats,
        };
        self.sink.tick(now, &view)
    }
}

/// Attributes a finished flow (when it is one to report) and hands it to the sink.
fn deliver(hosts: &HostBaselines, sink: &mut dyn Sink, flow: Flow) {
    let attributions = if flow.selected {
        attribute(&flow, hosts)
    } else {
        Vec::new()
    };
    sink.flow(AnalyzedFlow { flow, attributions });
}

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
}

/// What the whole run gave besides the flows.
#[derive(Debug, Clone, Default)]
pub struct RunStats {
    pub inputs: Vec<InputStats>,
    /// Flows evicted because the flow table was full.
    pub evicted_flows: u64,
    /// Reset flows judged before the input ended, with the baselines seen until then, because
    /// more than `HELD_FLOWS` were waiting.
    pub judged_early: u64,
}

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
    analyze_into(paths, options, &mut FlowsTo(on_flow))
}

/// Analyses capture files into a sink, which also hears how far the reading is (`progress`).
pub fn analyze_into(
    paths: &[PathBuf],
    options: &AnalyzeOptions,
    sink: &mut dyn Sink,
) -> Result<RunStats, CaptureError> {
    check_inputs(paths, options)?;
    match threads::analyze_threaded(paths, options, sink) {
        Some(result) => result,
        None => analyze_on_one_thread(paths, options, sink),
    }
}

/// `analyze_into` with every stage on the caller's thread: what runs when no thread can be
/// started, and what the threaded analysis must agree with.
pub fn analyze_on_one_thread(
    paths: &[PathBuf],
    options: &AnalyzeOptions,
    sink: &mut dyn Sink,
) -> Result<RunStats, CaptureError> {
    check_inputs(paths, options)?;
    let mut stages = Stages::new(options.flows, sink)
        .anonymizing(options.anonymize)
        .judging_at_end();
    let mut stats = RunStats::default();
    for (input, path) in paths.iter().enumerate() {
        let mut source = FileSource::open(path, options.filter.as_deref())?;
        stats
            .inputs
            .push(read_input(&mut source, input, &mut stages));
    }
    stats.evicted_flows = stages.finish_all();
    stats.judged_early = stages.judged_early();
    Ok(stats)
}

/// Reads one live source until it ends or the sink says stop, then finishes every flow.
/// `own_addresses` are the capturing host's (the interface's) addresses.
pub fn capture(
    source: &mut dyn Source,
    flows: FlowConfig,
    anonymize: Option<AnonymizeKey>,
    own_addresses: Vec<std::net::IpAddr>,
    sink: &mut dyn Sink,
) -> RunStats {
    let mut stages = Stages::new(flows, sink)
        .anonymizing(anonymize)
        .own_addresses(own_addresses);
    let input = read_input(source, 0, &mut stages);
    let evicted_flows = stages.finish_all();
    RunStats {
        inputs: vec![input],
        evicted_flows,
        judged_early: 0,
    }
}

/// The one-thread loop reads straight into the stages.
impl Frames for Stages<'_> {
    fn anonymizer(&mut self) -> Option<&mut Anonymizer> {
        self.anonymizer.as_mut()
    }

    fn segment(&mut self, segment: Segment, at: FrameRef, stats: &mut InputStats) {
        if !self.observe(&segment, at) {
            stats.copies += 1;
        }
    }

    fn neighbour(&mut self, neighbour: Neighbour) {
        self.observe_neighbour(neighbour);
    }

    fn idle(&mut self, now: Timestamp, input: usize, stats: &InputStats) -> bool {
        self.expire(now);
        self.tick(now, input, stats)
    }

    fn after_frame(&mut self, now: Timestamp, input: usize, stats: &InputStats) -> bool {
        self.tick(now, input, stats)
    }

    fn progress(&mut self, input: usize, stats: &InputStats) {
        self.sink.progress(input, stats.frames, stats.bytes);
    }
}

#[cfg(test)]
mod tests;
