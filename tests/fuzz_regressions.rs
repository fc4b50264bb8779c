//! Replays the fuzz corpus and every saved fuzz finding on stable Rust, without libFuzzer:
//! each file under `fuzz/regressions/<target>/` and up to `MAX_CORPUS` files of
//! `fuzz/corpus/<target>/` go through the target's own body (`fuzz/fuzz_targets/common.rs`,
//! shared with the fuzz binaries), which must return without panicking.

// Helpers outside #[test] functions panic on purpose too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../fuzz/fuzz_targets/common.rs"]
mod fuzz;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// Corpus files replayed per target, so the test runs in seconds; findings are always replayed.
const MAX_CORPUS: usize = 300;

/// The inputs to replay for `target`: every finding, then the first corpus files by name.
fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let files = |dir: PathBuf| -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = entries
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.is_file())
            .collect();
        files.sort();
        files
    };
    let mut all = files(root.join("regressions").join(target));
    all.extend(
        files(root.join("corpus").join(target))
            .into_iter()
            .take(MAX_CORPUS),
    );
    all
}

/// Runs `body` on every input of `target`; fails naming each input that panicked.
fn replay(target: &str, body: impl Fn(&[u8])) {
    let inputs = inputs(target);
    assert!(!inputs.is_empty(), "no corpus for fuzz target {target}");
    let failed: Vec<String> = inputs
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).unwrap();
            catch_unwind(AssertUnwindSafe(|| body(&data))).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(failed.is_empty(), "{target} panicked on: {failed:#?}");
}

#[test]
fn decode_survives_its_corpus_and_findings() {
    replay("decode", fuzz::decode_target);
}

#[test]
fn flow_survives_its_corpus_and_findings() {
    replay("flow", fuzz::flow_target);
}

#[test]
fn capture_file_survives_its_corpus_and_findings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input.cap");
    replay("capture_file", |data| {
        fuzz::capture_file_target(data, &path)
    });
}
