//! `analyze` on two threads, balanced so that each has about half the work:
//!
//! - the caller's thread reads each file, decodes and anonymises every frame, and
//!   hands the segments on in batches; between batches it takes back the finished, attributed
//!   flows and gives them to the sink (the report);
//! - the tracker thread runs the flow table, the host baselines and attribution: exactly the
//!   one-thread `Stages`, fed in the same order, so the flows, their ids, their order and
//!   their verdicts are those of the one-thread loop.
//!
//! Both channels are bounded, so memory in flight is too. The tracker may wait for room to
//! send finished flows; the reader therefore never blocks on sending segments, but waits for
//! finished flows while the tracker is behind, so the two cannot deadlock.
//!
//! A live capture stays on one thread (`Stages`), where the sink watches the table.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::time::Duration;

use super::input::{Frames, read_input};
use super::{AnalyzeOptions, AnalyzedFlow, InputStats, RunStats, Sink, Stages};
use crate::anonymize::Anonymizer;
use crate::capture::{CaptureError, FileSource};
use crate::decode::{Neighbour, Segment};
use crate::flow::{FlowConfig, FrameRef};

/// Segments per batch: enough to make a hand-over rare, few enough to stay in cache.
const BATCH: usize = 512;

/// Batches of segments in flight to the tracker.
const IN_FLIGHT: usize = 8;

/// Finished flows per batch back to the reader (a batch also goes at the end of every batch
/// of segments, so flows are not held back).
const FLOWS_BATCH: usize = 64;

/// How long the reader waits for finished flows before it tries the tracker again.
const WAIT: Duration = Duration::from_millis(1);

/// What the reader hands the tracker: a decoded segment and the frame it came in, or a
/// neighbour binding (ARP, neighbour discovery) for the host baselines.
enum Arrival {
    Segment(Segment, FrameRef),
    Neighbour(Neighbour),
}

/// Analyses capture files on two threads; see the module text. Inputs are checked by the
/// caller first. None when the tracker thread could not be started (nothing was read).
pub(super) fn analyze_threaded(
    paths: &[PathBuf],
    options: &AnalyzeOptions,
    sink: &mut dyn Sink,
) -> Option<Result<RunStats, CaptureError>> {
    let (segments_tx, segments_rx) = sync_channel::<Vec<Arrival>>(IN_FLIGHT);
    let (spare_tx, spare_rx) = sync_channel::<Vec<Arrival>>(IN_FLIGHT);
    let (flows_tx, flows_rx) = sync_channel::<Vec<AnalyzedFlow>>(IN_FLIGHT);
    let (spare_flows_tx, spare_flows_rx) = sync_channel::<Vec<AnalyzedFlow>>(IN_FLIGHT);
    let stopped = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let tracker = std::thread::Builder::new()
            .name("rstscope-track".into())
            .spawn_scoped(scope, || {
                track(
                    options.flows,
                    paths.len(),
                    segments_rx,
                    spare_tx,
                    flows_tx,
                    spare_flows_rx,
                    &stopped,
                )
            })
            .ok()?;
        let mut reader = Reader {
            segments: Some(segments_tx),
            spare: spare_rx,
            batch: Vec::with_capacity(BATCH),
            flows: flows_rx,
            spare_flows: spare_flows_tx,
            sink,
            anonymizer: options.anonymize.as_ref().map(Anonymizer::new),
        };
        let read = reader.read_all(paths, options);
        if read.is_err() {
            stopped.store(true, Ordering::Relaxed);
        }
        // The tracker finishes the live flows once the segments end.
        reader.segments = None;
        if read.is_ok() {
            while let Ok(batch) = reader.flows.recv() {
                reader.pass_on(batch);
            }
        }
        drop(reader);
        // A tracker that panicked has already printed why; its panic goes on from here.
        let (copies, evicted_flows, judged_early) = tracker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let mut inputs = match read {
            Ok(inputs) => inputs,
            Err(err) => return Some(Err(err)),
        };
        for (input, copies) in inputs.iter_mut().zip(copies) {
            input.copies = copies;
        }
        Some(Ok(RunStats {
            inputs,
            evicted_flows,
            judged_early,
        }))
    })
}

/// The caller's side: reads and decodes, and passes finished flows to the sink.
struct Reader<'a> {
    /// None once the input has ended, which tells the tracker to finish.
    segments: Option<SyncSender<Vec<Arrival>>>,
    /// Emptied batches coming back from the tracker, for reuse.
    spare: Receiver<Vec<Arrival>>,
    batch: Vec<Arrival>,
    flows: Receiver<Vec<AnalyzedFlow>>,
    /// Emptied batches of flows going back to the tracker.
    spare_flows: SyncSender<Vec<AnalyzedFlow>>,
    sink: &'a mut dyn Sink,
    anonymizer: Option<Anonymizer>,
}

