//! One synthetic connection: its endpoints, each side's sequence space and IP habits, and the
//! packets of its current phase, in time order. `script` and `resets` write the phases; this
//! file keeps the state they share and turns a planned packet into frame headers.

use std::net::IpAddr;

use super::frame::{ACK, FIN, Header, RST, SYN};
use super::mix::{Body, Kind};
use super::network::{Client, Device, Network, ROUTER_MAC, Server, Stack};
use super::rng::Rng;

/// Who puts a packet on the wire. Every packet carries the client's or the server's
/// addresses; the sender decides its TTL, IP ID and DF bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sender {
    /// The client's socket.
    Client,
    /// The client host's stack, with no socket left (answers late segments with RST).
    ClientStack,
    /// The server's socket.
    Server,
    /// The server host's stack, with no socket (refused, stale): its TTL, IP ID 0.
    ServerStack,
    /// A device on the path, in the server's name, with the TTL the packet gives.
    Device,
    /// A forger beside the path, in the server's name, with the TTL the packet gives.
    Injector,
}

impl Sender {
    fn is_client(self) -> bool {
        matches!(self, Sender::Client | Sender::ClientStack)
    }
}

/// Which way a transfer goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dir {
    /// Server to client.
    Down,
    /// Client to server.
    Up,
}

impl Dir {
    pub(crate) fn sender(self) -> Sender {
        match self {
            Dir::Down => Sender::Server,
            Dir::Up => Sender::Client,
        }
    }

    pub(crate) fn receiver(self) -> Sender {
        match self {
            Dir::Down => Sender::Client,
            Dir::Up => Sender::Server,
        }
    }
}

/// One planned packet.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pkt {
    /// Capture time, ns since the start of the trace.
    pub at: u64,
    pub seq: u32,
    pub ack: u32,
    pub len: u16,
    pub flags: u8,
    pub from: Sender,
    /// The TTL of a device or injector (the hosts' own come from the flow).
    pub ttl: u8,
}

/// One side's sequence space and habits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Side {
    /// SND.NXT: the next sequence number this side sends.
    pub nxt: u32,
    /// RCV.NXT: what this side acknowledges.
    pub rcv: u32,
    pub ttl: u8,
    /// The next IPv4 identification of a per-connection counter.
    pub ip_id: u16,
    /// The TCP timestamp clock's offset (RFC 7323, randomised per connection).
    pub ts_base: u32,
    /// SEG.WND as sent (scaled by 2^7).
    pub wnd: u16,
    pub flow_label: u32,
}

impl Side {
    fn new(rng: &mut Rng, ttl: u8, wnd: (u64, u64)) -> Side {
        let wnd = rng.between(wnd.0, wnd.1) as u16;
        let isn = rng.next_u32();
        Side {
            nxt: isn,
            rcv: 0,
            ttl,
            ip_id: rng.next_u16(),
            ts_base: rng.next_u32(),
            wnd,
            flow_label: rng.next_u32() & 0xf_ffff,
        }
    }
}

/// Where a connection is in its script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// The opening: a handshake, or the whole of an attempt that never opens.
    Open,
    /// Request/response exchanges still to come.
    Exchanges {
        left: u16,
    },
    /// A bulk transfer in rounds: bytes left, congestion window (segments), rounds until the
    /// application pauses, and the exchanges that follow.
    Bulk {
        dir: Dir,
        left: u64,
        cwnd: u16,
        burst: u16,
        then: u16,
    },
    /// The scripted end: FIN or a reset.
    End,
    Done,
}

/// One synthetic connection.
pub(crate) struct Flow {
    pub kind: Kind,
    pub body: Body,
    pub stage: Stage,
    pub v6: bool,
    pub server: usize,
    pub client_ip: IpAddr,
    pub server_ip: IpAddr,
    pub client_mac: [u8; 6],
    pub client_port: u16,
    pub server_port: u16,
    pub c: Side,
    pub s: Side,
    /// Round trips from the capture point to each end.
    pub rtt_c: u64,
    pub rtt_s: u64,
    pub firewall: Device,
    /// Time between full-size segments at the path's bottleneck.
    pub gap_ns: u64,
    pub mss: u16,
    /// Both sides use TCP timestamps.
    pub timestamps: bool,
    /// The planned packets of the current phase, time-ordered, and the next one to send.
    pub pending: Vec<Pkt>,
    pub cursor: usize,
    /// The earliest the next phase can start, and whether the application may pause first.
    pub natural_next: u64,
    pub pause_next: bool,
    /// Packets planned that no pause has paid for yet, and packets paid for ahead (a bulk
    /// burst's later rounds); see `script::pay`.
    pub debt: u64,
    pub prepaid: u64,
    /// Packets emitted so far, and whether the scripted reset has been.
    pub emitted: u64,
    pub reset_emitted: bool,
    /// Counted among the open connections (from its first packet, or from the start of the
    /// trace for one already open then).
    pub is_open: bool,
    /// The first connection of a slot added to keep enough connections open.
    pub new_slot: bool,
}

