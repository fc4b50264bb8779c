//! The analysis as one value: segments in, finished and attributed flows out.
//!
//! An [`Analyzer`] holds the flow table, the host baselines every segment and finished flow
//! teach, and the reset flows waiting to be judged. Whatever reads the frames (a file, a live
//! interface, two captures compared) calls [`Analyzer::observe`] for each decoded segment and
//! takes the flows that finished; [`Analyzer::finish`] gives the rest when the input ends.
//! Nothing here reads, prints or knows where the flows go.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};

use crate::attribution::{Attribution, HostBaselines, attribute};
use crate::decode::{Neighbour, Segment};
use crate::flow::{Flow, FlowConfig, FlowTable, FrameRef, Observed};
use crate::time::Timestamp;

/// A finished flow and the attribution of each of its listed resets (same order).
#[derive(Debug, Clone)]
pub struct AnalyzedFlow {
    pub flow: Flow,
    pub attributions: Vec<Attribution>,
}

/// How an analyzer is set up.
#[derive(Debug, Clone, Default)]
pub struct AnalyzerConfig {
    pub flows: FlowConfig,
    /// Hold every finished flow that carried a reset until [`Analyzer::finish`], so that each
    /// reset is judged against baselines drawn from the whole capture, whatever the order in
    /// which flows finished (capture files). A live capture judges as it goes.
    pub judge_at_end: bool,
    /// The capturing host's own addresses (live capture), so that its resets are known as its
    /// own without guessing from TTLs. Already anonymised when anonymising.
    pub own_addresses: Vec<IpAddr>,
}

/// How many segments of each side of each flow teach the host baselines.
const HOST_SAMPLES_PER_FLOW: u32 = 16;

/// How many finished reset flows wait for the end of the input to be judged (see
/// `AnalyzerConfig::judge_at_end`); beyond this the oldest is judged at once, with the
/// baselines seen so far, and counted. About 1.6 kB each, 32 MB in all: the largest real scan
/// capture in the test corpora has under 5,000 reset flows; a storm of more is judged mostly on
/// its own flows, and the report says how many were judged early.
const HELD_FLOWS: usize = 20_000;

/// The flow table, host baselines and attribution; see the module text.
pub struct Analyzer {
    table: FlowTable,
    /// Flows the table let go of during the current call, not yet judged.
    done: Vec<Flow>,
    /// Judged flows the current call hands out.
    finished: Vec<AnalyzedFlow>,
    hosts: HostBaselines,
    /// Finished flows with resets, held until the input ends when judging at the end.
    held: Option<VecDeque<Flow>>,
    judged_early: u64,
    /// TCP segments left out as copies seen on another interface, per input.
    copies: Vec<u64>,
}

/// What [`Analyzer::observe`] gives back: the flows that finished, and whether the segment was
/// left out as a copy of one seen on another interface.
pub struct Finished<'a> {
    kept: bool,
    flows: std::vec::Drain<'a, AnalyzedFlow>,
}

impl Finished<'_> {
    /// False when the segment was a copy seen on another interface (`any`), left out.
    pub fn kept(&self) -> bool {
        self.kept
    }
}

impl Iterator for Finished<'_> {
    type Item = AnalyzedFlow;

    fn next(&mut self) -> Option<AnalyzedFlow> {
        self.flows.next()
    }
}

impl Analyzer {
    pub fn new(config: AnalyzerConfig) -> Analyzer {
        Analyzer {
            table: FlowTable::new(config.flows),
            done: Vec::new(),
            finished: Vec::new(),
            hosts: HostBaselines::with_own_addresses(config.own_addresses),
            held: config.judge_at_end.then(VecDeque::new),
            judged_early: 0,
            copies: Vec::new(),
        }
    }

