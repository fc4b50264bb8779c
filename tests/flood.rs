//! Floods: a SYN flood of a million distinct 4-tuples and a RST storm. The run completes,
//! memory stays bounded by the flow-table cap (`--max-flows`) and the report cap
//! (`--report-flows`), and the summary says what was evicted or left unlisted.
//!
//! The captures are written byte by byte (a template frame, addresses and checksums patched),
//! so a million frames take a second to make.

// Helpers outside #[test] functions panic on purpose: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_rstscope");

const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;

/// Writes a pcap of Ethernet/IPv4/TCP frames without payload, one per `(ts_ns, src, sport,
/// dst, dport, flags, seq)`.
fn write_frames(
    path: &Path,
    frames: impl Iterator<Item = (i64, [u8; 4], u16, [u8; 4], u16, u8, u32)>,
) {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let header: [u32; 6] = [0xa1b2_c3d4, 0x0004_0002, 0, 0, 65535, 1];
    for word in header {
        out.write_all(&word.to_le_bytes()).unwrap();
    }
    for (ts, src, sport, dst, dport, flags, seq) in frames {
        let frame = tcp_frame(src, sport, dst, dport, flags, seq);
        let sec = (ts / 1_000_000_000) as u32;
        let usec = (ts % 1_000_000_000 / 1000) as u32;
        let len = frame.len() as u32;
        for word in [sec, usec, len, len] {
            out.write_all(&word.to_le_bytes()).unwrap();
        }
        out.write_all(&frame).unwrap();
    }
    out.flush().unwrap();
}

/// One 54-byte frame with correct IPv4 and TCP checksums.
fn tcp_frame(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, flags: u8, seq: u32) -> [u8; 54] {
    let mut f = [0u8; 54];
    f[0..6].copy_from_slice(&[0x00, 0x00, 0x5e, 0x00, 0x53, 0x02]);
    f[6..12].copy_from_slice(&[0x00, 0x00, 0x5e, 0x00, 0x53, 0x01]);
    f[12..14].copy_from_slice(&[0x08, 0x00]);
    let ip = 14;
    f[ip] = 0x45;
    f[ip + 2..ip + 4].copy_from_slice(&40u16.to_be_bytes());
    f[ip + 6] = 0x40;
    f[ip + 8] = 60;
    f[ip + 9] = 6;
    f[ip + 12..ip + 16].copy_from_slice(&src);
    f[ip + 16..ip + 20].copy_from_slice(&dst);
    let sum = !fold(sum16(&f[ip..ip + 20]));
    f[ip + 10..ip + 12].copy_from_slice(&sum.to_be_bytes());
    let tcp = 34;
    f[tcp..tcp + 2].copy_from_slice(&sport.to_be_bytes());
    f[tcp + 2..tcp + 4].copy_from_slice(&dport.to_be_bytes());
    f[tcp + 4..tcp + 8].copy_from_slice(&seq.to_be_bytes());
    f[tcp + 12] = 5 << 4;
    f[tcp + 13] = flags;
    f[tcp + 14..tcp + 16].copy_from_slice(&8192u16.to_be_bytes());
    let mut pseudo = sum16(&src) + sum16(&dst) + 6 + 20;
    pseudo += sum16(&f[tcp..tcp + 20]);
    let sum = !fold(pseudo);
    f[tcp + 16..tcp + 18].copy_from_slice(&sum.to_be_bytes());
    f
}

fn sum16(bytes: &[u8]) -> u32 {
    bytes
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum()
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// Runs rstscope, sampling its peak resident memory; returns (report, stderr, peak MiB).
fn run_measured(args: &[&str]) -> (Value, String, f64) {
    let child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let sampler = std::thread::spawn(move || {
        let mut peak = 0u64;
        while let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            let Some(kib) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
            else {
                break;
            };
            peak = peak.max(kib);
            std::thread::sleep(Duration::from_millis(20));
        }
        peak
    });
    let out = child.wait_with_output().unwrap();
    let peak = sampler.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (report, stderr, peak as f64 / 1024.0)
}

