//! Test support: build TCP conversations packet by packet, wrap them in any link type or
//! encapsulation, write them as real pcap files through libpcap (pcap's `Capture::dead` and
//! `savefile`), and run the built binary on them.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod browser;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use etherparse::{IpNumber, Ipv4Header, Ipv6Header, PacketBuilder, TcpHeader};
use pcap::{Capture, Linktype, Packet, PacketHeader};

pub const SYN: u8 = 0x02;
pub const FIN: u8 = 0x01;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

/// One TCP segment to build.
#[derive(Debug, Clone)]
pub struct Tcp {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub flags: u8,
    pub seq: u32,
    pub ack: u32,
    pub wnd: u16,
    pub ttl: u8,
    pub ip_id: u16,
    pub payload: Vec<u8>,
}

impl Tcp {
    /// The IP packet (IPv4 or IPv6 after the addresses) carrying this segment, with correct
    /// lengths and checksums.
    pub fn ip_packet(&self) -> Vec<u8> {
        let mut tcp = TcpHeader::new(self.src.port(), self.dst.port(), self.seq, self.wnd);
        tcp.fin = self.flags & FIN != 0;
        tcp.syn = self.flags & SYN != 0;
        tcp.rst = self.flags & RST != 0;
        tcp.psh = self.flags & PSH != 0;
        if self.flags & ACK != 0 {
            tcp.ack = true;
            tcp.acknowledgment_number = self.ack;
        }
        let mut out = Vec::new();
        match (self.src.ip(), self.dst.ip()) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                let mut ip = Ipv4Header::new(
                    (tcp.header_len() + self.payload.len()) as u16,
                    self.ttl,
                    IpNumber::TCP,
                    s.octets(),
                    d.octets(),
                )
                .unwrap();
                ip.identification = self.ip_id;
                ip.dont_fragment = true;
                ip.header_checksum = ip.calc_header_checksum();
                tcp.checksum = tcp.calc_checksum_ipv4(&ip, &self.payload).unwrap();
                ip.write(&mut out).unwrap();
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                let ip = Ipv6Header {
                    traffic_class: 0,
                    flow_label: Default::default(),
                    payload_length: (tcp.header_len() + self.payload.len()) as u16,
                    next_header: IpNumber::TCP,
                    hop_limit: self.ttl,
                    source: s.octets(),
                    destination: d.octets(),
                };
                tcp.checksum = tcp.calc_checksum_ipv6(&ip, &self.payload).unwrap();
                ip.write(&mut out).unwrap();
            }
            _ => panic!("mixed address families"),
        }
        tcp.write(&mut out).unwrap();
        out.extend_from_slice(&self.payload);
        out
    }
}

/// A TCP conversation that keeps both sides' sequence numbers, so tests read like a ladder
/// diagram: `c.syn(); c.syn_ack(); c.ack(); c.client_data(100); ...`.
#[derive(Debug, Clone)]
pub struct Conversation {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub client_next: u32,
    pub server_next: u32,
    pub client_ttl: u8,
    pub server_ttl: u8,
    /// Frame time in nanoseconds of the next segment.
    pub now_ns: i64,
    /// Added to `now_ns` after each segment.
    pub step_ns: i64,
    client_ip_id: u16,
    server_ip_id: u16,
    pub segments: Vec<(i64, Tcp)>,
}

impl Conversation {
    pub fn new(client: &str, server: &str) -> Conversation {
        Conversation {
            client: client.parse().unwrap(),
            server: server.parse().unwrap(),
            client_next: 1000,
            server_next: 5000,
            client_ttl: 64,
            server_ttl: 57,
            now_ns: 1_700_000_000_000_000_000,
            step_ns: 10_000_000,
            client_ip_id: 100,
            server_ip_id: 9000,
            segments: Vec::new(),
        }
    }

    /// Starts the sequence numbers at the given values.
    pub fn with_isns(mut self, client: u32, server: u32) -> Conversation {
        self.client_next = client;
        self.server_next = server;
        self
    }

