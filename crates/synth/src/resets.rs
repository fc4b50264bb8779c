//! The endings that reset, one per kind of reset rstscope attributes: who sends the RST, with
//! which TTL, IP ID and sequence number, and what the capture shows after it.
//!
//! The hosts reset as RFC 9293 §3.10.7 says a stack does (at SND.NXT, or at the ACK of the
//! segment answered when there is no connection); devices on the path reset in the server's
//! name from nearer (a lower hop count); forgers beside the path pick their own TTL and race
//! the real server, which keeps sending.

use super::flow::{Dir, Flow, Sender};
use super::frame::{ACK, FIN, PSH, RST};
use super::pace::Pace;
use super::rng::Rng;
use super::script::MS;

/// The most segments a server sends after a forged reset before the client's RST stops it
/// (its window).
const MAX_AFTER_FORGED: u32 = 40;

impl Flow {
    /// The client asks; the server answers a few segments (or none), then its application
    /// aborts: RST at its SND.NXT, with its TTL and the next IP ID of its counter.
    pub(super) fn peer_abort(&mut self, rng: &mut Rng, pace: &Pace, t: u64) {
        let sent = self.request(rng, t, true);
        let respond = sent + Flow::jitter(rng, self.rtt_s) + rng.spread(100_000, 50 * MS);
        let segments = rng.below(7);
        if segments > 0 {
            let bytes = segments * u64::from(self.mss) - rng.below(u64::from(self.mss));
            self.round(rng, pace, Dir::Down, respond, bytes, segments as u16);
        }
        let last = self
            .last_from(Sender::Server)
            .unwrap_or(respond)
            .max(respond);
        self.push(
            last + rng.spread(10_000, 5 * MS),
            Sender::Server,
            RST | ACK,
            0,
        );
    }

    /// The client asks, reads part of the answer, then its application closes with unread
    /// data: RST with ACK. Segments the server sent before the RST reached it still arrive,
    /// and the client's stack, with no socket left, resets the first two of them.
    pub(super) fn local_abort(&mut self, rng: &mut Rng, t: u64) {
        let sent = self.request(rng, t, true);
        let start = sent + Flow::jitter(rng, self.rtt_s) + rng.spread(30_000, 20 * MS);
        let total = rng.between(6, 24);
        let read = rng.between(2, total / 2);
        let mss = u64::from(self.mss);
        let mut at = start;
        for i in 1..=read {
            self.push(at, Sender::Server, ACK, mss);
            self.caught_up(Sender::Client);
            if i % 2 == 0 {
                self.push(at + Flow::jitter(rng, self.rtt_c), Sender::Client, ACK, 0);
            }
            at += Flow::jitter(rng, self.gap_ns);
        }
        let reset = at + Flow::jitter(rng, self.rtt_c) + rng.spread(20_000, 2 * MS);
        self.push(reset, Sender::Client, RST | ACK, 0);
        let stop = reset + self.rtt_s;
        let mut answered = 0;
        for i in read + 1..=total {
            if at >= stop {
                break;
            }
            self.push(
                at,
                Sender::Server,
                if i == total { ACK | PSH } else { ACK },
                mss,
            );
            if at > reset && answered < 2 {
                let nxt = self.c.nxt;
                let answer = at + Flow::jitter(rng, self.rtt_c);
                self.push_raw(answer, Sender::ClientStack, RST, nxt, 0, 0);
                answered += 1;
            }
            at += Flow::jitter(rng, self.gap_ns);
        }
    }

    /// Both sides close with FIN, then one resets instead of the last ACK (HTTP clients do;
    /// so does a server closing with SO_LINGER 0 after its FIN).
    pub(super) fn reset_after_fin(&mut self, rng: &mut Rng, t: u64) {
        let (first, second) = if rng.chance(0.6) {
            (Sender::Client, Sender::Server)
        } else {
            (Sender::Server, Sender::Client)
        };
        self.push(t, first, FIN | ACK, 0);
        self.caught_up(second);
        let at = t + Flow::jitter(rng, self.rtt(second)) + rng.below(2 * MS);
        self.push(at, second, FIN | ACK, 0);
        self.caught_up(first);
        self.push(at + Flow::jitter(rng, self.rtt(first)), first, RST | ACK, 0);
    }