impl Reader<'_> {
    fn read_all(
        &mut self,
        paths: &[PathBuf],
        options: &AnalyzeOptions,
    ) -> Result<Vec<InputStats>, CaptureError> {
        let mut inputs = Vec::with_capacity(paths.len());
        for (input, path) in paths.iter().enumerate() {
            let mut source = FileSource::open(path, options.filter.as_deref())?;
            inputs.push(read_input(&mut source, input, self));
        }
        self.send_batch();
        Ok(inputs)
    }

    /// Hands the batch to the tracker, then passes on the flows it has finished so far. While
    /// the tracker is behind, the reader waits for finished flows instead (the tracker may
    /// be waiting for room to send them).
    fn send_batch(&mut self) {
        if !self.batch.is_empty() {
            let next = self
                .spare
                .try_recv()
                .unwrap_or_else(|_| Vec::with_capacity(BATCH));
            let mut full = std::mem::replace(&mut self.batch, next);
            while let Some(segments) = &self.segments {
                match segments.try_send(full) {
                    Ok(()) => break,
                    Err(TrySendError::Full(batch)) => full = batch,
                    // The tracker only goes away by panicking; its panic is raised at the join.
                    Err(TrySendError::Disconnected(_)) => break,
                }
                match self.flows.recv_timeout(WAIT) {
                    Ok(batch) => self.pass_on(batch),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
        }
        while let Ok(batch) = self.flows.try_recv() {
            self.pass_on(batch);
        }
    }

    /// Gives a batch of finished flows to the sink and the emptied batch back to the tracker.
    fn pass_on(&mut self, mut batch: Vec<AnalyzedFlow>) {
        batch.drain(..).for_each(|flow| self.sink.flow(flow));
        // A full return channel only means the tracker has spares already.
        let _ = self.spare_flows.try_send(batch);
    }
}

/// The reader's segments go into batches for the tracker.
impl Frames for Reader<'_> {
    fn anonymizer(&mut self) -> Option<&mut Anonymizer> {
        self.anonymizer.as_mut()
    }

    fn segment(&mut self, segment: Segment, at: FrameRef, _stats: &mut InputStats) {
        self.batch.push(Arrival::Segment(segment, at));
        if self.batch.len() >= BATCH {
            self.send_batch();
        }
    }

    fn neighbour(&mut self, neighbour: Neighbour) {
        self.batch.push(Arrival::Neighbour(neighbour));
    }

    fn progress(&mut self, input: usize, stats: &InputStats) {
        self.sink.progress(input, stats.frames, stats.bytes);
    }
}

/// The tracker's sink: finished flows back to the reader, in batches.
struct FlowsBack<'a> {
    out: &'a SyncSender<Vec<AnalyzedFlow>>,
    spare: &'a Receiver<Vec<AnalyzedFlow>>,
    batch: Vec<AnalyzedFlow>,
}

impl FlowsBack<'_> {
    fn send(&mut self) {
        if !self.batch.is_empty() {
            let next = self
                .spare
                .try_recv()
                .unwrap_or_else(|_| Vec::with_capacity(FLOWS_BATCH));
            let batch = std::mem::replace(&mut self.batch, next);
            // Nobody to tell when the reader has stopped on an error.
            let _ = self.out.send(batch);
        }
    }
}

impl Sink for FlowsBack<'_> {
    fn flow(&mut self, flow: AnalyzedFlow) {
        self.batch.push(flow);
        if self.batch.len() >= FLOWS_BATCH {
            self.send();
        }
    }

    fn flush(&mut self) {
        self.send();
    }
}

/// The tracker thread: the one-thread stages after the decoder. Returns the copies left out
/// per input, the flows evicted and the reset flows judged before the end.
fn track(
    config: FlowConfig,
    inputs: usize,
    segments: Receiver<Vec<Arrival>>,
    spare: SyncSender<Vec<Arrival>>,
    flows: SyncSender<Vec<AnalyzedFlow>>,
    spare_flows: Receiver<Vec<AnalyzedFlow>>,
    stopped: &AtomicBool,
) -> (Vec<u64>, u64, u64) {
    let mut back = FlowsBack {
        out: &flows,
        spare: &spare_flows,
        batch: Vec::with_capacity(FLOWS_BATCH),
    };
    let mut copies = vec![0; inputs];
    let mut stages = Stages::new(config, &mut back).judging_at_end();
    for mut batch in segments.iter() {
        for arrival in batch.drain(..) {
            match arrival {
                Arrival::Segment(segment, at) => {
                    if !stages.observe(&segment, at)
                        && let Some(count) = copies.get_mut(at.input)
                    {
                        *count += 1;
                    }
                }
                Arrival::Neighbour(neighbour) => stages.observe_neighbour(neighbour),
            }
        }
        // A full return channel only means the reader has spares already.
        let _ = spare.try_send(batch);
        stages.flush_sink();
    }
    let (evicted, judged_early) = if stopped.load(Ordering::Relaxed) {
        (0, 0)
    } else {
        (stages.finish_all(), stages.judged_early())
    };
    drop(stages);
    back.send();
    (copies, evicted, judged_early)
}
