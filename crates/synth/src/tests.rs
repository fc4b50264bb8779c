//! The generator end to end: same seed, same bytes; a well-formed pcap; and rstscope's own
//! pipeline finding what the trace holds.

use std::collections::HashSet;
use std::io::BufWriter;

use super::*;
use rstscope_core::Verdict;
use rstscope_core::{AnalyzeOptions, analyze};

fn small(seed: u64, packets: u64) -> Config {
    Config {
        packets,
        seed,
        snaplen: 128,
        concurrent: 300,
        rate: 20_000.0,
        ..Config::default()
    }
}

fn bytes_of(config: &Config) -> (Vec<u8>, Summary) {
    let mut bytes = Vec::new();
    let summary = generate(config, &mut bytes).unwrap();
    (bytes, summary)
}

#[test]
fn same_seed_same_bytes() {
    let (a, summary) = bytes_of(&small(7, 5_000));
    let (b, _) = bytes_of(&small(7, 5_000));
    assert!(a == b, "two runs with seed 7 differ");
    assert_eq!(summary.packets, 5_000);
    assert_eq!(summary.file_bytes, a.len() as u64);
    let (c, _) = bytes_of(&small(8, 5_000));
    assert!(a != c, "seeds 7 and 8 gave the same trace");
}

#[test]
fn records_are_time_ordered_and_cut_to_the_snap_length() {
    let (bytes, summary) = bytes_of(&small(1, 5_000));
    let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    assert_eq!(word(0), 0xa1b2_c3d4);
    assert_eq!(word(16), 128);
    let (mut at, mut last, mut records, mut cut) = (24, 0u64, 0u64, 0u64);
    while at < bytes.len() {
        let ts = u64::from(word(at)) * 1_000_000 + u64::from(word(at + 4));
        let (caplen, len) = (word(at + 8), word(at + 12));
        assert!(ts >= last, "record {records} goes back in time");
        assert!(caplen <= 128 && caplen <= len && caplen >= 54);
        assert!(word(at + 4) < 1_000_000);
        cut += u64::from(caplen < len);
        last = ts;
        records += 1;
        at += 16 + caplen as usize;
    }
    assert_eq!(at, bytes.len());
    assert_eq!(records, 5_000);
    assert_eq!(cut, summary.cut_frames);
    assert!(cut > 0, "no frame was cut at snaplen 128");
}

#[test]
fn rstscope_finds_every_verdict_and_both_families() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("synth.pcap");
    let config = Config {
        concurrent: 500,
        ..small(3, 20_000)
    };
    let file = std::fs::File::create(&path).unwrap();
    let summary = generate(&config, BufWriter::new(file)).unwrap();
    let mut verdicts = HashSet::new();
    let (mut v4, mut v6, mut resets) = (0, 0, 0);
    let stats = analyze(&[path], &AnalyzeOptions::default(), &mut |analyzed| {
        if analyzed.flow.client().is_ipv4() {
            v4 += 1;
        } else {
            v6 += 1;
        }
        for attribution in &analyzed.attributions {
            resets += 1;
            verdicts.insert(attribution.verdict.as_str());
        }
    })
    .unwrap();
    let input = &stats.inputs[0];
    assert_eq!(input.frames, 20_000);
    assert_eq!(input.tcp, 20_000);
    assert_eq!(input.undecodable, 0);
    assert_eq!(input.truncated, 0);
    assert!(v4 > 0 && v6 > 0, "IPv4 flows {v4}, IPv6 flows {v6}");
    assert_eq!(v4 + v6, summary.flows);
    assert_eq!(resets, summary.rst_segments);
    for verdict in [Verdict::Peer, Verdict::Firewall, Verdict::Middlebox] {
        assert!(
            verdicts.contains(verdict.as_str()),
            "no {} verdict among {verdicts:?}",
            verdict.as_str()
        );
    }
}
