//! Captured RSTs joined with the kernel's reset events.
//!
//! Events carry no network namespace and the capture carries no socket, so the two are joined
//! by what both have: the RST's addresses and ports, and its time. An event is this RST's when
//! it fired within `WINDOW` of the packet (they are tens of microseconds apart) for the same
//! 4-tuple, and only this host's addresses count: the sender of a `tcp_send_reset` must be one
//! of them, the receiver of a `tcp_receive_reset` too (another namespace of the same kernel is
//! another host). Where two RSTs and a different number of events could pair either way, the
//! match is ambiguous and none is made. A RST is settled once the pipes were read `SETTLE`
//! after it; events are kept until the capture has read past them.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};

use super::events::{ResetEvent, ResetEventKind};
use super::meaning::KernelScenario;
use super::note::{KernelNote, Process, ReceivedNote, SentNote};

/// How far apart in time an event and its packet may be (clocks related through
/// CLOCK_MONOTONIC and CLOCK_REALTIME, read microseconds apart).
pub const WINDOW_NS: i64 = 5_000_000;
/// A lone RST of its 4-tuple is joined to the one event of that tuple this near, when no
/// other RST or event of the tuple is near either: a unique 4-tuple within this time is the
/// same reset, whatever jitter moved the two clocks' readings apart.
pub const LONE_WINDOW_NS: i64 = 50_000_000;
/// How long after a RST's capture time the pipes must have been read before it is settled.
pub const SETTLE_NS: i64 = 60_000_000;
/// How long an event is kept after the capture has read past its time.
const KEEP_NS: i64 = 2_000_000_000;
/// Events held at most (a storm the capture reads slowly): beyond it the oldest go, and the
/// join counts them as lost.
const MAX_HELD: usize = 1 << 18;

/// One event waiting for its packet.
#[derive(Debug, Clone)]
struct Held {
    real_ns: i64,
    event: ResetEvent,
    process: Option<Process>,
    used: bool,
}

/// A captured RST waiting for the events around it to be read.
#[derive(Debug, Clone, Copy)]
struct Queued {
    frame: u64,
    ts_ns: i64,
    src: SocketAddr,
    dst: SocketAddr,
}

/// The join's counters, for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JoinStats {
    pub events_read: u64,
    pub sent_matched: u64,
    pub received_matched: u64,
    /// Events dropped because too many waited for their packets.
    pub events_overflowed: u64,
    /// RSTs with this host's address and no event, called the host firewall's.
    pub not_sent_by_stack: u64,
    /// RSTs two or more events could belong to.
    pub ambiguous: u64,
}

pub struct Joiner {
    own: Vec<IpAddr>,
    /// Unmatched events by the RST's (source, destination) as a capture shows it.
    held: HashMap<(SocketAddr, SocketAddr), Vec<Held>>,
    order: VecDeque<(i64, (SocketAddr, SocketAddr))>,
    queued: VecDeque<Queued>,
    notes: HashMap<u64, KernelNote>,
    /// RSTs given a note since `take_settled`.
    settled: Vec<Queued>,
    /// False once the kernel (or the join) lost an event: a RST without one then proves
    /// nothing.
    lossless: bool,
    /// True when the kernel has `tcp_send_reset`: its silence about a RST means something.
    sends_traced: bool,
    pub stats: JoinStats,
}

impl Joiner {
    pub fn new(own: Vec<IpAddr>, sends_traced: bool) -> Joiner {
        Joiner {
            own,
            held: HashMap::new(),
            order: VecDeque::new(),
            queued: VecDeque::new(),
            notes: HashMap::new(),
            settled: Vec::new(),
            lossless: true,
            sends_traced,
            stats: JoinStats::default(),
        }
    }

    /// The kernel lost events (its per-CPU counters grew): from now on a RST without an
    /// event is not taken as proof of anything.
    pub fn events_lost(&mut self) {
        self.lossless = false;
    }

    pub fn is_lossless(&self) -> bool {
        self.lossless
    }

    /// One event read from the pipes, its time on the capture's clock, and its process when
    /// the event fired inside the owner's system call.
    pub fn event(&mut self, event: ResetEvent, real_ns: i64, process: Option<Process>) {
        self.stats.events_read += 1;
        let key = match event.kind {
            ResetEventKind::Sent => (event.local, event.remote),
            ResetEventKind::Received => (event.remote, event.local),
        };
        if !self.own.contains(&event.local.ip()) {
            return;
        }
        self.held.entry(key).or_default().push(Held {
            real_ns,
            event,
            process,
            used: false,
        });
        self.order.push_back((real_ns, key));
        while self.order.len() > MAX_HELD {
            if let Some((ts, key)) = self.order.pop_front() {
                self.forget(key, ts + 1);
                self.stats.events_overflowed += 1;
                self.lossless = false;
            }
        }
    }

