//! The flow table: finds each segment's flow, starts new ones, and finishes flows on time.
//!
//! Flows are keyed by their unordered pair of endpoints. Each flow has a deadline (closed and
//! lingering, unanswered attempt, or idle); a min-heap of deadlines, checked against frame
//! time before every segment, finishes flows without scanning the table, so memory follows the
//! number of live flows, not the length of the capture. A full table evicts the flow whose
//! deadline is nearest, and counts it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hash::BuildHasher;
use std::net::SocketAddr;

use hashbrown::HashTable;

use super::orientation::sender_is_server;
use super::wireshark::{Header, Numbering, Streams};
use super::{Flow, FlowEnd, FrameRef};
use crate::decode::Segment;
use crate::time::{Span, Timestamp};

/// Limits and timeouts of the flow table.
#[derive(Debug, Clone, Copy)]
pub struct FlowConfig {
    /// A flow with no segment for this long is finished.
    pub idle_timeout: Span,
    /// At most this many live flows; beyond it the nearest-deadline flow is evicted.
    pub max_flows: usize,
    /// At most this many resets are listed per flow; the rest are counted.
    pub max_resets_per_flow: usize,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            idle_timeout: Span::from_secs(3 * 3600),
            max_flows: 1_000_000,
            max_resets_per_flow: 1000,
        }
    }
}

/// Hashes the unordered pair of a flow's endpoints: both directions give the same hash. One
/// hasher call per key, addresses and ports packed into 128-bit words.
#[derive(Clone, Default)]
struct PairHasher(foldhash::fast::RandomState);

impl PairHasher {
    fn hash(&self, a: SocketAddr, b: SocketAddr) -> u64 {
        fn word(addr: &SocketAddr) -> u128 {
            match addr {
                SocketAddr::V4(v4) => u128::from(u32::from(*v4.ip())) << 16 | u128::from(v4.port()),
                SocketAddr::V6(v6) => u128::from(*v6.ip()) ^ u128::from(v6.port()) << 112,
            }
        }
        let (x, y) = (word(&a), word(&b));
        let (low, high) = if x <= y { (x, y) } else { (y, x) };
        if high >> 64 == 0 {
            // Two IPv4 ends: 48 bits each, one word.
            self.0.hash_one(low << 64 | high)
        } else {
            self.0.hash_one((low, high))
        }
    }

    fn of_flow(&self, flow: &Flow) -> u64 {
        self.hash(flow.client(), flow.server())
    }
}

/// A deadline in the heap: (when, flow id, the flow's hash in the table). An entry is stale
/// when its flow is gone or has moved on.
type Deadline = Reverse<(Timestamp, u64, u64)>;

/// What became of a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Observed {
    /// Part of its flow; the sender had sent this many segments in the flow so far.
    Kept { sender_packets: u32 },
    /// A copy of a packet just seen on another interface (`any` captures): left out.
    Copy,
}

/// Feeds a segment to its flow and keeps the flow's deadline in the heap.
fn feed(
    flow: &mut Flow,
    hash: u64,
    segment: &Segment,
    at: FrameRef,
    config: &FlowConfig,
    deadlines: &mut BinaryHeap<Deadline>,
    streams: &mut Streams,
) -> Observed {
    if segment.in_wireshark {
        // Wireshark numbers every frame, copies seen on another interface too.
        number(flow, hash, segment, at.input, streams);
    }
    if !flow.admit(segment, at) {
        return Observed::Copy;
    }
    let before = flow.deadline(config.idle_timeout);
    flow.observe(segment, at, config.max_resets_per_flow);
    let after = flow.deadline(config.idle_timeout);
    // A deadline that moved later is found when the old entry pops; an earlier one needs its
    // own entry. A new flow needs its first.
    if after < before || flow.packets() == 1 {
        deadlines.push(Reverse((after, flow.id, hash)));
    }
    let sender = flow.endpoint(flow.side_of(segment.src));
    Observed::Kept {
        sender_packets: sender.packets,
    }
}

/// Wireshark's conversation for a segment it dissects: the flow's, or the first one (taken
/// over from a finished flow of the same pair, or new).
fn number(flow: &mut Flow, hash: u64, segment: &Segment, input: usize, streams: &mut Streams) {
    let side = flow.side_of(segment.src);
    let header = Header::of(segment);
    match &mut flow.wireshark {
        Some(numbering) => {
            streams.observe(&mut numbering.now, side, header, input);
        }
        None => {
            let mut now = streams.start(hash, flow.client(), flow.server(), input);
            let first = streams.observe(&mut now, side, header, input);
            flow.wireshark = Some(Numbering { first, now });
        }
    }
}

/// All live flows.
pub(crate) struct FlowTable {
    config: FlowConfig,
    /// Boxed flows found by the hash of their endpoint pair: a bucket is one pointer, so the
    /// table of a hundred thousand flows stays in cache, and growing it moves no flow.
    flows: HashTable<Box<Flow>>,
    hasher: PairHasher,
    deadlines: BinaryHeap<Deadline>,
    next_id: u64,
    /// Wireshark's `tcp.stream` numbering, per input.
    streams: Streams,
    /// Flows evicted because the table was full.
    pub evicted: u64,
}