impl Flow {
    /// A connection of `kind` between the given hosts, not yet started.
    pub(crate) fn new(
        rng: &mut Rng,
        (kind, body): (Kind, Body),
        (c, client_port): (Client, u16),
        (server, s): (usize, Server),
        server_port: u16,
    ) -> Flow {
        let v6 = s.ip.is_ipv6();
        let timestamps = rng.chance(0.8);
        let mss = match (v6, timestamps) {
            (false, true) => 1448,
            (false, false) => 1460,
            (true, true) => 1428,
            (true, false) => 1440,
        };
        Flow {
            kind,
            body,
            stage: Stage::Open,
            v6,
            server,
            client_ip: c.ip,
            server_ip: s.ip,
            client_mac: c.mac,
            client_port,
            server_port,
            c: Side::new(rng, c.ttl, (500, 2000)),
            s: Side::new(rng, s.ttl, (230, 1000)),
            rtt_c: c.rtt_ns,
            rtt_s: s.rtt_ns,
            firewall: s.firewall,
            gap_ns: rng.spread(12_000, 240_000),
            mss,
            timestamps,
            pending: Vec::new(),
            cursor: 0,
            natural_next: 0,
            pause_next: false,
            debt: 0,
            prepaid: 0,
            emitted: 0,
            reset_emitted: false,
            is_open: false,
            new_slot: false,
        }
    }

    pub(crate) fn side(&self, who: Sender) -> &Side {
        if who.is_client() { &self.c } else { &self.s }
    }

    pub(crate) fn side_mut(&mut self, who: Sender) -> &mut Side {
        if who.is_client() {
            &mut self.c
        } else {
            &mut self.s
        }
    }

    /// The round trip from the capture point to `who` and back.
    pub(crate) fn rtt(&self, who: Sender) -> u64 {
        if who.is_client() {
            self.rtt_c
        } else {
            self.rtt_s
        }
    }

    /// Plans a segment from `from` at its side's SND.NXT, acknowledging its RCV.NXT; a
    /// socket's SYN, FIN and payload advance SND.NXT.
    pub(crate) fn push(&mut self, at: u64, from: Sender, flags: u8, len: u64) {
        let side = self.side(from);
        let ack = if flags & ACK != 0 { side.rcv } else { 0 };
        self.push_raw(at, from, flags, side.nxt, ack, len);
        if matches!(from, Sender::Client | Sender::Server) {
            let used = len + u64::from(flags & SYN != 0) + u64::from(flags & FIN != 0);
            let side = self.side_mut(from);
            side.nxt = side.nxt.wrapping_add(used as u32);
        }
    }

    /// Plans a segment with explicit sequence and acknowledgment numbers.
    pub(crate) fn push_raw(
        &mut self,
        at: u64,
        from: Sender,
        flags: u8,
        seq: u32,
        ack: u32,
        len: u64,
    ) {
        self.pending.push(Pkt {
            at,
            seq,
            ack,
            len: len.min(u64::from(u16::MAX)) as u16,
            flags,
            from,
            ttl: 0,
        });
    }

    /// Sets the TTL of the last planned packet (a device's or an injector's).
    pub(crate) fn with_ttl(&mut self, ttl: u8) {
        if let Some(last) = self.pending.last_mut() {
            last.ttl = ttl;
        }
    }

    /// `from` has received everything its peer sent so far.
    pub(crate) fn caught_up(&mut self, from: Sender) {
        let peer_nxt = if from.is_client() {
            self.s.nxt
        } else {
            self.c.nxt
        };
        self.side_mut(from).rcv = peer_nxt;
    }

    /// The next planned packet, if the phase has one left.
    pub(crate) fn peek(&self) -> Option<Pkt> {
        self.pending.get(self.cursor).copied()
    }