    /// Takes in one decoded segment of input frame `at`; returns the flows that finished.
    pub fn observe(&mut self, segment: &Segment, at: FrameRef) -> Finished<'_> {
        let observed = self.table.observe(segment, at, &mut self.done);
        if segment.interface.is_some() {
            self.hosts.saw_several_links();
        }
        let kept = match observed {
            Observed::Kept { sender_packets } => {
                if segment.flags.rst() {
                    let before = self.hosts.last_ip_id(segment.src.ip());
                    if let Some(reset) = self.table.latest_reset_mut(segment, at) {
                        reset.host_ip_id_before = before;
                    }
                    self.hosts.observe(segment);
                } else if sender_packets <= HOST_SAMPLES_PER_FLOW {
                    // A host's usual TTL shows in the first segments of each of its flows; a
                    // bulk transfer's millionth segment adds nothing but a lookup.
                    self.hosts.observe(segment);
                }
                true
            }
            _ => {
                self.hosts.saw_several_links();
                if self.copies.len() <= at.input {
                    self.copies.resize(at.input + 1, 0);
                }
                self.copies[at.input] += 1;
                false
            }
        };
        self.judge_done();
        Finished {
            kept,
            flows: self.finished.drain(..),
        }
    }

    /// Notes an address-to-link-address binding (ARP, neighbour discovery).
    pub fn observe_neighbour(&mut self, neighbour: Neighbour) {
        self.hosts.observe_neighbour(neighbour);
    }

    /// Finishes the flows whose close or idle timers ran out by `now` (a quiet live source).
    pub fn expire(&mut self, now: Timestamp) -> std::vec::Drain<'_, AnalyzedFlow> {
        self.table.expire(now, &mut self.done);
        self.judge_done();
        self.finished.drain(..)
    }

    /// The input ended: finishes every live flow, then judges the held ones. Each is judged
    /// as the iterator hands it out, so they are never all in memory twice.
    pub fn finish(&mut self) -> FinishAll<'_> {
        // What every live flow tells about its hosts, before any of them is judged.
        for flow in self.table.live() {
            self.hosts.observe_flow(flow);
        }
        let mut rest = Vec::new();
        self.table.finish_all(&mut |flow| rest.push(flow));
        FinishAll {
            rest: rest.into_iter(),
            analyzer: self,
        }
    }

    /// A live flow by its two ends, with the judgement of its resets as things stand.
    pub fn judge_live(&self, a: SocketAddr, b: SocketAddr) -> Option<(&Flow, Vec<Attribution>)> {
        let flow = self.table.flow(a, b)?;
        Some((flow, attribute(flow, &self.hosts)))
    }

    /// Flows evicted because the flow table was full.
    pub fn evicted_flows(&self) -> u64 {
        self.table.evicted
    }

    /// Reset flows judged before the input ended, because too many were waiting.
    pub fn judged_early(&self) -> u64 {
        self.judged_early
    }

    /// TCP segments of input `input` left out as copies seen on another interface.
    pub fn copies(&self, input: usize) -> u64 {
        self.copies.get(input).copied().unwrap_or(0)
    }

    fn judge_done(&mut self) {
        for flow in &self.done {
            self.hosts.observe_flow(flow);
        }
        let done = std::mem::take(&mut self.done);
        for flow in done {
            if let Some(judged) = self.hand_on(flow) {
                self.finished.push(judged);
            }
        }
    }

    /// Judges a finished flow, or holds it for the end (and then may judge the oldest held
    /// one, when too many are waiting).
    fn hand_on(&mut self, flow: Flow) -> Option<AnalyzedFlow> {
        let Some(held) = &mut self.held else {
            return Some(self.judge(flow));
        };
        if !flow.selected || flow.resets.is_empty() {
            return Some(self.judge(flow));
        }
        held.push_back(flow);
        if held.len() > HELD_FLOWS {
            let oldest = held.pop_front()?;
            self.judged_early += 1;
            return Some(self.judge(oldest));
        }
        None
    }

    /// Attributes a finished flow (when it is one to report).
    fn judge(&self, flow: Flow) -> AnalyzedFlow {
        let attributions = if flow.selected {
            attribute(&flow, &self.hosts)
        } else {
            Vec::new()
        };
        AnalyzedFlow { flow, attributions }
    }
}

/// What [`Analyzer::finish`] gives: the flows still live, then the held ones, each judged as
/// it is taken.
pub struct FinishAll<'a> {
    analyzer: &'a mut Analyzer,
    rest: std::vec::IntoIter<Flow>,
}

impl Iterator for FinishAll<'_> {
    type Item = AnalyzedFlow;

    fn next(&mut self) -> Option<AnalyzedFlow> {
        for flow in self.rest.by_ref() {
            if let Some(judged) = self.analyzer.hand_on(flow) {
                return Some(judged);
            }
        }
        let flow = self.analyzer.held.as_mut()?.pop_front()?;
        Some(self.analyzer.judge(flow))
    }
}

impl Drop for FinishAll<'_> {
    /// A finish not taken to the end still ends the analysis: nothing stays held.
    fn drop(&mut self) {
        self.analyzer.held = None;
    }
}
