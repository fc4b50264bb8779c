//! `analyze --filter` chooses which flows are listed; the analysis still sees every frame, so a
//! listed flow's verdicts and confidences are the same with and without a filter (issue 11: a
//! port filter once turned "firewall 0.92" into "unknown", and a RST-only filter swapped client
//! and server). Checked on every bundled sample and every capture of the shared lab, with a
//! port, a host and a RST-flag filter each.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use common::*;

/// The shared lab captures with known truth (`../shared/lab-public`, or `$RSTSCOPE_SHARED`).
fn lab_captures() -> Vec<PathBuf> {
    let shared = std::env::var("RSTSCOPE_SHARED").map_or_else(
        |_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"),
        PathBuf::from,
    );
    let dir = shared.join("lab-public");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| {
            panic!(
                "{}: {err}; the filter test needs the shared lab captures (set RSTSCOPE_SHARED)",
                dir.display()
            )
        })
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "pcap"))
        .collect();
    files.sort();
    files
}

/// Per flow id: client, server, and each reset's (frame, verdict, confidence, scenario).
type Judged = BTreeMap<u64, (Value, Value, Vec<(Value, Value, Value, Value)>)>;

fn judged(report: &Value) -> Judged {
    report["flows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|flow| {
            let resets = flow["resets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["frame"].clone(),
                        r["verdict"].clone(),
                        r["confidence"].clone(),
                        r["scenario"].clone(),
                    )
                })
                .collect();
            (
                flow["id"].as_u64().unwrap(),
                (flow["client"].clone(), flow["server"].clone(), resets),
            )
        })
        .collect()
}

/// A port, a host and a RST-flag filter that each select some of this capture's reset flows.
fn filters_for(all: &Value) -> Vec<String> {
    let first_reset_flow = all["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|flow| !flow["resets"].as_array().unwrap().is_empty());
    let Some(flow) = first_reset_flow else {
        return Vec::new();
    };
    vec![
        format!("tcp port {}", flow["server"]["port"]),
        format!("host {}", flow["server"]["ip"].as_str().unwrap()),
        "tcp[tcpflags] & tcp-rst != 0 or ip6[13+40] & 4 != 0".to_string(),
    ]
}

fn check(path: &Path) -> usize {
    let all = analyze_json(&[path]);
    let unfiltered = judged(&all);
    let mut compared = 0;
    for filter in filters_for(&all) {
        let filtered = judged(&analyze_json_with(&["--filter", &filter], &[path]));
        assert!(
            !filtered.is_empty(),
            "{}: '{filter}' selected no flow",
            path.display()
        );
        for (id, seen) in &filtered {
            assert_eq!(
                Some(seen),
                unfiltered.get(id),
                "{}: flow {id} is judged differently with --filter '{filter}'",
                path.display()
            );
            compared += seen.2.len();
        }
    }
    compared
}

#[test]
fn a_filter_changes_which_flows_are_listed_never_their_verdicts() {
    let mut resets = 0;
    for path in samples().iter().chain(lab_captures().iter()) {
        resets += check(path);
    }
    assert!(resets > 150, "only {resets} resets were compared");
}