impl FlowTable {
    pub(crate) fn new(config: FlowConfig) -> FlowTable {
        FlowTable {
            config,
            flows: HashTable::new(),
            hasher: PairHasher::default(),
            deadlines: BinaryHeap::new(),
            next_id: 1,
            streams: Streams::default(),
            evicted: 0,
        }
    }

    /// The live flow between two endpoints, if any.
    pub(crate) fn flow(&self, a: SocketAddr, b: SocketAddr) -> Option<&Flow> {
        let hash = self.hasher.hash(a, b);
        self.flows
            .find(hash, |flow| flow.joins(a, b))
            .map(|flow| &**flow)
    }

    /// The latest reset of the live flow a RST segment just went to, when it was listed.
    pub(crate) fn latest_reset_mut(
        &mut self,
        segment: &Segment,
        at: FrameRef,
    ) -> Option<&mut super::Reset> {
        let (a, b) = (segment.src, segment.dst);
        let hash = self.hasher.hash(a, b);
        let flow = self.flows.find_mut(hash, |flow| flow.joins(a, b))?;
        flow.resets
            .last_mut()
            .filter(|reset| reset.segment.at == at)
    }

    /// How many flows are live.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.flows.len()
    }

    /// Feeds one segment; flows that finished on the way are appended to `done`.
    pub(crate) fn observe(
        &mut self,
        segment: &Segment,
        at: FrameRef,
        done: &mut Vec<Flow>,
    ) -> Observed {
        self.expire(at.ts, done);
        let (src, dst) = (segment.src, segment.dst);
        let hash = self.hasher.hash(src, dst);
        // The common case, one lookup: a segment of a live flow.
        let reused = match self.flows.find_mut(hash, |flow| flow.joins(src, dst)) {
            Some(flow) if !flow.is_reused_by(segment) => {
                return feed(
                    flow,
                    hash,
                    segment,
                    at,
                    &self.config,
                    &mut self.deadlines,
                    &mut self.streams,
                );
            }
            Some(flow) => Some(flow.id),
            None => None,
        };
        if let Some(id) = reused {
            self.finish(hash, id, FlowEnd::Reused, done);
        }
        if self.flows.len() >= self.config.max_flows {
            self.evict_one(done);
        }
        let flip = sender_is_server(segment.flags, src.port(), dst.port());
        let flow = Box::new(Flow::new(self.next_id, segment, at, flip));
        self.next_id += 1;
        let hasher = &self.hasher;
        let flow = self
            .flows
            .insert_unique(hash, flow, |flow| hasher.of_flow(flow))
            .into_mut();
        feed(
            flow,
            hash,
            segment,
            at,
            &self.config,
            &mut self.deadlines,
            &mut self.streams,
        )
    }

    /// Finishes every flow whose deadline is at or before `now`.
    pub(crate) fn expire(&mut self, now: Timestamp, done: &mut Vec<Flow>) {
        while let Some(Reverse((when, id, hash))) = self.deadlines.peek().copied() {
            if when > now {
                break;
            }
            self.deadlines.pop();
            let Some(flow) = self.flows.find(hash, |flow| flow.id == id) else {
                continue;
            };
            let deadline = flow.deadline(self.config.idle_timeout);
            if deadline <= now {
                let end = flow.end_reason(self.config.idle_timeout);
                self.finish(hash, id, end, done);
            } else {
                self.deadlines.push(Reverse((deadline, id, hash)));
            }
        }
    }

    /// Finishes every live flow (the input ended), oldest first.
    pub(crate) fn finish_all(&mut self, each: &mut dyn FnMut(Flow)) {
        // One flow out of the table at a time, oldest first: a table of a million flows is
        // not copied whole on the way out.
        let hasher = &self.hasher;
        let mut order: Vec<(u64, u64)> = self
            .flows
            .iter()
            .map(|flow| (flow.id, hasher.of_flow(flow)))
            .collect();
        order.sort_unstable();
        for (id, hash) in order {
            if let Ok(entry) = self.flows.find_entry(hash, |flow| flow.id == id) {
                let (mut flow, _) = entry.remove();
                flow.end = FlowEnd::EndOfInput;
                each(*flow);
            }
        }
        self.flows = HashTable::new();
        self.deadlines = BinaryHeap::new();
    }

    /// The live flows, in no particular order.
    pub(crate) fn live(&self) -> impl Iterator<Item = &Flow> {
        self.flows.iter().map(|flow| &**flow)
    }

    fn finish(&mut self, hash: u64, id: u64, end: FlowEnd, done: &mut Vec<Flow>) {
        if let Ok(entry) = self.flows.find_entry(hash, |flow| flow.id == id) {
            let (mut flow, _) = entry.remove();
            flow.end = end;
            if let Some(numbering) = flow.wireshark {
                self.streams
                    .remember(hash, flow.client(), flow.server(), numbering.now);
            }
            done.push(*flow);
        }
    }

    /// Makes room by finishing the live flow with the nearest deadline.
    fn evict_one(&mut self, done: &mut Vec<Flow>) {
        while let Some(Reverse((_, id, hash))) = self.deadlines.pop() {
            if self.flows.find(hash, |flow| flow.id == id).is_some() {
                self.finish(hash, id, FlowEnd::Evicted, done);
                self.evicted += 1;
                return;
            }
        }
    }
}