    /// Lets `ns` nanoseconds pass before the next segment.
    pub fn wait(&mut self, ns: i64) -> &mut Self {
        self.now_ns += ns;
        self
    }

    /// Adds a segment from the client (`from_client`) or server with explicit flags and
    /// payload length, advancing that side's sequence number as TCP would.
    pub fn send(&mut self, from_client: bool, flags: u8, len: usize) -> &mut Self {
        let (src, dst, seq, ack, ttl) = if from_client {
            (
                self.client,
                self.server,
                self.client_next,
                self.server_next,
                self.client_ttl,
            )
        } else {
            (
                self.server,
                self.client,
                self.server_next,
                self.client_next,
                self.server_ttl,
            )
        };
        let ip_id = if from_client {
            self.client_ip_id = self.client_ip_id.wrapping_add(1);
            self.client_ip_id
        } else {
            self.server_ip_id = self.server_ip_id.wrapping_add(1);
            self.server_ip_id
        };
        let segment = Tcp {
            src,
            dst,
            flags,
            seq,
            ack,
            wnd: 64240,
            ttl,
            ip_id,
            payload: vec![b'x'; len],
        };
        let advance = len as u32 + u32::from(flags & SYN != 0) + u32::from(flags & FIN != 0);
        let advance = if flags & RST != 0 { 0 } else { advance };
        if from_client {
            self.client_next = self.client_next.wrapping_add(advance);
        } else {
            self.server_next = self.server_next.wrapping_add(advance);
        }
        self.segments.push((self.now_ns, segment));
        self.now_ns += self.step_ns;
        self
    }

    pub fn syn(&mut self) -> &mut Self {
        self.send(true, SYN, 0)
    }
    pub fn syn_ack(&mut self) -> &mut Self {
        self.send(false, SYN | ACK, 0)
    }
    pub fn ack(&mut self) -> &mut Self {
        self.send(true, ACK, 0)
    }
    pub fn server_ack(&mut self) -> &mut Self {
        self.send(false, ACK, 0)
    }
    pub fn client_data(&mut self, len: usize) -> &mut Self {
        self.send(true, ACK | PSH, len)
    }
    pub fn server_data(&mut self, len: usize) -> &mut Self {
        self.send(false, ACK | PSH, len)
    }
    pub fn client_fin(&mut self) -> &mut Self {
        self.send(true, FIN | ACK, 0)
    }
    pub fn server_fin(&mut self) -> &mut Self {
        self.send(false, FIN | ACK, 0)
    }
    pub fn client_rst(&mut self) -> &mut Self {
        self.send(true, RST | ACK, 0)
    }
    pub fn server_rst(&mut self) -> &mut Self {
        self.send(false, RST | ACK, 0)
    }

    /// The three-way handshake.
    pub fn handshake(&mut self) -> &mut Self {
        self.syn().syn_ack().ack()
    }

    /// A request, a response, and the FIN exchange.
    pub fn exchange_and_close(&mut self) -> &mut Self {
        self.client_data(100)
            .server_ack()
            .server_data(200)
            .ack()
            .client_fin()
            .server_fin()
            .ack()
    }

    /// Every segment as (time, IP packet).
    pub fn ip_packets(&self) -> Vec<(i64, Vec<u8>)> {
        self.segments
            .iter()
            .map(|(ts, tcp)| (*ts, tcp.ip_packet()))
            .collect()
    }

    /// Every segment as an Ethernet frame.
    pub fn ethernet_frames(&self) -> Vec<(i64, Vec<u8>)> {
        self.ip_packets()
            .into_iter()
            .map(|(ts, ip)| (ts, ethernet(&ip)))
            .collect()
    }
}

pub const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
pub const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];

/// The EtherType for an IP packet (by its version nibble).
pub fn ether_type_of(ip: &[u8]) -> u16 {
    if ip[0] >> 4 == 6 { 0x86dd } else { 0x0800 }
}

/// An Ethernet II frame around an IP packet.
pub fn ethernet(ip: &[u8]) -> Vec<u8> {
    ethernet_with_type(ether_type_of(ip), ip)
}

