//! Test support shared by unit tests: hand-built segments with a template per side, changed
//! one field at a time with struct update syntax.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: a bad fixture should fail loudly

use std::net::SocketAddr;

use crate::decode::{Checksum, IpFacts, Segment, TcpOptions};
use crate::flow::Side;
use crate::tcp::{Flags, SeqNum};

pub const S: u8 = Flags::SYN;
pub const A: u8 = Flags::ACK;
pub const F: u8 = Flags::FIN;
pub const R: u8 = Flags::RST;
pub const P: u8 = Flags::PSH;

pub fn client_addr() -> SocketAddr {
    "192.0.2.10:51514".parse().unwrap()
}

pub fn server_addr() -> SocketAddr {
    "198.51.100.7:443".parse().unwrap()
}

/// What a test segment is: who sent it, flags, seq, ack, payload length, when, and its IP
/// header facts.
#[derive(Clone, Copy, Debug)]
pub struct Step {
    pub from: Side,
    pub flags: u8,
    pub seq: u32,
    pub ack: u32,
    pub len: u32,
    /// Frame time in ms; 0 means "1 ms after the previous step".
    pub at_ms: i64,
    pub ttl: u8,
    pub ip_id: Option<u16>,
    pub df: bool,
}

/// A segment from the client (TTL 64: the client is the capturing host).
pub const fn c(flags: u8, seq: u32, ack: u32, len: u32) -> Step {
    Step {
        from: Side::Client,
        flags,
        seq,
        ack,
        len,
        at_ms: 0,
        ttl: 64,
        ip_id: Some(1),
        df: true,
    }
}

/// A segment from the server (TTL 57: 7 hops away).
pub const fn s(flags: u8, seq: u32, ack: u32, len: u32) -> Step {
    Step {
        from: Side::Server,
        flags,
        seq,
        ack,
        len,
        at_ms: 0,
        ttl: 57,
        ip_id: Some(1),
        df: true,
    }
}

pub fn segment(step: Step) -> Segment {
    let (src, dst) = match step.from {
        Side::Client => (client_addr(), server_addr()),
        Side::Server => (server_addr(), client_addr()),
    };
    Segment {
        src,
        dst,
        seq: SeqNum(step.seq),
        ack: (step.flags & A != 0).then_some(SeqNum(step.ack)),
        flags: Flags(step.flags),
        wnd: 1000,
        len: step.len,
        ip: IpFacts {
            ttl: step.ttl,
            ip_id: step.ip_id,
            df: step.df,
            flow_label: 0,
        },
        options: TcpOptions::default(),
        checksum: Checksum::Valid,
        tunneled: false,
        in_wireshark: true,
        interface: None,
        link_src: None,
        rst_payload: None,
        selected: true,
    }
}
