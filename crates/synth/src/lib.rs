//! A deterministic synthetic capture: many concurrent TCP connections of every kind rstscope
//! explains, interleaved in one time-ordered pcap stream, for benchmarks and tests.
//!
//! About `concurrent` connections are open at any time. Each lives in a slot of an event list
//! (a min-heap of next-packet times): the earliest packet goes out, the connection plans its
//! next one, and a finished connection's slot starts a new one after a pause (the slots grow
//! or retire to keep `concurrent` open). Pauses keep the trace at `rate` packets per second of
//! capture time. The trace starts mid-stream, as a capture of a busy link does: the
//! connections open at its start are caught at a random point of their lives.
//!
//! Connections are handshakes, request/response exchanges, bulk transfers with ACKs and
//! growing windows, retransmissions, FIN closes in both orders, and every kind of reset
//! rstscope attributes (see [`Kind`]), over IPv4 and IPv6, with a TTL model of clients near
//! the capture point and servers and devices farther away. The trace streams to the writer:
//! memory follows the number of open connections, not the length of the trace. One seed
//! gives the same bytes.
//!
//! Submodules: `rng` (the PRNG), `pcap` (the file format), `frame` (headers and checksums),
//! `network` (addresses, TTLs, round trips), `mix` (what each connection plays), `flow` (one
//! connection's state), `script` and `resets` (what its phases hold), `pace` (when they
//! happen).

mod flow;
mod frame;
mod mix;
mod network;
mod pace;
mod pcap;
mod resets;
mod rng;
mod script;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::io::{self, Write};

pub use mix::Kind;

use flow::{Flow, Pkt};
use frame::{MAX_HEADER, Payload, RST};
use mix::{Body, server_port};
use network::Network;
use pace::Pace;
use pcap::PcapWriter;
use rng::Rng;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Stop after this many packets.
    pub packets: u64,
    /// Also stop once the file holds this many bytes.
    pub max_bytes: Option<u64>,
    pub seed: u64,
    /// Frames longer than this are cut (caplen < len), as `tcpdump -s` does.
    pub snaplen: u32,
    /// About this many connections are open at once.
    pub concurrent: u32,
    /// Every data segment carries a full MSS (frames of about 1500 bytes).
    pub full_size: bool,
    /// The share of connections over IPv6, from 0 to 1.
    pub ipv6_share: f64,
    /// Packets per second of capture time, on average.
    pub rate: f64,
    /// The first packet's time, in seconds since the Unix epoch.
    pub start_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            packets: 10_000_000,
            max_bytes: None,
            seed: 1,
            snaplen: 65_535,
            concurrent: 100_000,
            full_size: false,
            ipv6_share: 0.2,
            rate: 300_000.0,
            // 2024-01-01T00:00:00Z.
            start_secs: 1_704_067_200,
        }
    }
}

/// What a run wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub packets: u64,
    /// Bytes in the file, pcap headers included.
    pub file_bytes: u64,
    /// Bytes the frames had on the wire.
    pub wire_bytes: u64,
    /// Frames cut by the snap length.
    pub cut_frames: u64,
    /// Connections that sent at least one packet, and of them over IPv6, and finished.
    pub flows: u64,
    pub ipv6_flows: u64,
    pub finished_flows: u64,
    /// Connections open when the trace ended.
    pub open_at_end: u64,
    /// From the first packet to the last.
    pub duration_ns: u64,
    pub rst_segments: u64,
    /// Connections per kind (indexed by [`Kind::index`]) that sent a packet, and of those
    /// ending in a reset, the ones whose reset made it into the trace.
    pub started: [u64; Kind::ALL.len()],
    pub resets: [u64; Kind::ALL.len()],
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let share = |part: u64, whole: u64| 100.0 * part as f64 / whole.max(1) as f64;
        write!(
            f,
            "{} packets, {:.3} s of capture ({:.2} µs apart), {:.1} MB written ({:.1} MB on the wire, {} frames cut), {} flows ({:.1}% IPv6, {} still open at the end), {} RST segments; resets by kind:",
            self.packets,
            self.duration_ns as f64 / 1e9,
            self.duration_ns as f64 / 1e3 / self.packets.max(1) as f64,
            self.file_bytes as f64 / 1e6,
            self.wire_bytes as f64 / 1e6,
            self.cut_frames,
            self.flows,
            share(self.ipv6_flows, self.flows),
            self.open_at_end,
            self.rst_segments,
        )?;
        for kind in Kind::ALL.into_iter().filter(|kind| kind.is_reset()) {
            write!(f, " {}={}", kind.name(), self.resets[kind.index()])?;
        }
        Ok(())
    }
}