    /// After a long silence the client asks again; a stateful device one hop nearer than
    /// the server has forgotten the connection and resets it in the server's name.
    pub(super) fn idle_reset(&mut self, rng: &mut Rng, t: u64) {
        let sent = self.request(rng, t, false);
        let at = sent + Flow::jitter(rng, self.rtt_s * 9 / 10);
        self.push(at, Sender::Device, RST | ACK, 0);
        self.with_ttl(self.s.ttl.saturating_add(1));
    }

    /// Mid-response, a forger beside the path sends one to three RSTs in the server's name
    /// (its own TTL, sequence numbers spread over the window). The real server keeps
    /// sending; the client, its socket gone, resets what still comes.
    pub(super) fn injected_reset(&mut self, rng: &mut Rng, t: u64) {
        let sent = self.request(rng, t, false);
        let start = sent + Flow::jitter(rng, self.rtt_s) + rng.spread(30_000, 20 * MS);
        let mss = u64::from(self.mss);
        let (mut at, mut last) = (start, start);
        for _ in 0..2 {
            self.push(at, Sender::Server, ACK, mss);
            last = at;
            at += Flow::jitter(rng, self.gap_ns);
        }
        self.caught_up(Sender::Client);
        let acked = last + Flow::jitter(rng, self.rtt_c);
        self.push(acked, Sender::Client, ACK, 0);
        let forged = acked + rng.spread(20_000, 400_000);
        self.forge(rng, forged);
        // The server sends on, within its window, until the client's RST reaches it.
        let (mut stop, mut answered, mut after) = (u64::MAX, 0, 0);
        while at < stop && after < MAX_AFTER_FORGED {
            self.push(at, Sender::Server, ACK, mss);
            after += u32::from(at > forged);
            if at > forged + self.rtt_c / 2 && answered < 2 {
                let answer = at + Flow::jitter(rng, self.rtt_c);
                let nxt = self.c.nxt;
                self.push_raw(answer, Sender::ClientStack, RST, nxt, 0, 0);
                answered += 1;
                stop = stop.min(answer + self.rtt_s);
            }
            at += Flow::jitter(rng, self.gap_ns);
        }
    }

    /// The forged RSTs: at the client's ACK point, then a segment further each.
    fn forge(&mut self, rng: &mut Rng, at: u64) {
        // At least three hops off the server's TTL, or from another initial TTL.
        let offset = rng.between(3, 40) as u8;
        let ttl = if self.s.ttl > 100 {
            self.s.ttl - offset
        } else {
            self.s.ttl + offset
        };
        let with_ack = rng.chance(0.5);
        let (flags, ack) = if with_ack {
            (RST | ACK, self.c.nxt)
        } else {
            (RST, 0)
        };
        let mut when = at;
        for k in 0..rng.between(1, 3) {
            let seq = self.c.rcv.wrapping_add((k * u64::from(self.mss)) as u32);
            self.push_raw(when, Sender::Injector, flags, seq, ack, 0);
            self.with_ttl(ttl);
            when += rng.between(1_000, 30_000);
        }
    }

    /// A device in the path (an IPS) rejects the client's request in the server's name,
    /// from nearer than the server.
    pub(super) fn in_path_reject(&mut self, rng: &mut Rng, t: u64) {
        let sent = self.request(rng, t, false);
        let at = sent + Flow::jitter(rng, self.firewall.rtt_ns) + rng.spread(20_000, MS);
        self.push(at, Sender::Device, RST | ACK, 0);
        self.with_ttl(self.firewall.ttl);
    }

    /// The server lost the connection (it restarted): its stack answers the client's next
    /// request with RST at the request's ACK, no ACK bit, IP ID 0.
    pub(super) fn stale_connection(&mut self, rng: &mut Rng, t: u64) {
        let sent = self.request(rng, t, false);
        let at = sent + Flow::jitter(rng, self.rtt_s);
        let seq = self.c.rcv;
        self.push_raw(at, Sender::ServerStack, RST, seq, 0, 0);
    }
}
