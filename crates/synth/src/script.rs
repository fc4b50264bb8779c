//! The ordinary life of a connection, phase by phase: the opening (handshake, or an attempt
//! that never opens), request/response exchanges, bulk transfers in rounds with ACKs coming
//! back, and FIN closes in both orders. `resets` writes the endings that reset.
//!
//! Each phase plans its packets at capture-point times: a client's reaction shows after the
//! client's round trip, a server's after the server's. When phases happen, pauses included,
//! is `pace`'s business.

use super::flow::{Dir, Flow, Sender, Stage};
use super::frame::{ACK, FIN, PSH, RST, SYN};
use super::mix::{Body, Kind, request_len, response_len};
use super::pace::Pace;
use super::rng::Rng;

/// A millisecond and a second, in ns.
pub(super) const MS: u64 = 1_000_000;
pub(super) const SECOND: u64 = 1_000_000_000;

impl Flow {
    /// Clears the phase and plans the next one at `start`; false if it sends nothing.
    pub(super) fn plan(&mut self, rng: &mut Rng, pace: &Pace, start: u64) -> bool {
        self.pending.clear();
        self.cursor = 0;
        self.natural_next = start;
        self.pause_next = false;
        self.plan_stage(rng, pace, start);
        self.pending.sort_by_key(|pkt| pkt.at);
        !self.pending.is_empty()
    }

    /// Plans what the stage calls for, after whatever is already planned.
    pub(super) fn plan_stage(&mut self, rng: &mut Rng, pace: &Pace, start: u64) {
        match self.stage {
            Stage::Open => self.open(rng, pace, start),
            Stage::Exchanges { left } => self.exchange(rng, pace, start, left),
            Stage::Bulk { .. } => self.bulk(rng, pace, start),
            Stage::End => {
                self.end(rng, pace, start);
                self.stage = Stage::Done;
            }
            Stage::Done => {}
        }
    }

    /// `d` plus up to an eighth more: queueing on the way.
    pub(super) fn jitter(rng: &mut Rng, d: u64) -> u64 {
        d + rng.below(d / 8 + 1)
    }

    /// Plans a copy of the last planned packet at `at` (a retransmission).
    pub(super) fn repeat_last(&mut self, at: u64) {
        if let Some(last) = self.pending.last().copied() {
            self.pending.push(super::flow::Pkt { at, ..last });
        }
    }

    /// The time of the last planned packet from `who`.
    pub(super) fn last_from(&self, who: Sender) -> Option<u64> {
        self.pending
            .iter()
            .filter(|pkt| pkt.from == who)
            .map(|pkt| pkt.at)
            .max()
    }

    /// The opening; a connection that opens goes straight on to its first exchange or
    /// transfer (a client connects to send something), in the same phase.
    fn open(&mut self, rng: &mut Rng, pace: &Pace, t: u64) {
        self.stage = Stage::Done;
        match self.kind {
            Kind::Refused => self.refused(rng, t),
            Kind::FirewallReject => self.firewall_reject(rng, t),
            Kind::Unanswered => self.unanswered(rng, t),
            Kind::HealthCheck => self.health_check(rng, t),
            _ => {
                let ack = self.handshake(rng, t);
                self.natural_next = ack + rng.spread(20_000, 3 * MS);
                self.stage = match self.body {
                    Body::Interactive { exchanges: 0 } => Stage::End,
                    Body::Interactive { exchanges } => Stage::Exchanges { left: exchanges },
                    Body::Download { .. } => Stage::Exchanges { left: 1 },
                    Body::Upload { bytes } => Stage::Bulk {
                        dir: Dir::Up,
                        left: bytes,
                        cwnd: 10,
                        burst: rng.between(2, 8) as u16,
                        then: 0,
                    },
                };
                if self.stage != Stage::End {
                    self.plan_stage(rng, pace, self.natural_next);
                }
            }
        }
    }

    /// SYN, SYN-ACK, ACK (the SYN now and then sent twice); returns the ACK's time.
    pub(super) fn handshake(&mut self, rng: &mut Rng, t: u64) -> u64 {
        self.push(t, Sender::Client, SYN, 0);
        let mut syn_at = t;
        if rng.chance(0.01) {
            // Lost beyond the capture point: sent again after the initial RTO (RFC 6298).
            syn_at = t + SECOND + rng.below(MS);
            self.repeat_last(syn_at);
        }
        self.caught_up(Sender::Server);
        let syn_ack = syn_at + Flow::jitter(rng, self.rtt_s);
        self.push(syn_ack, Sender::Server, SYN | ACK, 0);
        self.caught_up(Sender::Client);
        let ack = syn_ack + Flow::jitter(rng, self.rtt_c);
        self.push(ack, Sender::Client, ACK, 0);
        ack
    }

    /// A SYN to a closed port: the server host's stack resets it (RFC 9293 §3.10.7.1).
    fn refused(&mut self, rng: &mut Rng, t: u64) {
        self.push(t, Sender::Client, SYN, 0);
        self.caught_up(Sender::Server);
        let at = t + Flow::jitter(rng, self.rtt_s);
        self.push_raw(at, Sender::ServerStack, RST | ACK, 0, self.s.rcv, 0);
    }

