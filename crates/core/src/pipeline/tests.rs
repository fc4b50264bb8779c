//! Reading a step ahead on a second thread against the one-thread loop: the same flows, in the same order, with
//! the same verdicts and the same counts, on every sample and on generated traces big enough
//! to keep many batches in flight.

use std::io::BufWriter;
use std::path::{Path, PathBuf};

use super::*;
use rstscope_synth::{Config, generate};

/// Every flow as text (its Debug form holds every field and every attribution), the
/// progress reported, and the run's statistics.
fn run(
    paths: &[PathBuf],
    options: &AnalyzeOptions,
    threaded: bool,
) -> (Vec<String>, Vec<u64>, String) {
    let mut flows = Vec::new();
    let mut progress = Vec::new();
    let options = AnalyzeOptions {
        one_thread: !threaded,
        ..options.clone()
    };
    let stats = analyze_with_progress(
        paths,
        &options,
        &mut |flow| flows.push(format!("{flow:?}")),
        &mut |_, _, bytes| progress.push(bytes),
    )
    .unwrap();
    (flows, progress, format!("{stats:?}"))
}

fn assert_same(paths: &[PathBuf], options: &AnalyzeOptions) -> usize {
    let (threaded, progress, threaded_stats) = run(paths, options, true);
    let (one, one_progress, one_stats) = run(paths, options, false);
    assert_eq!(progress, one_progress);
    assert_eq!(threaded.len(), one.len(), "flow counts differ on {paths:?}");
    for (n, (a, b)) in threaded.iter().zip(&one).enumerate() {
        assert_eq!(a, b, "flow #{n} differs on {paths:?}");
    }
    assert_eq!(threaded_stats, one_stats);
    assert!(!progress.is_empty(), "no progress was reported");
    assert!(progress.is_sorted() || paths.len() > 1);
    threaded.len()
}

fn samples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "pcap"))
        .collect();
    paths.sort();
    paths
}

#[test]
fn every_sample_gives_the_same_flows_on_two_threads() {
    let samples = samples();
    assert!(samples.len() >= 14);
    for path in &samples {
        assert!(assert_same(std::slice::from_ref(path), &AnalyzeOptions::default()) > 0);
    }
    // All of them as one run, as rotated files are read.
    assert_same(&samples, &AnalyzeOptions::default());
}

#[test]
fn a_generated_trace_gives_the_same_flows_on_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("synth.pcap");
    let config = Config {
        packets: 200_000,
        seed: 11,
        snaplen: 128,
        concurrent: 2_000,
        ..Config::default()
    };
    let file = std::fs::File::create(&path).unwrap();
    let summary = generate(&config, BufWriter::new(file)).unwrap();
    let paths = [path];
    let flows = assert_same(&paths, &AnalyzeOptions::default());
    assert_eq!(flows as u64, summary.flows);
    // A small table: evictions, counted alike on both paths.
    let mut options = AnalyzeOptions::default();
    options.flows.max_flows = 500;
    assert_same(&paths, &options);
    // A filter and anonymisation on the way in.
    let options = AnalyzeOptions {
        filter: Some("tcp port 443 or ip6".into()),
        anonymize: Some(crate::anonymize::AnonymizeKey([0xab; 32])),
        ..AnalyzeOptions::default()
    };
    assert_same(&paths, &options);
}
