//! When a connection's phases happen: the pauses an application takes between them, drawn so
//! that each connection sends one packet per `Pace::per_packet_ns` on average. With
//! `concurrent` connections open, that keeps the whole trace at its packet rate.
//!
//! A pause is paid before the phase (or bulk burst) it precedes, for the packets it is about
//! to send; a phase that follows without a pause (the exchange right after a handshake)
//! is owed and paid with the next pause. Paying ahead, not after, keeps the rate right from
//! the trace's first packet. The connections open when the trace starts are caught at a
//! random point of their lives, as a snapshot of a busy link finds them.

use super::flow::{Dir, Flow, Stage};
use super::mix::{Body, Kind};
use super::rng::Rng;
use super::script::SECOND;

/// How the trace is paced and shaped.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pace {
    /// Mean time per packet of one connection, pauses included (open slots / rate).
    pub per_packet_ns: f64,
    /// Every data segment full-size.
    pub full_size: bool,
    /// The receiver ACKs every this many segments.
    pub ack_every: u16,
    pub max_cwnd: u16,
}

impl Flow {
    /// Plans the connection's first phase at `start`, put off by the pause it earns, with
    /// `debt` (packets its slot's previous connection left unpaid); false if it sends nothing.
    pub(crate) fn start(&mut self, rng: &mut Rng, pace: &Pace, start: u64, debt: u64) -> bool {
        self.debt = debt;
        self.plan_paid(rng, pace, start, start, u64::MAX)
    }

    /// Plans the first phase of a connection already open when the capture began: its
    /// handshake (if it opens) went before, so the first phase seen is the one after it, put
    /// off by a pause as any other, so that the open connections resume at the trace's packet
    /// rate from its first packet on.
    pub(crate) fn start_established(&mut self, rng: &mut Rng, pace: &Pace) -> bool {
        let body = self.body;
        if !self.plan(rng, pace, 0) {
            return false;
        }
        if self.stage != Stage::Done {
            self.stage = midway(rng, pace, body);
            return self.plan_paid(rng, pace, 0, 0, u64::MAX);
        }
        // An attempt that never opens: all of it is the first phase.
        let packets = self.pending.len() as u64;
        self.pay(rng, pace, 0, u64::MAX, packets);
        true
    }

    /// About how many packets the connection sends in its life.
    pub(crate) fn expected_packets(&self) -> u64 {
        let segments = |bytes: u64| bytes / u64::from(self.mss);
        match (self.kind.is_attempt(), self.body) {
            (true, _) => 3,
            (_, Body::Interactive { exchanges }) => 8 + 12 * u64::from(exchanges),
            (_, Body::Download { bytes } | Body::Upload { bytes }) => 8 + segments(bytes) * 3 / 2,
        }
    }

    /// Plans the next phase once the current one has gone out (its last packet at `last`);
    /// false when the connection is over.
    pub(crate) fn advance(&mut self, rng: &mut Rng, pace: &Pace, last: u64) -> bool {
        let (pause, ending) = (self.pause_next, self.stage == Stage::End);
        let mut start = self.natural_next.max(last);
        if ending && self.kind == Kind::IdleReset {
            // Silent for long, and for many round trips (rstscope's idle test).
            let quiet = (3 * SECOND).max(60 * self.rtt_s);
            start = start.max(last + quiet + rng.exp(5.0 * SECOND as f64) as u64);
        }
        if pause {
            // Not idle: these resets must read as rejections of live traffic.
            let live = ending && matches!(self.kind, Kind::InPathReject | Kind::InjectedReset);
            return self.plan_paid(rng, pace, start, last, if live { SECOND } else { u64::MAX });
        }
        if !self.plan(rng, pace, start) {
            return false;
        }
        // A phase that follows without a pause was paid for with its burst, or is owed.
        let packets = self.pending.len() as u64;
        let covered = packets.min(self.prepaid);
        self.prepaid -= covered;
        self.debt += packets - covered;
        true
    }

    /// Plans a phase at `start` and puts it off by the pause the application takes before
    /// it (see `pay`); a bulk burst pays for all its rounds with its first.
    fn plan_paid(
        &mut self,
        rng: &mut Rng,
        pace: &Pace,
        start: u64,
        last: u64,
        max_delay: u64,
    ) -> bool {
        let burst = self.burst_estimate(pace);
        if !self.plan(rng, pace, start) {
            return false;
        }
        let packets = burst.max(self.pending.len() as u64);
        self.pay(rng, pace, last, max_delay, packets);
        true
    }

    /// About how many packets the bulk burst about to start sends: its rounds' segments as
    /// the window grows, and their ACKs. 0 when no burst starts.
    fn burst_estimate(&self, pace: &Pace) -> u64 {
        let Stage::Bulk {
            left, cwnd, burst, ..
        } = self.stage
        else {
            return 0;
        };
        let mut segments = left.div_ceil(u64::from(self.mss));
        let (mut cwnd, mut packets) = (u64::from(cwnd), 0);
        for _ in 0..burst {
            let round = cwnd.min(segments);
            packets += round + round.div_ceil(u64::from(pace.ack_every.max(1)));
            segments -= round;
            cwnd = (cwnd * 2).min(u64::from(pace.max_cwnd));
        }
        packets
    }

    /// Puts the planned phase off by the pause the application takes before it: drawn so
    /// that the connection sends one packet per `per_packet_ns` on average, for the `packets`
    /// it is about to send and those it owes, counted from `last`, and at most `max_delay`
    /// late. Paying before a burst, not after, keeps the rate right from the trace's start.
    fn pay(&mut self, rng: &mut Rng, pace: &Pace, last: u64, max_delay: u64, packets: u64) {
        let owed = (self.debt + packets).saturating_sub(self.prepaid);
        let pause = rng.exp(owed as f64 * pace.per_packet_ns) as u64;
        let natural = self.pending.first().map_or(last, |pkt| pkt.at);
        let at = (last + pause)
            .max(natural)
            .min(natural.saturating_add(max_delay));
        let by = at - natural;
        for pkt in &mut self.pending {
            pkt.at += by;
        }
        self.natural_next += by;
        self.debt = 0;
        self.prepaid = packets.saturating_sub(self.pending.len() as u64);
    }
}

/// Where a connection open when the capture begins is: at a random point of its body.
fn midway(rng: &mut Rng, pace: &Pace, body: Body) -> Stage {
    let bulk = |rng: &mut Rng, dir, bytes| Stage::Bulk {
        dir,
        left: rng.between(1, bytes),
        cwnd: pace.max_cwnd,
        burst: rng.between(1, 8) as u16,
        then: 0,
    };
    match body {
        Body::Interactive { exchanges: 0 } => Stage::End,
        Body::Interactive { exchanges } => Stage::Exchanges {
            left: rng.between(1, u64::from(exchanges)) as u16,
        },
        Body::Download { bytes } => bulk(rng, Dir::Down, bytes),
        Body::Upload { bytes } => bulk(rng, Dir::Up, bytes),
    }
}
