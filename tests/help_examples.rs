//! Every example the help prints runs as written. Each command's `--help` is read, every line
//! of its EXAMPLES that starts with `rstscope` (or `sudo rstscope`) is run by bash in a
//! scratch directory that holds the captures it names (copies of a sample, compressed where
//! the name says so), with `rstscope` standing for the binary under test. Capture examples run
//! inside a network namespace that has an `eth0` (a veth), and are stopped with Ctrl-C (SIGINT) after
//! two seconds, as a user stops them. A line that starts with another tool (`sudo tcpdump ...
//! | rstscope analyze -`) is not run here: it needs traffic on a real interface, and
//! tests/inputs.rs reads captures from standard input. Needs root, like the other live tests,
//! and fails (never skips) without it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_rstscope");
const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/firewall-reject.pcap");
const COMMANDS: &[&str] = &[
    "analyze",
    "capture",
    "compare",
    "interfaces",
    "completions",
    "man",
];

/// The example lines of one command's long help.
fn examples(command: &str) -> Vec<String> {
    let out = Command::new(BIN)
        .args([command, "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let mut lines = Vec::new();
    let mut inside = false;
    for line in help.lines() {
        if line.trim_end() == "EXAMPLES:" {
            inside = true;
            continue;
        }
        if inside {
            let example = line.trim();
            if example.is_empty() || !line.starts_with(' ') {
                inside = false;
            } else if example.starts_with("rstscope ") || example.starts_with("sudo rstscope ") {
                lines.push(example.to_string());
            }
        }
    }
    lines
}

/// Puts a capture under every name the example reads, compressed by the name's suffix, and
/// makes the directories its redirections write into.
fn prepare(dir: &Path, example: &str) {
    let mut previous = "";
    for word in example.split_whitespace() {
        let word = word.trim_matches(|c| c == '\'' || c == '"');
        let output = matches!(
            previous,
            "-o" | "--output" | "-w" | "--write" | "--export-pcap" | ">"
        );
        if previous == ">"
            && let Some(parent) = dir.join(word.trim_start_matches("~/")).parent()
        {
            std::fs::create_dir_all(parent).unwrap();
        }
        let is_capture = [".pcap", ".pcapng", ".cap"]
            .iter()
            .any(|ext| word.contains(ext));
        if is_capture && !output && !word.starts_with('-') {
            let path = dir.join(word);
            let compressor = match path.extension().and_then(|e| e.to_str()) {
                Some("gz") => Some("gzip"),
                Some("zst") => Some("zstd"),
                Some("xz") => Some("xz"),
                Some("bz2") => Some("bzip2"),
                Some("lz4") => Some("lz4"),
                _ => None,
            };
            let plain = std::fs::read(SAMPLE).unwrap();
            match compressor {
                None => std::fs::write(&path, plain).unwrap(),
                Some(tool) => {
                    let out = Command::new(tool).args(["-c", SAMPLE]).output().unwrap();
                    assert!(out.status.success(), "{tool} failed");
                    std::fs::write(&path, out.stdout).unwrap();
                }
            }
        }
        previous = word;
    }
}

/// Runs one example by bash in `dir` (inside `netns` when given), with `rstscope` and `sudo`
/// as shell functions; returns (exit status, stderr).
fn run(dir: &Path, example: &str, netns: Option<&str>) -> (Option<i32>, String) {
    let script = format!(
        "set -o pipefail; rstscope() {{ {BIN} \"$@\"; }}; sudo() {{ \"$@\"; }}; export HOME={home}; cd {home}; {example}",
        home = dir.display(),
    );
    let mut command = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args([
                "netns",
                "exec",
                ns,
                "timeout",
                "--preserve-status",
                "-s",
                "INT",
                "2",
            ]);
            c.args(["bash", "-c", &script]);
            c
        }
        None => {
            let mut c = Command::new("bash");
            c.args(["-c", &script]);
            c
        }
    };
    let out = command.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A namespace with an interface named eth0 (one end of a veth pair, up), removed on drop.
struct Namespace(String);

impl Namespace {
    fn new() -> Namespace {
        let name = format!("rsx{}", std::process::id());
        let ip = |args: &[&str]| {
            let status = Command::new("ip").args(args).status().unwrap();
            assert!(status.success(), "ip {args:?} (these tests need root)");
        };
        ip(&["netns", "add", &name]);
        let ns = Namespace(name);
        ip(&["-n", &ns.0, "link", "set", "lo", "up"]);
        ip(&[
            "-n", &ns.0, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p",
        ]);
        ip(&["-n", &ns.0, "link", "set", "eth0p", "up"]);
        ip(&["-n", &ns.0, "addr", "add", "192.0.2.1/24", "dev", "eth0"]);
        ip(&["-n", &ns.0, "link", "set", "eth0", "up"]);
        ns
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

#[test]
fn every_example_in_the_help_runs() {
    let ns = Namespace::new();
    let mut ran = 0;
    let mut failures = Vec::new();
    for command in COMMANDS {
        for example in examples(command) {
            let dir = tempfile::tempdir().unwrap();
            // The capture drops its privileges after opening the interface; let it write here.
            Command::new("chmod")
                .args(["1777", &dir.path().display().to_string()])
                .status()
                .unwrap();
            prepare(dir.path(), &example);
            let live = *command == "capture";
            let (status, stderr) = run(dir.path(), &example, live.then_some(ns.0.as_str()));
            ran += 1;
            if status != Some(0) {
                failures.push(format!("{example}\n    exit {status:?}: {stderr}"));
            }
        }
    }
    assert!(ran >= 12, "only {ran} examples found in the help");
    assert!(
        failures.is_empty(),
        "examples that fail:\n{}",
        failures.join("\n")
    );
}
