//! Throughput benchmark: writes a synthetic capture (many short connections, some reset, some
//! left open) through libpcap, then times the whole analyze pipeline over it.
//!
//! Run with `cargo bench`; `RSTSCOPE_BENCH_FLOWS=200000 cargo bench` for a bigger capture,
//! `RSTSCOPE_BENCH_KEEP=/tmp/big.pcap` to keep it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::net::Ipv4Addr;
use std::time::Instant;

use etherparse::PacketBuilder;
use pcap::{Capture, Linktype, Packet, PacketHeader};
use rstscope_core::{AnalyzeOptions, analyze};

/// Appends one Ethernet/IPv4/TCP frame.
#[allow(clippy::too_many_arguments)]
fn frame(
    out: &mut Vec<(i64, Vec<u8>)>,
    ts: i64,
    src: (Ipv4Addr, u16),
    dst: (Ipv4Addr, u16),
    seq: u32,
    ack: Option<u32>,
    flags: &str,
    len: usize,
) {
    let mut builder = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4(src.0.octets(), dst.0.octets(), 64)
        .tcp(src.1, dst.1, seq, 64240);
    if flags.contains('S') {
        builder = builder.syn();
    }
    if flags.contains('F') {
        builder = builder.fin();
    }
    if flags.contains('R') {
        builder = builder.rst();
    }
    if let Some(ack) = ack {
        builder = builder.ack(ack);
    }
    let mut bytes = Vec::with_capacity(builder.size(len));
    builder.write(&mut bytes, &vec![b'x'; len]).unwrap();
    out.push((ts, bytes));
}

/// The frames of connection `i`: handshake, request, response, then FIN, RST or nothing.
fn connection(i: u32, start: i64) -> Vec<(i64, Vec<u8>)> {
    let client = (
        Ipv4Addr::new(192, 0, 2, (i % 250) as u8 + 1),
        10_000 + (i % 50_000) as u16,
    );
    let server = (
        Ipv4Addr::new(198, 51, 100, (i / 50_000 % 250) as u8 + 1),
        443,
    );
    let (c, s) = (i.wrapping_mul(7919), i.wrapping_mul(104_729));
    let mut out = Vec::new();
    let t = |k: i64| start + k * 1_000_000;
    frame(&mut out, t(0), client, server, c, None, "S", 0);
    frame(&mut out, t(1), server, client, s, Some(c + 1), "SA", 0);
    frame(&mut out, t(2), client, server, c + 1, Some(s + 1), "A", 0);
    frame(&mut out, t(3), client, server, c + 1, Some(s + 1), "A", 300);
    frame(
        &mut out,
        t(4),
        server,
        client,
        s + 1,
        Some(c + 301),
        "A",
        1400,
    );
    match i % 10 {
        0 => frame(
            &mut out,
            t(5),
            server,
            client,
            s + 1401,
            Some(c + 301),
            "RA",
            0,
        ),
        1 => {}
        _ => {
            frame(
                &mut out,
                t(5),
                client,
                server,
                c + 301,
                Some(s + 1401),
                "FA",
                0,
            );
            frame(
                &mut out,
                t(6),
                server,
                client,
                s + 1401,
                Some(c + 302),
                "FA",
                0,
            );
            frame(
                &mut out,
                t(7),
                client,
                server,
                c + 302,
                Some(s + 1402),
                "A",
                0,
            );
        }
    }
    out
}

fn main() {
    let flows: u32 = std::env::var("RSTSCOPE_BENCH_FLOWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let dir = tempfile::tempdir().unwrap();
    // RSTSCOPE_BENCH_KEEP=FILE keeps the capture, e.g. to measure the binary's memory on it.
    let path = std::env::var_os("RSTSCOPE_BENCH_KEEP")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().join("bench.pcap"));
    let capture = Capture::dead(Linktype(1)).unwrap();
    let mut file = capture.savefile(&path).unwrap();
    let mut frames = 0u64;
    for i in 0..flows {
        // Connections overlap: a new one starts every 0.2 ms.
        for (ts, data) in connection(i, 1_700_000_000_000_000_000 + i64::from(i) * 200_000) {
            let header = PacketHeader {
                ts: libc::timeval {
                    tv_sec: ts / 1_000_000_000,
                    tv_usec: (ts % 1_000_000_000) / 1000,
                },
                caplen: data.len() as u32,
                len: data.len() as u32,
            };
            file.write(&Packet::new(&header, &data));
            frames += 1;
        }
    }
    file.flush().unwrap();
    drop(file);
    let bytes = std::fs::metadata(&path).unwrap().len();

    let started = Instant::now();
    let mut finished = 0u64;
    let stats = analyze(&[path], &AnalyzeOptions::default(), &mut |_flow| {
        finished += 1
    })
    .unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(stats.inputs[0].frames, frames);
    println!(
        "analyze: {frames} frames ({:.1} MB), {finished} flows in {elapsed:.3} s: {:.0} frames/s, {:.1} MB/s",
        bytes as f64 / 1e6,
        frames as f64 / elapsed,
        bytes as f64 / 1e6 / elapsed
    );
}