/// Writes a synthetic pcap to `out` (buffer it: a `BufWriter`, or a `Vec`).
pub fn generate<W: Write>(config: &Config, out: W) -> io::Result<Summary> {
    let mut run = Run::new(config, out)?;
    run.fill();
    run.play()?;
    let mut summary = run.output.summary;
    summary.file_bytes = run.output.writer.written();
    run.output.writer.finish()?;
    Ok(summary)
}

/// The connections and the event list.
struct Run<'a, W: Write> {
    config: &'a Config,
    pace: Pace,
    rng: Rng,
    /// One connection per slot (a finished one stays until its slot's next one opens).
    flows: Vec<Flow>,
    /// Connections open now, and slots added whose first connection has not started yet.
    open: u64,
    new_slots_waiting: u64,
    /// Slots retired (their last connection finished, not followed).
    idle_slots: Vec<u32>,
    /// (next packet time, slot), earliest first; ties go to the lower slot.
    queue: BinaryHeap<Reverse<(u64, u32)>>,
    output: Output<W>,
}

/// Where packets go, and what is needed to write them.
struct Output<W: Write> {
    net: Network,
    writer: PcapWriter<W>,
    payload: Payload,
    header: [u8; MAX_HEADER],
    options: [u8; 40],
    start_ns: u64,
    first_at: Option<u64>,
    summary: Summary,
}

