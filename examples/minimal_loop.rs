//! The baseline rstscope's speed is measured against (`scripts/bench`): a minimal Rust loop
//! that reads a capture with the `pcap` crate, slices each frame with etherparse's lax parser
//! (`LaxSlicedPacket::from_ethernet`) and counts packets per TCP 4-tuple (both directions as
//! one) in a std `HashMap`. Nothing more: no flow state, no attribution, no report.
//! rstscope's target is at most 1.5 times this loop's time on the same capture.
//!
//! ```text
//! cargo run --release --example minimal_loop -- trace.pcap
//! ```
#![allow(clippy::print_stdout)]

use std::collections::HashMap;
use std::error::Error;
use std::net::IpAddr;

use etherparse::{LaxNetSlice, LaxSlicedPacket, TransportSlice};
use pcap::{Capture, Linktype};

/// One end of a TCP connection.
type End = (IpAddr, u16);

fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::args_os()
        .nth(1)
        .ok_or("usage: minimal_loop FILE (an Ethernet pcap)")?;
    let mut capture = Capture::from_file(&path)?;
    if capture.get_datalink() != Linktype::ETHERNET {
        return Err("minimal_loop reads Ethernet captures only".into());
    }
    let mut flows: HashMap<(End, End), u64> = HashMap::new();
    let (mut frames, mut tcp) = (0u64, 0u64);
    loop {
        let packet = match capture.next_packet() {
            Ok(packet) => packet,
            Err(pcap::Error::NoMorePackets) => break,
            Err(error) => return Err(error.into()),
        };
        frames += 1;
        let Some(key) = four_tuple(packet.data) else {
            continue;
        };
        tcp += 1;
        *flows.entry(key).or_insert(0) += 1;
    }
    println!("{} flows, {tcp} TCP packets, {frames} frames", flows.len());
    Ok(())
}

/// The frame's TCP 4-tuple, the lower end first, so both directions count as one flow.
fn four_tuple(frame: &[u8]) -> Option<(End, End)> {
    let sliced = LaxSlicedPacket::from_ethernet(frame).ok()?;
    let (src, dst) = match sliced.net? {
        LaxNetSlice::Ipv4(ip) => (
            IpAddr::V4(ip.header().source_addr()),
            IpAddr::V4(ip.header().destination_addr()),
        ),
        LaxNetSlice::Ipv6(ip) => (
            IpAddr::V6(ip.header().source_addr()),
            IpAddr::V6(ip.header().destination_addr()),
        ),
        LaxNetSlice::Arp(_) => return None,
    };
    let Some(TransportSlice::Tcp(segment)) = sliced.transport else {
        return None;
    };
    let (a, b) = (
        (src, segment.source_port()),
        (dst, segment.destination_port()),
    );
    Some(if a <= b { (a, b) } else { (b, a) })
}