    /// A SYN that a firewall nearer than the server rejects in the server's name.
    fn firewall_reject(&mut self, rng: &mut Rng, t: u64) {
        self.push(t, Sender::Client, SYN, 0);
        let at = t + Flow::jitter(rng, self.firewall.rtt_ns) + rng.spread(5_000, 200_000);
        self.push_raw(at, Sender::Device, RST | ACK, 0, self.c.nxt, 0);
        self.with_ttl(self.firewall.ttl);
    }

    /// SYNs that nothing answers, retransmitted with exponential backoff (RFC 6298).
    fn unanswered(&mut self, rng: &mut Rng, t: u64) {
        self.push(t, Sender::Client, SYN, 0);
        let tries = rng.between(1, 3);
        for backoff in [1, 3, 7].into_iter().take(tries as usize) {
            self.repeat_last(t + backoff * SECOND + rng.below(MS));
        }
    }

    /// A probe: connect, then reset without data; or a scanner's half-open SYN, whose
    /// SYN-ACK the client's stack resets.
    fn health_check(&mut self, rng: &mut Rng, t: u64) {
        if rng.chance(0.6) {
            let ack = self.handshake(rng, t);
            self.push(
                ack + rng.spread(20_000, 2 * MS),
                Sender::Client,
                RST | ACK,
                0,
            );
            return;
        }
        self.push(t, Sender::Client, SYN, 0);
        self.caught_up(Sender::Server);
        let syn_ack = t + Flow::jitter(rng, self.rtt_s);
        self.push(syn_ack, Sender::Server, SYN | ACK, 0);
        let at = syn_ack + Flow::jitter(rng, self.rtt_c);
        self.push_raw(at, Sender::ClientStack, RST, self.c.nxt, 0, 0);
    }

    /// The client sends a request at `t` in segments of at most one MSS, PSH on the last (now
    /// and then sent twice, after a retransmission timeout, when `may_repeat`); returns when
    /// its last copy went out. The server then has all of it.
    pub(super) fn request(&mut self, rng: &mut Rng, t: u64, may_repeat: bool) -> u64 {
        let mut left = request_len(rng);
        let mut at = t;
        loop {
            let len = left.min(u64::from(self.mss));
            left -= len;
            let push = if left == 0 { PSH } else { 0 };
            self.push(at, Sender::Client, ACK | push, len);
            if left == 0 {
                break;
            }
            at += Flow::jitter(rng, self.gap_ns);
        }
        if may_repeat && rng.chance(0.01) {
            at += (200 * MS).max(3 * self.rtt_s) + rng.below(MS);
            self.repeat_last(at);
        }
        self.caught_up(Sender::Server);
        at
    }

    /// One request and the first round of its response; a long response goes on in bulk.
    fn exchange(&mut self, rng: &mut Rng, pace: &Pace, t: u64, left: u16) {
        let sent = self.request(rng, t, true);
        let respond = sent + Flow::jitter(rng, self.rtt_s) + rng.spread(30_000, 30 * MS);
        let bytes = match std::mem::replace(&mut self.body, Body::Interactive { exchanges: 0 }) {
            Body::Download { bytes } => bytes,
            _ => response_len(rng),
        };
        let bytes = if pace.full_size {
            bytes.div_ceil(u64::from(self.mss)) * u64::from(self.mss)
        } else {
            bytes
        };
        let rest = bytes - self.round(rng, pace, Dir::Down, respond, bytes, 10);
        self.maybe_retransmit(rng, Dir::Down);
        let then = left.saturating_sub(1);
        if rest > 0 {
            self.stage = Stage::Bulk {
                dir: Dir::Down,
                left: rest,
                cwnd: 20,
                burst: rng.between(2, 8) as u16,
                then,
            };
            // The rest streams in bursts, each after a pause (a paced, streamed response).
            self.pause_next = true;
        } else {
            self.stage = after_exchanges(then);
            self.pause_next = true;
        }
    }

    /// One round of a bulk transfer; the application pauses after a burst of rounds.
    fn bulk(&mut self, rng: &mut Rng, pace: &Pace, t: u64) {
        let Stage::Bulk {
            dir,
            left,
            cwnd,
            burst,
            then,
        } = self.stage
        else {
            return;
        };
        let left = left - self.round(rng, pace, dir, t, left, cwnd);
        self.maybe_retransmit(rng, dir);
        let receiver = self.side_mut(dir.receiver());
        // Receive-window autotuning: the receiver opens its window as the transfer goes on.
        receiver.wnd = receiver.wnd.saturating_add(receiver.wnd / 8);
        let cwnd = (cwnd * 2).min(pace.max_cwnd);
        self.stage = if left == 0 {
            self.pause_next = true;
            after_exchanges(then)
        } else if burst <= 1 {
            self.pause_next = true;
            let burst = rng.between(2, 8) as u16;
            Stage::Bulk {
                dir,
                left,
                cwnd,
                burst,
                then,
            }
        } else {
            let burst = burst - 1;
            Stage::Bulk {
                dir,
                left,
                cwnd,
                burst,
                then,
            }
        };
    }

