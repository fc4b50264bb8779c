//! The flow table: finds each segment's flow, starts new ones, and finishes flows on time.
//!
//! Flows are keyed by their unordered pair of endpoints. Each flow has a deadline (closed and
//! lingering, unanswered attempt, or idle); a min-heap of deadlines, checked against frame
//! time before every segment, finishes flows without scanning the table, so memory follows the
//! number of live flows, not the length of the capture. A full table evicts the flow whose
//! deadline is nearest, and counts it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::SocketAddr;

use super::orientation::sender_is_server;
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

/// Unordered pair of endpoints: both directions of a flow map to the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct FlowKey(SocketAddr, SocketAddr);

/// One hasher call per key: addresses and ports packed into 128-bit words (the derived hash
/// feeds every field of both `SocketAddr`s separately).
impl std::hash::Hash for FlowKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        fn word(addr: &SocketAddr) -> u128 {
            match addr {
                SocketAddr::V4(v4) => u128::from(u32::from(*v4.ip())) << 16 | u128::from(v4.port()),
                SocketAddr::V6(v6) => u128::from(*v6.ip()) ^ u128::from(v6.port()) << 112,
            }
        }
        match (self.0, self.1) {
            (SocketAddr::V4(_), SocketAddr::V4(_)) => {
                state.write_u128(word(&self.0) << 64 | word(&self.1));
            }
            _ => {
                state.write_u128(word(&self.0));
                state.write_u128(word(&self.1));
            }
        }
    }
}

impl FlowKey {
    fn of(segment: &Segment) -> FlowKey {
        if segment.src <= segment.dst {
            FlowKey(segment.src, segment.dst)
        } else {
            FlowKey(segment.dst, segment.src)
        }
    }
}

/// What became of a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observed {
    /// Part of its flow; the sender had sent this many segments in the flow so far.
    Kept { sender_packets: u32 },
    /// A copy of a packet just seen on another interface (`any` captures): left out.
    Copy,
}

/// Feeds a segment to its flow and keeps the flow's deadline in the heap.
fn feed(
    flow: &mut Flow,
    key: FlowKey,
    segment: &Segment,
    at: FrameRef,
    config: &FlowConfig,
    deadlines: &mut BinaryHeap<Reverse<(Timestamp, u64, FlowKey)>>,
) -> Observed {
    if !flow.admit(segment) {
        return Observed::Copy;
    }
    let before = flow.deadline(config.idle_timeout);
    flow.observe(segment, at, config.max_resets_per_flow);
    let after = flow.deadline(config.idle_timeout);
    // A deadline that moved later is found when the old entry pops; an earlier one needs its
    // own entry. A new flow needs its first.
    if after < before || flow.packets() == 1 {
        deadlines.push(Reverse((after, flow.id, key)));
    }
    let sender = if segment.src == flow.client {
        &flow.client_side
    } else {
        &flow.server_side
    };
    Observed::Kept {
        sender_packets: sender.packets,
    }
}

/// All live flows.
pub struct FlowTable {
    config: FlowConfig,
    /// Boxed: a flow is large, and the map moves its values when it grows.
    flows: HashMap<FlowKey, Box<Flow>, foldhash::fast::RandomState>,
    /// (deadline, flow id, key); an entry is stale when its flow is gone or has moved on.
    deadlines: BinaryHeap<Reverse<(Timestamp, u64, FlowKey)>>,
    next_id: u64,
    /// Flows evicted because the table was full.
    pub evicted: u64,
}

impl FlowTable {
    pub fn new(config: FlowConfig) -> FlowTable {
        FlowTable {
            config,
            flows: HashMap::default(),
            deadlines: BinaryHeap::new(),
            next_id: 1,
            evicted: 0,
        }
    }

    /// The live flow between two endpoints, if any.
    pub fn flow(&self, a: SocketAddr, b: SocketAddr) -> Option<&Flow> {
        let key = if a <= b { FlowKey(a, b) } else { FlowKey(b, a) };
        self.flows.get(&key).map(|flow| &**flow)
    }

    /// How many flows are live.
    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// Feeds one segment; flows that finished on the way are appended to `done`.
    pub fn observe(&mut self, segment: &Segment, at: FrameRef, done: &mut Vec<Flow>) -> Observed {
        self.expire(at.ts, done);
        let key = FlowKey::of(segment);
        // The common case, one lookup: a segment of a live flow.
        if let Some(flow) = self.flows.get_mut(&key)
            && !flow.is_reused_by(segment)
        {
            return feed(flow, key, segment, at, &self.config, &mut self.deadlines);
        }
        if self.flows.contains_key(&key) {
            self.finish(key, FlowEnd::Reused, done);
        }
        if self.flows.len() >= self.config.max_flows {
            self.evict_one(done);
        }
        let flip = sender_is_server(segment.flags, segment.src.port(), segment.dst.port());
        let flow = Box::new(Flow::new(self.next_id, segment, at, flip));
        self.next_id += 1;
        let flow = self.flows.entry(key).insert_entry(flow).into_mut();
        feed(flow, key, segment, at, &self.config, &mut self.deadlines)
    }

    /// Finishes every flow whose deadline is at or before `now`.
    pub fn expire(&mut self, now: Timestamp, done: &mut Vec<Flow>) {
        while let Some(Reverse((when, id, key))) = self.deadlines.peek().copied() {
            if when > now {
                break;
            }
            self.deadlines.pop();
            let Some(flow) = self.flows.get(&key) else {
                continue;
            };
            if flow.id != id {
                continue;
            }
            let deadline = flow.deadline(self.config.idle_timeout);
            if deadline <= now {
                let end = flow.end_reason(self.config.idle_timeout);
                self.finish(key, end, done);
            } else {
                self.deadlines.push(Reverse((deadline, id, key)));
            }
        }
    }

    /// Finishes every live flow (the input ended), oldest first.
    pub fn finish_all(&mut self, each: &mut dyn FnMut(Flow)) {
        // One flow out of the table at a time, oldest first: a table of a million flows is
        // not copied whole on the way out.
        let mut order: Vec<(u64, FlowKey)> = self
            .flows
            .iter()
            .map(|(key, flow)| (flow.id, *key))
            .collect();
        order.sort_unstable();
        for (_, key) in order {
            if let Some(mut flow) = self.flows.remove(&key) {
                flow.end = FlowEnd::EndOfInput;
                each(*flow);
            }
        }
        self.flows = HashMap::default();
        self.deadlines = BinaryHeap::new();
    }

    /// The live flows, in no particular order.
    pub fn live(&self) -> impl Iterator<Item = &Flow> {
        self.flows.values().map(|flow| &**flow)
    }

    fn finish(&mut self, key: FlowKey, end: FlowEnd, done: &mut Vec<Flow>) {
        if let Some(mut flow) = self.flows.remove(&key) {
            flow.end = end;
            done.push(*flow);
        }
    }

    /// Makes room by finishing the live flow with the nearest deadline.
    fn evict_one(&mut self, done: &mut Vec<Flow>) {
        while let Some(Reverse((_, id, key))) = self.deadlines.pop() {
            if self.flows.get(&key).is_some_and(|flow| flow.id == id) {
                self.finish(key, FlowEnd::Evicted, done);
                self.evicted += 1;
                return;
            }
        }
    }
}