    /// A RST the capture saw: joined once `settle` finds the pipes read after it.
    pub fn reset(&mut self, frame: u64, ts_ns: i64, src: SocketAddr, dst: SocketAddr) {
        if self.own.contains(&src.ip()) || self.own.contains(&dst.ip()) {
            self.queued.push_back(Queued {
                frame,
                ts_ns,
                src,
                dst,
            });
        }
    }

    /// Joins the RSTs captured at least `SETTLE_NS` before `drained_ns` (the pipes' last
    /// read, on the capture's clock); then forgets events the capture, now at `capture_ns`,
    /// has read past. `drained_ns` None settles every queued RST (the capture ended).
    pub fn settle(&mut self, drained_ns: Option<i64>, capture_ns: i64) {
        let mut batch = Vec::new();
        while let Some(queued) = self.queued.front() {
            if drained_ns.is_some_and(|at| queued.ts_ns + SETTLE_NS > at) {
                break;
            }
            batch.extend(self.queued.pop_front());
        }
        // RSTs of one 4-tuple close in time are joined together (a volley of answers).
        let mut by_tuple: HashMap<(SocketAddr, SocketAddr), Vec<Queued>> = HashMap::new();
        for reset in batch {
            by_tuple
                .entry((reset.src, reset.dst))
                .or_default()
                .push(reset);
        }
        for (_, mut resets) in by_tuple {
            resets.sort_by_key(|r| r.ts_ns);
            let mut start = 0;
            for end in 1..=resets.len() {
                let split = end == resets.len()
                    || resets[end].ts_ns - resets[end - 1].ts_ns > 2 * WINDOW_NS;
                if split {
                    let cluster = &resets[start..end];
                    let times: Vec<i64> = resets.iter().map(|r| r.ts_ns).collect();
                    for (reset, note) in cluster.iter().zip(self.join(cluster, &times)) {
                        if !note.is_empty() {
                            self.notes.insert(reset.frame, note);
                            self.settled.push(*reset);
                        }
                    }
                    start = end;
                }
            }
        }
        let oldest = self
            .queued
            .front()
            .map_or(capture_ns, |q| q.ts_ns.min(capture_ns));
        let cutoff = oldest - KEEP_NS;
        while let Some(&(ts, key)) = self.order.front() {
            if ts >= cutoff {
                break;
            }
            self.order.pop_front();
            self.forget(key, cutoff);
        }
    }

    fn forget(&mut self, key: (SocketAddr, SocketAddr), before_ns: i64) {
        if let Some(held) = self.held.get_mut(&key) {
            held.retain(|h| h.real_ns >= before_ns);
            if held.is_empty() {
                self.held.remove(&key);
            }
        }
    }