impl<'a, W: Write> Run<'a, W> {
    fn new(config: &'a Config, out: W) -> io::Result<Run<'a, W>> {
        let mut rng = Rng::new(config.seed);
        let net = Network::new(&mut rng);
        let concurrent = config.concurrent.max(1);
        let pace = Pace {
            per_packet_ns: f64::from(concurrent) * 1e9 / config.rate.max(1.0),
            full_size: config.full_size,
            ack_every: if config.full_size { 4 } else { 2 },
            max_cwnd: if config.full_size { 64 } else { 32 },
        };
        Ok(Run {
            config,
            pace,
            rng,
            flows: Vec::with_capacity(concurrent as usize),
            open: 0,
            new_slots_waiting: 0,
            idle_slots: Vec::new(),
            queue: BinaryHeap::with_capacity(concurrent as usize),
            output: Output {
                net,
                writer: PcapWriter::new(out, config.snaplen)?,
                payload: Payload::new(),
                header: [0; MAX_HEADER],
                options: [0; 40],
                start_ns: config.start_secs.saturating_mul(1_000_000_000),
                first_at: None,
                summary: Summary::default(),
            },
        })
    }

    /// The slots when the capture begins: `concurrent` connections already open, caught at
    /// a random point of their lives (a trace of a busy link starts mid-stream, not with a
    /// wall of SYNs), and an eighth more slots whose client is about to connect, as about
    /// that many wait between connections once the trace has settled.
    fn fill(&mut self) {
        let concurrent = self.config.concurrent.max(1);
        let slots = concurrent.saturating_add(concurrent / 8);
        self.pace.per_packet_ns = f64::from(slots) * 1e9 / self.config.rate.max(1.0);
        for slot in 0..slots {
            let flow = if slot < concurrent {
                let mut flow = self.established_flow();
                flow.start_established(&mut self.rng, &self.pace);
                flow.is_open = true;
                self.open += 1;
                flow
            } else {
                self.spawn(0, 0)
            };
            self.schedule(&flow, slot);
            self.flows.push(flow);
        }
    }

    /// A connection open at the start of the trace. Open connections are long ones more
    /// often than new ones are: each is drawn with a chance that grows with its length in
    /// packets (up to `ELEPHANT` packets), as a snapshot of a busy link finds them.
    fn established_flow(&mut self) -> Flow {
        const ELEPHANT: u64 = 400;
        loop {
            let flow = self.new_flow();
            if self.rng.below(ELEPHANT) < flow.expected_packets() {
                return flow;
            }
        }
    }

    /// A new connection, its first phase planned from `start` (see `Flow::start`).
    fn spawn(&mut self, start: u64, debt: u64) -> Flow {
        let mut flow = self.new_flow();
        flow.start(&mut self.rng, &self.pace, start, debt);
        flow
    }

    /// A connection with its kind, body and hosts drawn, nothing planned yet.
    fn new_flow(&mut self) -> Flow {
        let rng = &mut self.rng;
        let kind = Kind::pick(rng);
        let body = Body::pick(rng, self.pace.full_size);
        let v6 = rng.chance(self.config.ipv6_share);
        let client = self.output.net.pick_client(rng, v6);
        let server = self.output.net.pick_server(rng, v6);
        let port = server_port(rng, kind);
        Flow::new(rng, (kind, body), client, server, port)
    }

    fn schedule(&mut self, flow: &Flow, slot: u32) {
        if let Some(pkt) = flow.peek() {
            self.queue.push(Reverse((pkt.at, slot)));
        }
    }

    /// Sends the earliest packet, again and again, until the trace is long enough.
    fn play(&mut self) -> io::Result<()> {
        let max_bytes = self.config.max_bytes.unwrap_or(u64::MAX);
        while self.output.summary.packets < self.config.packets
            && self.output.writer.written() < max_bytes
        {
            let Some(Reverse((_, slot))) = self.queue.pop() else {
                break;
            };
            let Some(flow) = self.flows.get_mut(slot as usize) else {
                continue;
            };
            let Some(pkt) = flow.peek() else {
                continue;
            };
            if !flow.is_open {
                flow.is_open = true;
                self.open += 1;
                self.new_slots_waiting = self
                    .new_slots_waiting
                    .saturating_sub(u64::from(flow.new_slot));
            }
            self.output.emit(flow, &pkt)?;
            flow.cursor += 1;
            if flow.peek().is_some() || flow.advance(&mut self.rng, &self.pace, pkt.at) {
                if let Some(next) = flow.peek() {
                    self.queue.push(Reverse((next.at, slot)));
                }
            } else {
                let debt = flow.debt;
                self.finished(slot, pkt.at, debt);
            }
        }
        self.output.summary.open_at_end = self.open;
        Ok(())
    }

    /// The connection in `slot` ended at `now`. Short connections spend most of their slot
    /// waiting for the next (their pause), so the number of slots follows the open count:
    /// with more than `concurrent` open the slot retires, else its client opens its next
    /// connection after the pause it earns, and with too few open another slot starts one
    /// too. Each slot sends at the per-connection pace, so the pace follows the slots.
    fn finished(&mut self, slot: u32, now: u64, debt: u64) {
        self.output.summary.finished_flows += 1;
        self.open = self.open.saturating_sub(1);
        let concurrent = u64::from(self.config.concurrent.max(1));
        if self.open >= concurrent {
            self.idle_slots.push(slot);
            self.repace();
            return;
        }
        let start = now + self.rng.spread(10_000, 100_000_000);
        let next = self.spawn(start, debt);
        self.schedule(&next, slot);
        if let Some(place) = self.flows.get_mut(slot as usize) {
            *place = next;
        }
        if self.open + self.new_slots_waiting >= concurrent {
            return;
        }
        let start = now + self.rng.spread(10_000, 100_000_000);
        let mut flow = self.spawn(start, 0);
        flow.new_slot = true;
        self.new_slots_waiting += 1;
        match self.idle_slots.pop() {
            Some(slot) => {
                self.schedule(&flow, slot);
                if let Some(place) = self.flows.get_mut(slot as usize) {
                    *place = flow;
                }
            }
            None => {
                self.schedule(&flow, self.flows.len() as u32);
                self.flows.push(flow);
            }
        }
        self.repace();
    }

    /// Sets the per-connection pace from the number of active slots.
    fn repace(&mut self) {
        let active = self.flows.len() - self.idle_slots.len();
        self.pace.per_packet_ns = active as f64 * 1e9 / self.config.rate.max(1.0);
    }
}

impl<W: Write> Output<W> {
    /// Writes one packet of `flow` and counts it.
    fn emit(&mut self, flow: &mut Flow, pkt: &Pkt) -> io::Result<()> {
        let header = flow.header(pkt, &mut self.net, &mut self.options);
        let len = frame::write(&mut self.header, &header, &self.payload);
        let payload = self.payload.bytes(usize::from(pkt.len));
        let head = self.header.get(..len).unwrap_or(&[]);
        let cut = self.writer.frame(self.start_ns + pkt.at, head, payload)?;
        let summary = &mut self.summary;
        summary.packets += 1;
        summary.wire_bytes += (len + payload.len()) as u64;
        summary.cut_frames += u64::from(cut);
        summary.duration_ns = pkt.at - *self.first_at.get_or_insert(pkt.at);
        if flow.emitted == 0 {
            summary.flows += 1;
            summary.ipv6_flows += u64::from(flow.v6);
            summary.started[flow.kind.index()] += 1;
        }
        flow.emitted += 1;
        if pkt.flags & RST != 0 {
            summary.rst_segments += 1;
            if flow.kind.is_reset() && !flow.reset_emitted {
                flow.reset_emitted = true;
                summary.resets[flow.kind.index()] += 1;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