/// An Ethernet II frame with the given EtherType around any payload.
pub fn ethernet_with_type(ether_type: u16, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(14 + payload.len());
    frame.extend_from_slice(&MAC_B);
    frame.extend_from_slice(&MAC_A);
    frame.extend_from_slice(&ether_type.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// An IPv4 + UDP packet (valid checksums) around any payload, for tunnels.
pub fn udp_packet(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let builder = PacketBuilder::ipv4(src, dst, 64).udp(sport, dport);
    let mut out = Vec::with_capacity(builder.size(payload.len()));
    builder.write(&mut out, payload).unwrap();
    out
}

/// An IPv4 packet of the given protocol (e.g. 47 for GRE, 4 for IP-in-IP) around a payload.
pub fn ipv4_packet(src: [u8; 4], dst: [u8; 4], protocol: u8, payload: &[u8]) -> Vec<u8> {
    let mut ip = Ipv4Header::new(payload.len() as u16, 64, IpNumber(protocol), src, dst).unwrap();
    ip.header_checksum = ip.calc_header_checksum();
    let mut out = Vec::new();
    ip.write(&mut out).unwrap();
    out.extend_from_slice(payload);
    out
}

/// Writes frames (time in ns, bytes) as a pcap file of the given DLT, through libpcap.
pub fn write_pcap(path: &Path, dlt: i32, frames: &[(i64, Vec<u8>)]) {
    write_pcap_cut(path, dlt, frames, usize::MAX);
}

/// Like `write_pcap`, but each frame keeps at most `snaplen` captured bytes (the original
/// length is recorded, as a snap-length-limited capture does).
pub fn write_pcap_cut(path: &Path, dlt: i32, frames: &[(i64, Vec<u8>)], snaplen: usize) {
    let capture = Capture::dead(Linktype(dlt)).unwrap();
    let mut file = capture.savefile(path).unwrap();
    for (ts_ns, data) in frames {
        let captured = &data[..data.len().min(snaplen)];
        let header = PacketHeader {
            ts: libc::timeval {
                tv_sec: ts_ns.div_euclid(1_000_000_000),
                tv_usec: ts_ns.rem_euclid(1_000_000_000) / 1000,
            },
            caplen: captured.len() as u32,
            len: data.len() as u32,
        };
        file.write(&Packet::new(&header, captured));
    }
    file.flush().unwrap();
}

/// A fresh temporary directory for one test's files.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Runs the built `rstscope` binary with `args`.
pub fn rstscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rstscope"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs `rstscope analyze --format json` on the files and parses the report; panics with
/// stderr when the run fails.
pub fn analyze_json(paths: &[&Path]) -> serde_json::Value {
    let mut args: Vec<String> = vec!["analyze".into(), "--format".into(), "json".into()];
    args.extend(paths.iter().map(|p| p.display().to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = rstscope(&refs);
    assert!(
        out.status.success(),
        "rstscope failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Writes the conversation as an Ethernet pcap in `dir` and returns the report's flows.
pub fn flows_of(
    dir: &Path,
    name: &str,
    frames: &[(i64, Vec<u8>)],
    dlt: i32,
) -> Vec<serde_json::Value> {
    let path: PathBuf = dir.join(name);
    write_pcap(&path, dlt, frames);
    let report = analyze_json(&[&path]);
    report["flows"].as_array().unwrap().clone()
}

/// DLT values used in tests.
pub const DLT_NULL: i32 = 0;
pub const DLT_EN10MB: i32 = 1;
pub const DLT_RAW: i32 = 12;
pub const DLT_LOOP: i32 = 108;
pub const DLT_LINUX_SLL: i32 = 113;
pub const DLT_LINUX_SLL2: i32 = 276;

// ---------------------------------------------------------------------------------------------
// Helpers for conn_states.rs, link_types.rs and flow_tracking.rs. Written without `unwrap`, so
// they add nothing to clippy's `unwrap_used` warnings for any test crate that includes them.

impl Conversation {
    /// Sends `segments[index]` again at the current time with a fresh IP ID: a retransmission
    /// with the same sequence number, flags and payload. Sequence numbers do not move.
    pub fn resend(&mut self, index: usize) -> &mut Self {
        let mut segment = self.segments[index].1.clone();
        segment.ip_id = if segment.src == self.client {
            self.client_ip_id = self.client_ip_id.wrapping_add(1);
            self.client_ip_id
        } else {
            self.server_ip_id = self.server_ip_id.wrapping_add(1);
            self.server_ip_id
        };
        self.segments.push((self.now_ns, segment));
        self.now_ns += self.step_ns;
        self
    }

    /// Sends the most recent segment again (see `resend`).
    pub fn resend_last(&mut self) -> &mut Self {
        self.resend(self.segments.len() - 1)
    }

    /// Adds a hand-built segment at the current time; sequence numbers do not move.
    pub fn push_segment(&mut self, segment: Tcp) -> &mut Self {
        self.segments.push((self.now_ns, segment));
        self.now_ns += self.step_ns;
        self
    }
}

/// The segments of several conversations in time order (ties keep the argument order).
pub fn merge_segments(conversations: &[&Conversation]) -> Vec<(i64, Tcp)> {
    let mut all: Vec<(i64, Tcp)> = conversations
        .iter()
        .flat_map(|c| c.segments.iter().cloned())
        .collect();
    all.sort_by_key(|(ts, _)| *ts);
    all
}

/// Each segment as an Ethernet frame.
pub fn ethernet_frames_of(segments: &[(i64, Tcp)]) -> Vec<(i64, Vec<u8>)> {
    segments
        .iter()
        .map(|(ts, tcp)| (*ts, ethernet(&tcp.ip_packet())))
        .collect()
}

/// Runs `rstscope analyze --format json EXTRA... FILES...` and parses the report; panics with
/// stderr when the run fails.
pub fn analyze_json_with(extra: &[&str], paths: &[&Path]) -> serde_json::Value {
    let mut args: Vec<String> = vec!["analyze".into(), "--format".into(), "json".into()];
    args.extend(extra.iter().map(|arg| arg.to_string()));
    args.extend(paths.iter().map(|p| p.display().to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = rstscope(&refs);
    assert!(
        out.status.success(),
        "rstscope {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|err| panic!("rstscope printed no JSON report ({err})"))
}

fn write_file(path: &Path, bytes: &[u8]) {
    if let Err(err) = std::fs::write(path, bytes) {
        panic!("cannot write {}: {err}", path.display());
    }
}

/// Writes a classic pcap file (microsecond timestamps) through rstscope's own writer, with a
/// LINKTYPE value libpcap's savefile refuses (it maps DLT values to LINKTYPE values and
/// rejects some, such as 101 given as a DLT), so a test gets the header value it wants.
pub fn write_pcap_linktype(path: &Path, linktype: i32, frames: &[(i64, Vec<u8>)]) {
    use rstscope_core::savefile::{Precision, SaveFile};
    let mut file = SaveFile::pcap(Vec::new(), linktype, 262_144, Precision::Micro).unwrap();
    for (ts_ns, data) in frames {
        let ts = rstscope_core::Timestamp(*ts_ns);
        file.packet(0, ts, data, data.len() as u32, None).unwrap();
    }
    write_file(path, &file.finish().unwrap());
}

/// One pcapng block: type, total length, body (padded to 32 bits), total length again.
fn pcapng_block(block_type: u32, body: &[u8]) -> Vec<u8> {
    let padded = body.len().div_ceil(4) * 4;
    let total = (12 + padded) as u32;
    let mut block = Vec::with_capacity(total as usize);
    block.extend_from_slice(&block_type.to_le_bytes());
    block.extend_from_slice(&total.to_le_bytes());
    block.extend_from_slice(body);
    block.resize(8 + padded, 0);
    block.extend_from_slice(&total.to_le_bytes());
    block
}

/// Writes a minimal little-endian pcapng file: a Section Header Block, one Interface
/// Description Block of `linktype` and an Enhanced Packet Block per frame.
///
/// `tsresol` is the IDB's `if_tsresol` option: `Some(9)` stores timestamps in nanoseconds,
/// `Some(6)` in microseconds, `None` leaves the option out (pcapng's default, microseconds).
/// Frame times are given in nanoseconds and cut to the resolution.
pub fn write_pcapng(path: &Path, linktype: u16, tsresol: Option<u8>, frames: &[(i64, Vec<u8>)]) {
    let mut out = Vec::new();
    // Section Header Block: byte-order magic, version 1.0, section length unknown (-1).
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1a2b_3c4d_u32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    out.extend(pcapng_block(0x0a0d_0d0a, &shb));
    // Interface Description Block: link type, reserved, snaplen, options.
    let mut idb = Vec::new();
    idb.extend_from_slice(&linktype.to_le_bytes());
    idb.extend_from_slice(&0u16.to_le_bytes());
    idb.extend_from_slice(&262_144u32.to_le_bytes());
    if let Some(resolution) = tsresol {
        // if_tsresol (code 9, length 1), padded to 32 bits, then opt_endofopt.
        idb.extend_from_slice(&9u16.to_le_bytes());
        idb.extend_from_slice(&1u16.to_le_bytes());
        idb.extend_from_slice(&[resolution, 0, 0, 0]);
        idb.extend_from_slice(&[0, 0, 0, 0]);
    }
    out.extend(pcapng_block(1, &idb));
    let units_per_second = 10u64.pow(u32::from(tsresol.unwrap_or(6)));
    for (ts_ns, data) in frames {
        let ts = (*ts_ns as u64) / (1_000_000_000 / units_per_second);
        let mut epb = Vec::new();
        epb.extend_from_slice(&0u32.to_le_bytes()); // interface 0
        epb.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ts as u32).to_le_bytes());
        epb.extend_from_slice(&(data.len() as u32).to_le_bytes());
        epb.extend_from_slice(&(data.len() as u32).to_le_bytes());
        epb.extend_from_slice(data);
        out.extend(pcapng_block(6, &epb));
    }
    write_file(path, &out);
}

/// An IPv4 packet from `Tcp::ip_packet` rebuilt with TCP options (e.g. MSS, window scale,
/// SACK-permitted, timestamps): the data offset, IP total length and both checksums are
/// recomputed, the payload is unchanged.
pub fn with_tcp_options(ip_packet: &[u8], options: &[etherparse::TcpOptionElement]) -> Vec<u8> {
    let (mut ip, rest) =
        Ipv4Header::from_slice(ip_packet).unwrap_or_else(|err| panic!("not an IPv4 packet: {err}"));
    let (mut tcp, payload) =
        TcpHeader::from_slice(rest).unwrap_or_else(|err| panic!("not a TCP segment: {err}"));
    tcp.set_options(options)
        .unwrap_or_else(|err| panic!("options do not fit: {err}"));
    ip.set_payload_len(tcp.header_len() + payload.len())
        .unwrap_or_else(|err| panic!("packet too long: {err}"));
    ip.header_checksum = ip.calc_header_checksum();
    tcp.checksum = tcp
        .calc_checksum_ipv4(&ip, payload)
        .unwrap_or_else(|err| panic!("checksum: {err}"));
    let mut out = ip.to_bytes().to_vec();
    out.extend_from_slice(&tcp.to_bytes());
    out.extend_from_slice(payload);
    out
}

/// The bundled sample captures (`samples/*.pcap`), sorted by name.
pub fn samples() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "pcap"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no samples found");
    files
}

/// A connection the server resets: 7 frames, client 192.0.2.10:51514, server
/// 198.51.100.7:443, one RST from the server.
pub fn server_reset_conversation() -> Conversation {
    let mut c = Conversation::new("192.0.2.10:51514", "198.51.100.7:443");
    c.handshake()
        .client_data(100)
        .server_ack()
        .server_data(200)
        .server_rst();
    c
}