    /// The notes of a cluster of RSTs of one 4-tuple, in time order: one event for one RST,
    /// or as many events as RSTs paired in time order; anything else is ambiguous.
    ///
    /// `times`: every RST of the tuple being settled, for the lone-RST rule.
    fn join(&mut self, cluster: &[Queued], times: &[i64]) -> Vec<KernelNote> {
        let mut notes = vec![KernelNote::default(); cluster.len()];
        let (Some(first), Some(last)) = (cluster.first(), cluster.last()) else {
            return notes;
        };
        let own_src = self.own.contains(&first.src.ip());
        let own_dst = self.own.contains(&first.dst.ip());
        let silence_proves = own_src && self.sends_traced && self.lossless;
        let Some(held) = self.held.get_mut(&(first.src, first.dst)) else {
            if silence_proves {
                for note in &mut notes {
                    note.not_sent_by_stack = true;
                }
                self.stats.not_sent_by_stack += cluster.len() as u64;
            }
            return notes;
        };
        held.sort_by_key(|h| h.real_ns);
        let span = (first.ts_ns - WINDOW_NS)..=(last.ts_ns + WINDOW_NS);
        for (kind, wanted) in [
            (ResetEventKind::Sent, own_src),
            (ResetEventKind::Received, own_dst),
        ] {
            if !wanted {
                continue;
            }
            let near =
                |h: &Held, ts: i64| h.event.kind == kind && (h.real_ns - ts).abs() <= WINDOW_NS;
            let free: Vec<usize> = (0..held.len())
                .filter(|&i| {
                    let h = &held[i];
                    !h.used && h.event.kind == kind && span.contains(&h.real_ns)
                })
                .collect();
            let lone = |h: &Held, ts: i64| {
                h.event.kind == kind && (h.real_ns - ts).abs() <= LONE_WINDOW_NS
            };
            let pairs: Vec<Option<usize>> = if free.is_empty() && cluster.len() == 1 {
                // Nothing within WINDOW_NS: the one event of the tuple a little farther, if
                // the RST and the event are each alone in that time.
                let ts = first.ts_ns;
                let candidates: Vec<usize> =
                    (0..held.len()).filter(|&i| lone(&held[i], ts)).collect();
                let rivals = times
                    .iter()
                    .filter(|&&t| (t - ts).abs() <= LONE_WINDOW_NS)
                    .count()
                    > 1
                    || self.queued.iter().any(|q| {
                        q.src == first.src
                            && q.dst == first.dst
                            && (q.ts_ns - ts).abs() <= LONE_WINDOW_NS
                    });
                match candidates.as_slice() {
                    [i] if !rivals && !held[*i].used => vec![Some(*i)],
                    _ => vec![None],
                }
            } else if free.len() == cluster.len() {
                cluster
                    .iter()
                    .zip(&free)
                    .map(|(reset, &i)| near(&held[i], reset.ts_ns).then_some(i))
                    .collect()
            } else {
                if !free.is_empty() {
                    self.stats.ambiguous += cluster.len() as u64;
                }
                vec![None; cluster.len()]
            };
            for ((reset, note), chosen) in cluster.iter().zip(&mut notes).zip(pairs) {
                let Some(i) = chosen else {
                    if kind == ResetEventKind::Sent
                        && free.is_empty()
                        && silence_proves
                        && !held.iter().any(|h| lone(h, reset.ts_ns))
                    {
                        note.not_sent_by_stack = true;
                        self.stats.not_sent_by_stack += 1;
                    }
                    continue;
                };
                let h = &mut held[i];
                h.used = true;
                let delay_us = (reset.ts_ns - h.real_ns) / 1000;
                if kind == ResetEventKind::Sent {
                    self.stats.sent_matched += 1;
                    let owner_ran = h.event.in_process_context
                        && h.event
                            .reason
                            .as_deref()
                            .is_some_and(|r| KernelScenario::of_reason(r).fires_in_owner());
                    note.sent = Some(SentNote {
                        reason: h.event.reason.clone(),
                        state: h.event.state.clone(),
                        process: h.process.clone().filter(|_| owner_ran),
                        owner: None,
                        delay_us,
                    });
                } else {
                    self.stats.received_matched += 1;
                    note.received = Some(ReceivedNote {
                        state: h.event.state.clone(),
                        socket_cookie: h.event.sock_cookie,
                        owner: None,
                        delay_us,
                    });
                }
            }
        }
        notes
    }

    /// The RSTs given a note since the last call, as (frame, time, source, destination),
    /// with their notes to add to (a socket's owner).
    pub fn take_settled(&mut self) -> Vec<(u64, i64, SocketAddr, SocketAddr)> {
        std::mem::take(&mut self.settled)
            .into_iter()
            .map(|q| (q.frame, q.ts_ns, q.src, q.dst))
            .collect()
    }

    pub fn note_mut(&mut self, frame: u64) -> Option<&mut KernelNote> {
        self.notes.get_mut(&frame)
    }

    /// What the kernel said of the RST at `frame`, once settled.
    pub fn note(&self, frame: u64) -> Option<&KernelNote> {
        self.notes.get(&frame)
    }

    /// Takes the note of `frame` (its flow is being reported).
    pub fn take(&mut self, frame: u64) -> Option<KernelNote> {
        self.notes.remove(&frame)
    }

    /// True while RSTs wait to be settled.
    pub fn has_queued(&self) -> bool {
        !self.queued.is_empty()
    }

    /// True when `frame` is queued, not yet settled. RSTs are queued in capture order, so
    /// their frame numbers ascend: a binary search, as this is asked for every finished flow.
    pub fn is_queued(&self, frame: u64) -> bool {
        self.queued
            .binary_search_by_key(&frame, |q| q.frame)
            .is_ok()
    }
}