    /// Up to `cwnd` segments of the `left` bytes in `dir` from `start`, the receiver ACKing
    /// every `ack_every` and the last (delayed, for an odd one); returns the bytes sent. The
    /// sender goes on once the first ACK is back.
    pub(super) fn round(
        &mut self,
        rng: &mut Rng,
        pace: &Pace,
        dir: Dir,
        start: u64,
        left: u64,
        cwnd: u16,
    ) -> u64 {
        let (sender, receiver) = (dir.sender(), dir.receiver());
        let back = self.rtt(receiver);
        let mss = u64::from(self.mss);
        let every = u64::from(pace.ack_every.max(1));
        let (mut t, mut sent, mut first_ack) = (start, 0, None);
        for i in 1..=u64::from(cwnd.max(1)) {
            let len = (left - sent).min(mss);
            sent += len;
            let last = sent >= left || i == u64::from(cwnd);
            self.push(t, sender, if last { ACK | PSH } else { ACK }, len);
            self.caught_up(receiver);
            if i % every == 0 || last {
                let delayed = if i % every == 0 {
                    0
                } else {
                    rng.below(40 * MS)
                };
                let at = t + Flow::jitter(rng, back) + delayed;
                self.push(at, receiver, ACK, 0);
                first_ack.get_or_insert(at);
            }
            if last {
                break;
            }
            t += Flow::jitter(rng, self.gap_ns);
        }
        self.natural_next = first_ack.unwrap_or(t) + self.rtt(sender);
        sent
    }

    /// Now and then, after a round, the sender's loss probe resends its last segment though
    /// the ACK came (it was lost beyond the capture point); the receiver answers with a
    /// duplicate ACK.
    fn maybe_retransmit(&mut self, rng: &mut Rng, dir: Dir) {
        if !rng.chance(0.02) {
            return;
        }
        let (sender, receiver) = (dir.sender(), dir.receiver());
        let Some(last) = self
            .pending
            .iter()
            .rev()
            .find(|pkt| pkt.from == sender && pkt.len > 0)
            .copied()
        else {
            return;
        };
        let latest = self
            .pending
            .iter()
            .map(|pkt| pkt.at)
            .max()
            .unwrap_or(last.at);
        let at = latest + 2 * self.rtt(sender) + rng.below(MS);
        self.pending.push(super::flow::Pkt { at, ..last });
        let dup_ack = at + Flow::jitter(rng, self.rtt(receiver));
        self.push(dup_ack, receiver, ACK, 0);
        self.natural_next = self.natural_next.max(dup_ack);
    }

    /// The scripted end.
    fn end(&mut self, rng: &mut Rng, pace: &Pace, t: u64) {
        match self.kind {
            Kind::FinByServer => self.fin_by_server(rng, t),
            Kind::PeerAbort => self.peer_abort(rng, pace, t),
            Kind::LocalAbort => self.local_abort(rng, t),
            Kind::ResetAfterFin => self.reset_after_fin(rng, t),
            Kind::IdleReset => self.idle_reset(rng, t),
            Kind::InjectedReset => self.injected_reset(rng, t),
            Kind::InPathReject => self.in_path_reject(rng, t),
            Kind::StaleConnection => self.stale_connection(rng, t),
            _ => self.fin_by_client(rng, t),
        }
    }

    /// Client FIN; the server ACKs (at once, or with its own FIN), FINs; the client ACKs.
    pub(super) fn fin_by_client(&mut self, rng: &mut Rng, t: u64) {
        self.push(t, Sender::Client, FIN | ACK, 0);
        self.caught_up(Sender::Server);
        let mut at = t + Flow::jitter(rng, self.rtt_s);
        if rng.chance(0.3) {
            self.push(at, Sender::Server, ACK, 0);
            at += rng.spread(50_000, 20 * MS);
        }
        self.push(at, Sender::Server, FIN | ACK, 0);
        self.caught_up(Sender::Client);
        self.push(at + Flow::jitter(rng, self.rtt_c), Sender::Client, ACK, 0);
    }

    /// Server FIN (a keep-alive timeout); the client ACKs, closes in turn; the server ACKs.
    fn fin_by_server(&mut self, rng: &mut Rng, t: u64) {
        self.push(t, Sender::Server, FIN | ACK, 0);
        self.caught_up(Sender::Client);
        let mut at = t + Flow::jitter(rng, self.rtt_c);
        if rng.chance(0.5) {
            self.push(at, Sender::Client, ACK, 0);
            at += rng.spread(20_000, 5 * MS);
        }
        self.push(at, Sender::Client, FIN | ACK, 0);
        self.caught_up(Sender::Server);
        self.push(at + Flow::jitter(rng, self.rtt_s), Sender::Server, ACK, 0);
    }
}

/// The stage after an exchange or a transfer, with `left` exchanges to go.
fn after_exchanges(left: u16) -> Stage {
    if left == 0 {
        Stage::End
    } else {
        Stage::Exchanges { left }
    }
}