#[test]
fn a_syn_flood_of_a_million_tuples_stays_under_the_flow_cap() {
    const SYNS: u32 = 1_000_000;
    const CAP: u32 = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("syn-flood.pcap");
    write_frames(
        &path,
        (0..SYNS).map(|i| {
            let src = [198, 51, 100, (i % 250) as u8 + 1];
            let sport = 1024 + (i / 250 % 60_000) as u16;
            let dst = [192, 0, 2, 10 + (i / 15_000_000) as u8];
            (
                1_700_000_000_000_000_000 + i64::from(i) * 1000,
                src,
                sport,
                dst,
                443,
                SYN,
                i,
            )
        }),
    );
    let cap = CAP.to_string();
    let (report, stderr, peak) = run_measured(&[
        "analyze",
        "--format",
        "json",
        "--max-flows",
        &cap,
        path.to_str().unwrap(),
    ]);
    eprintln!(
        "SYN flood: peak {peak:.1} MiB; summary {}",
        report["summary"]
    );
    let summary = &report["summary"];
    assert_eq!(summary["tcp_flows"], SYNS, "every SYN is a flow, counted");
    assert_eq!(
        summary["evicted_flows"],
        SYNS - CAP,
        "all but the last {CAP} were evicted, oldest first"
    );
    assert!(
        report["warnings"].to_string().contains("--max-flows"),
        "the warning names the cap: {}",
        report["warnings"]
    );
    assert!(
        stderr.contains("--max-flows"),
        "the warning is on stderr too: {stderr}"
    );
    // The table holds at most CAP flows at about a kilobyte each, whatever the flood's size.
    assert!(peak < 400.0, "peak resident memory {peak:.1} MiB");
}

#[test]
fn a_reset_storm_is_counted_and_the_report_stays_bounded() {
    const SPRAYED: u32 = 200_000;
    const INTO_ONE: u32 = 50_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rst-storm.pcap");
    let base = 1_700_000_000_000_000_000i64;
    let sprayed = (0..SPRAYED).map(move |i| {
        let src = [203, 0, 113, (i % 250) as u8 + 1];
        let sport = 1024 + (i / 250 % 60_000) as u16;
        (
            base + i64::from(i) * 1000,
            src,
            sport,
            [192, 0, 2, 10],
            80,
            RST | ACK,
            i,
        )
    });
    let one = (0..INTO_ONE).map(move |i| {
        (
            base + i64::from(SPRAYED + i) * 1000,
            [198, 51, 100, 7],
            443,
            [192, 0, 2, 10],
            51514,
            RST,
            i.wrapping_mul(7919),
        )
    });
    write_frames(&path, sprayed.chain(one));
    let (_, stderr, peak) = run_measured(&["analyze", "-o", "/dev/null", path.to_str().unwrap()]);
    eprintln!("RST storm (table): peak {peak:.1} MiB; stderr: {stderr}");
    assert!(
        stderr.contains("not listed"),
        "the table lists the most recent flows and says so: {stderr}"
    );
    assert!(peak < 400.0, "peak resident memory {peak:.1} MiB");

    let (report, _, peak) = run_measured(&["analyze", "--format", "json", path.to_str().unwrap()]);
    eprintln!(
        "RST storm (json): peak {peak:.1} MiB; summary {}",
        report["summary"]
    );
    let summary = &report["summary"];
    assert_eq!(summary["resets"], SPRAYED + INTO_ONE, "every RST counted");
    assert_eq!(summary["tcp_flows"], SPRAYED + 1);
    let storm = report["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["client"]["port"] == 51514 || f["server"]["port"] == 51514)
        .expect("the flow that took the storm");
    let listed = storm["resets"].as_array().unwrap().len() as u64;
    let unlisted = storm["resets_not_listed"].as_u64().unwrap_or(0);
    assert_eq!(listed + unlisted, u64::from(INTO_ONE));
    assert!(
        listed <= 1000,
        "one flow lists at most 1000 resets, got {listed}"
    );
    assert!(peak < 400.0, "peak resident memory {peak:.1} MiB");
}