    /// The frame headers of `pkt`; `options` receives its TCP options.
    pub(crate) fn header<'a>(
        &mut self,
        pkt: &Pkt,
        net: &mut Network,
        options: &'a mut [u8; 40],
    ) -> Header<'a> {
        let from_client = pkt.from.is_client();
        let (ttl, ip_id, df) = self.ip_habits(pkt, net);
        let option_len = self.options(pkt, options);
        let side = *self.side(pkt.from);
        let (src, dst, src_port, dst_port, src_mac, dst_mac) = if from_client {
            let ends = (
                self.client_ip,
                self.server_ip,
                self.client_port,
                self.server_port,
            );
            (ends.0, ends.1, ends.2, ends.3, self.client_mac, ROUTER_MAC)
        } else {
            let ends = (
                self.server_ip,
                self.client_ip,
                self.server_port,
                self.client_port,
            );
            (ends.0, ends.1, ends.2, ends.3, ROUTER_MAC, self.client_mac)
        };
        Header {
            src_mac,
            dst_mac,
            src,
            dst,
            ttl,
            ip_id,
            df,
            flow_label: if matches!(pkt.from, Sender::Client | Sender::Server) {
                side.flow_label
            } else {
                0
            },
            src_port,
            dst_port,
            seq: pkt.seq,
            ack: pkt.ack,
            flags: pkt.flags,
            wnd: if pkt.flags & RST != 0 { 0 } else { side.wnd },
            options: options.get(..option_len).unwrap_or(&[]),
            payload_len: usize::from(pkt.len),
        }
    }

    /// TTL, IPv4 identification and DF of a packet, by who sent it.
    fn ip_habits(&mut self, pkt: &Pkt, net: &mut Network) -> (u8, u16, bool) {
        // Devices and forgers pick IDs the hosts' counters know nothing of.
        let scrambled = (pkt.seq ^ (pkt.at as u32).rotate_left(13)).wrapping_mul(0x9e37_79b9);
        match pkt.from {
            Sender::Client => {
                let id = self.c.ip_id;
                self.c.ip_id = id.wrapping_add(1);
                (self.c.ttl, id, true)
            }
            Sender::Server => {
                let id = net.host_ip_id(self.server).unwrap_or(self.s.ip_id);
                self.s.ip_id = self.s.ip_id.wrapping_add(1);
                (self.s.ttl, id, true)
            }
            Sender::ClientStack => (self.c.ttl, 0, true),
            Sender::ServerStack => (self.s.ttl, net.host_ip_id(self.server).unwrap_or(0), true),
            Sender::Device => match self.firewall.stack {
                Stack::Linux => (pkt.ttl, 0, true),
                Stack::Appliance => (pkt.ttl, (scrambled >> 16) as u16 | 1, false),
            },
            Sender::Injector => (pkt.ttl, (scrambled >> 16) as u16 | 1, false),
        }
    }

    /// Writes the TCP options of `pkt` (Linux's layout); returns their length.
    fn options(&self, pkt: &Pkt, out: &mut [u8; 40]) -> usize {
        if pkt.flags & RST != 0 || (pkt.flags & SYN == 0 && !self.timestamps) {
            return 0;
        }
        let side = self.side(pkt.from);
        let peer = if pkt.from.is_client() {
            &self.s
        } else {
            &self.c
        };
        let ms = |at: u64| (at / 1_000_000) as u32;
        let tsval = side.ts_base.wrapping_add(ms(pkt.at));
        let tsecr = if pkt.flags == SYN {
            0
        } else {
            peer.ts_base
                .wrapping_add(ms(pkt.at.saturating_sub(self.rtt(pkt.from) / 2)))
        };
        let mut ts = [8u8, 10, 0, 0, 0, 0, 0, 0, 0, 0];
        ts[2..6].copy_from_slice(&tsval.to_be_bytes());
        ts[6..10].copy_from_slice(&tsecr.to_be_bytes());
        let mss = (self.mss + if self.timestamps { 12 } else { 0 }).to_be_bytes();
        let parts: [&[u8]; 4] = match (pkt.flags & SYN != 0, self.timestamps) {
            (true, true) => [&[2, 4, mss[0], mss[1], 4, 2], &ts, &[1, 3, 3, 7], &[]],
            (true, false) => [&[2, 4, mss[0], mss[1]], &[1, 3, 3, 7], &[1, 1, 4, 2], &[]],
            _ => [&[1, 1], &ts, &[], &[]],
        };
        let mut len = 0;
        for part in parts {
            if let Some(slot) = out.get_mut(len..len + part.len()) {
                slot.copy_from_slice(part);
            }
            len += part.len();
        }
        len
    }
}
