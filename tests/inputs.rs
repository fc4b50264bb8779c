//! Inputs as people hand them over (issue 16): `-r FILE` and `capture -i IFACE` as tcpdump
//! has them, a BPF filter written after the files, `-` for standard input, captures
//! compressed with the real gzip, zstd, xz, bzip2 and lz4 (whole, through a pipe, cut off),
//! and the one wording for what is no capture (text, HTML, JSON, a Zeek log, compressed text).
//!
//! The compressors and `ip` come from `scripts/setup --tests`; without them a test fails with
//! a message, it never skips. `capture -i` on an interface runs in a network namespace of its
//! own, as root (as tests/capture.rs does).

// Helpers outside #[test] functions panic on purpose too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_rstscope");

/// The compressors, each with its file suffix.
const COMPRESSORS: [(&str, &str); 5] = [
    ("gzip", "gz"),
    ("zstd", "zst"),
    ("xz", "xz"),
    ("bzip2", "bz2"),
    ("lz4", "lz4"),
];

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name)
}

/// A pcapng capture from the shared corpus (a real one, read by libpcap).
fn shared_pcapng() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/wild/w07-ppa3-windows-client-aborts.pcapng");
    assert!(
        path.exists(),
        "{} is missing: the shared corpus should be beside the repository",
        path.display()
    );
    path
}

fn show(path: &Path) -> String {
    path.display().to_string()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs rstscope with `args`, standard input from `stdin` (or nothing).
fn run(args: &[&str], stdin: Option<&Path>) -> Output {
    let input = match stdin {
        Some(path) => Stdio::from(File::open(path).unwrap()),
        None => Stdio::null(),
    };
    Command::new(BIN).args(args).stdin(input).output().unwrap()
}

/// The JSON report of a run that must succeed.
fn report(args: &[&str], stdin: Option<&Path>) -> Value {
    let mut all = vec!["analyze", "--format", "json"];
    all.extend_from_slice(args);
    let out = run(&all, stdin);
    assert_eq!(
        out.status.code(),
        Some(0),
        "rstscope {all:?}: {}",
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn flows(args: &[&str], stdin: Option<&Path>) -> Value {
    report(args, stdin)["flows"].clone()
}

/// `tool -c source > target`: the real compressor, as people run it.
fn compress(tool: &str, source: &Path, target: &Path) {
    let status = Command::new(tool)
        .arg("-c")
        .arg(source)
        .stdout(File::create(target).unwrap())
        .stderr(Stdio::inherit())
        .status()
        .unwrap_or_else(|err| {
            panic!("cannot run {tool} ({err}): install it (scripts/setup --tests installs gzip, zstd, xz-utils, bzip2 and lz4)")
        });
    assert!(status.success(), "{tool} -c {}", source.display());
}

/// The first `keep` of every `parts` bytes of `source`, as a download cut short leaves it.
fn cut(source: &Path, target: &Path, keep: usize, parts: usize) {
    let bytes = fs::read(source).unwrap();
    fs::write(target, &bytes[..bytes.len() * keep / parts]).unwrap();
}

/// A generated capture big enough that every compressor writes several blocks (lz4 writes
/// blocks of 4 MB, bzip2 of 900 KB), with flows that finish early in it.
fn big_capture() -> &'static Path {
    static CAPTURE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = CAPTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("generated.pcap");
        let config = rstscope_synth::Config {
            packets: 14_000,
            seed: 16,
            concurrent: 100,
            ..rstscope_synth::Config::default()
        };
        let file = std::io::BufWriter::new(File::create(&path).unwrap());
        rstscope_synth::generate(&config, file).unwrap();
        (dir, path)
    });
    path
}

/// Each flow's two ends, to tell flows of two reports apart.
fn flow_ends(flows: &Value) -> BTreeSet<String> {
    flows
        .as_array()
        .unwrap()
        .iter()
        .map(|flow| format!("{} {}", flow["client"], flow["server"]))
        .collect()
}

/// Asserts a one-line error (exit 1, nothing on stdout) and returns it.
#[track_caller]
fn one_line_error(out: &Output) -> String {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("rstscope: "), "{stderr}");
    assert!(out.stdout.is_empty(), "stdout: {}", text(&out.stdout));
    stderr
}

// ---------------------------------------------------------------------------------------------
// -r FILE and the filter after the files

#[test]
fn r_reads_the_files_as_positional_files_do() {
    let (a, b) = (sample("idle-timeout.pcap"), sample("firewall-reject.pcap"));
    let positional = flows(&[&show(&a), &show(&b)], None);
    assert_eq!(flows(&["-r", &show(&a), "-r", &show(&b)], None), positional);
    assert_eq!(
        flows(&["--read", &show(&a), "--read", &show(&b)], None),
        positional
    );
}

#[test]
fn a_filter_after_the_files_is_the_filter_option() {
    let capture = show(&sample("firewall-reject.pcap"));
    let all = flows(&[&capture], None);
    let option = flows(&["--filter", "tcp port 8443", &capture], None);
    assert_eq!(option.as_array().map(Vec::len), Some(1), "{option}");
    assert!(all.as_array().map(Vec::len) > Some(1), "{all}");
    for words in [
        vec!["-r", &capture, "tcp", "port", "8443"],
        vec!["-r", &capture, "tcp port 8443"],
        vec![&capture, "tcp", "port", "8443"],
        vec![&capture, "tcp port 8443"],
    ] {
        assert_eq!(flows(&words, None), option, "{words:?}");
    }
    // Two files, then the filter.
    let other = show(&sample("idle-timeout.pcap"));
    assert_eq!(
        flows(
            &[&capture, &other, "port", "8443", "or", "port", "8000"],
            None
        ),
        flows(
            &["--filter", "port 8443 or port 8000", &capture, &other],
            None
        )
    );
}

#[test]
fn words_that_are_no_filter_after_a_file_are_a_missing_file() {
    let capture = show(&sample("idle-timeout.pcap"));
    let out = run(&["analyze", &capture, "missing.pcap"], None);
    assert!(one_line_error(&out).contains("missing.pcap: no such file"));
    // A file after filter words: the words do not compile with it, so the first is missing.
    let out = run(&["analyze", &capture, "port", "80", &capture], None);
    assert!(one_line_error(&out).contains("port: no such file"));
}

#[test]
fn a_file_among_the_words_after_r_is_named() {
    let capture = show(&sample("idle-timeout.pcap"));
    let other = show(&sample("fin-close.pcap"));
    let out = run(&["analyze", "-r", &capture, &other], None);
    let error = one_line_error(&out);
    assert!(
        error.contains(&format!("{other}: a file after -r FILE")),
        "{error}"
    );
    assert!(error.contains(&format!("-r {other}")), "{error}");
}

#[test]
fn two_filters_are_refused() {
    let capture = show(&sample("idle-timeout.pcap"));
    let out = run(
        &["analyze", "-f", "tcp", "-r", &capture, "port", "80"],
        None,
    );
    assert!(one_line_error(&out).contains("two filters"));
}

#[test]
fn no_file_at_all_is_a_usage_error() {
    let out = run(&["analyze", "--format", "json"], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("-r FILE"),
        "{}",
        text(&out.stderr)
    );
}

// ---------------------------------------------------------------------------------------------
// Standard input

#[test]
fn dash_reads_standard_input_pcap_and_pcapng() {
    for capture in [sample("local-abort.pcap"), shared_pcapng()] {
        let from_file = flows(&[&show(&capture)], None);
        assert!(from_file.as_array().is_some_and(|f| !f.is_empty()));
        assert_eq!(
            flows(&["-"], Some(&capture)),
            from_file,
            "{}",
            capture.display()
        );
        assert_eq!(
            flows(&["-r", "-"], Some(&capture)),
            from_file,
            "{}",
            capture.display()
        );
        let input = &report(&["-"], Some(&capture))["inputs"][0];
        assert_eq!(input["path"], "-");
        assert_eq!(input["complete"], true);
    }
}

#[test]
fn standard_input_and_files_mix_with_a_filter() {
    let capture = sample("firewall-reject.pcap");
    let other = show(&sample("idle-timeout.pcap"));
    assert_eq!(
        flows(&["-", &other, "port", "8443"], Some(&capture)),
        flows(&["--filter", "port 8443", &show(&capture), &other], None)
    );
}

#[test]
fn standard_input_named_twice_is_refused() {
    for args in [&["-", "-"][..], &["-r", "-", "-r", "-"]] {
        let args: Vec<&str> = ["analyze"].iter().chain(args).copied().collect();
        let out = run(&args, Some(&sample("idle-timeout.pcap")));
        assert!(one_line_error(&out).contains("standard input is named twice"));
    }
}

#[test]
fn empty_standard_input_says_so() {
    let out = run(&["analyze", "-"], None);
    let error = one_line_error(&out);
    assert!(
        error.contains("-: not a pcap or pcapng capture: standard input is empty"),
        "{error}"
    );
    assert!(error.contains("tcpdump -w -"), "{error}");
}

#[test]
fn exporting_from_standard_input_is_refused_before_reading() {
    let dir = common::temp_dir();
    let export = dir.path().join("out.pcapng");
    let out = run(
        &["analyze", "--export-pcap", &show(&export), "-"],
        Some(&sample("idle-timeout.pcap")),
    );
    let error = one_line_error(&out);
    assert!(error.contains("-: is standard input"), "{error}");
    assert!(error.contains("twice"), "{error}");
    assert!(!export.exists());
}

// ---------------------------------------------------------------------------------------------
// Compressed captures

#[test]
fn each_compression_reads_as_the_plain_capture() {
    let dir = common::temp_dir();
    for capture in [sample("injected-reset.pcap"), shared_pcapng()] {
        let plain = flows(&[&show(&capture)], None);
        for (tool, suffix) in COMPRESSORS {
            // Named without a suffix: the first bytes tell the compression, not the name.
            let packed = dir.path().join(format!("{tool}-capture"));
            compress(tool, &capture, &packed);
            assert_eq!(flows(&[&show(&packed)], None), plain, "{tool}");
            assert_eq!(
                flows(&["-"], Some(&packed)),
                plain,
                "{tool} on standard input"
            );
            let named = dir.path().join(format!("capture.{suffix}"));
            fs::rename(&packed, &named).unwrap();
            assert_eq!(flows(&["-r", &show(&named)], None), plain, "{tool}");
        }
    }
}

/// `cat a.gz b.gz` decompresses to the two parts, one after the other, with each tool.
#[test]
fn concatenated_members_read_as_one_stream() {
    let dir = common::temp_dir();
    let capture = sample("unread-data.pcap");
    let bytes = fs::read(&capture).unwrap();
    let (first, second) = bytes.split_at(bytes.len() / 2);
    let plain = flows(&[&show(&capture)], None);
    for (tool, suffix) in COMPRESSORS {
        let mut joined = Vec::new();
        for (n, part) in [first, second].into_iter().enumerate() {
            let part_path = dir.path().join(format!("part{n}"));
            fs::write(&part_path, part).unwrap();
            let packed = dir.path().join(format!("part{n}.{suffix}"));
            compress(tool, &part_path, &packed);
            joined.extend(fs::read(&packed).unwrap());
        }
        let path = dir.path().join(format!("joined.pcap.{suffix}"));
        fs::write(&path, joined).unwrap();
        assert_eq!(flows(&[&show(&path)], None), plain, "{tool}");
    }
}

#[test]
fn a_compressed_capture_through_a_pipe_is_read_once() {
    let dir = common::temp_dir();
    let capture = sample("peer-abort.pcap");
    let packed = dir.path().join("capture.pcap.zst");
    compress("zstd", &capture, &packed);
    let fifo = dir.path().join("capture.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let mut writer = Command::new("sh")
        .arg("-c")
        .arg(format!("cat '{}' > '{}'", packed.display(), fifo.display()))
        .spawn()
        .unwrap();
    let out = Command::new("timeout")
        .args(["20", BIN, "analyze", "--format", "json", &show(&fifo)])
        .output()
        .unwrap();
    let wrote = writer.wait().unwrap();
    assert!(wrote.success());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["flows"], flows(&[&show(&capture)], None));
}

#[test]
fn a_cut_off_compressed_capture_reports_the_flows_before_the_cut() {
    let dir = common::temp_dir();
    let capture = big_capture();
    let whole = report(&[&show(capture)], None);
    let whole_ends = flow_ends(&whole["flows"]);
    let packets = whole["inputs"][0]["packets"].as_u64().unwrap();
    for (tool, suffix) in COMPRESSORS {
        let packed = dir.path().join(format!("capture.pcap.{suffix}"));
        compress(tool, capture, &packed);
        let broken = dir.path().join(format!("cut.pcap.{suffix}"));
        cut(&packed, &broken, 3, 5);
        for stdin in [false, true] {
            let out = if stdin {
                run(&["analyze", "--format", "json", "-"], Some(&broken))
            } else {
                run(&["analyze", "--format", "json", &show(&broken)], None)
            };
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(3), "{tool}: {stderr}");
            assert_eq!(stderr.lines().count(), 1, "{tool}: one warning: {stderr}");
            assert!(
                stderr.contains(&format!("{tool} stream cut off after")),
                "{tool}: {stderr}"
            );
            assert!(
                stderr.contains("the frames before it were analysed"),
                "{tool}: {stderr}"
            );
            let report: Value = serde_json::from_slice(&out.stdout).unwrap();
            let input = &report["inputs"][0];
            assert_eq!(input["complete"], false, "{tool}");
            let read = input["packets"].as_u64().unwrap();
            assert!(
                read > packets / 4 && read < packets,
                "{tool}: {read} of {packets}"
            );
            let ends = flow_ends(&report["flows"]);
            assert!(ends.len() > 100, "{tool}: {} flows", ends.len());
            assert!(
                ends.is_subset(&whole_ends),
                "{tool}: flows the whole capture lacks"
            );
        }
    }
}

#[test]
fn a_cut_off_compressed_pcapng_warns_the_same_way() {
    let dir = common::temp_dir();
    let packed = dir.path().join("capture.pcapng.gz");
    compress("gzip", &shared_pcapng(), &packed);
    let broken = dir.path().join("cut.pcapng.gz");
    cut(&packed, &broken, 1, 2);
    let out = run(&["analyze", "--format", "json", &show(&broken)], None);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("gzip stream cut off after"), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["inputs"][0]["packets"].as_u64() > Some(0));
}

#[test]
fn a_corrupt_compressed_capture_names_the_compression() {
    let dir = common::temp_dir();
    let packed = dir.path().join("capture.pcap.gz");
    compress("gzip", big_capture(), &packed);
    let bytes = fs::read(&packed).unwrap();
    // Its CRC-32 (RFC 1952 §2.3.1): every frame decompresses, then gzip says it is corrupt.
    let mut bad_crc = bytes.clone();
    let crc_at = bad_crc.len() - 8;
    bad_crc[crc_at] ^= 0xff;
    let bad_crc_path = dir.path().join("bad-crc.pcap.gz");
    fs::write(&bad_crc_path, &bad_crc).unwrap();
    let whole = report(&[&show(big_capture())], None);
    let out = run(&["analyze", "--format", "json", &show(&bad_crc_path)], None);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("gzip stream corrupt after"), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["inputs"][0]["packets"],
        whole["inputs"][0]["packets"]
    );
    // Garbage in the middle of the deflate stream: the capture read from it breaks first.
    let mut garbled = bytes;
    let middle = garbled.len() / 2;
    for byte in &mut garbled[middle..middle + 64] {
        *byte ^= 0x5a;
    }
    let garbled_path = dir.path().join("garbled.pcap.gz");
    fs::write(&garbled_path, &garbled).unwrap();
    let out = run(&["analyze", "--format", "json", &show(&garbled_path)], None);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("gzip"), "names the compression: {stderr}");
    assert!(stderr.contains("corrupt"), "{stderr}");
}

#[test]
fn a_compressed_file_cut_before_its_capture_header_is_one_line() {
    let dir = common::temp_dir();
    let packed = dir.path().join("capture.pcap.xz");
    compress("xz", &sample("idle-timeout.pcap"), &packed);
    let bytes = fs::read(&packed).unwrap();
    // The stream header and a little of the first block: no byte of the capture comes out.
    let broken = dir.path().join("cut.pcap.xz");
    fs::write(&broken, &bytes[..24]).unwrap();
    let error = one_line_error(&run(&["analyze", &show(&broken)], None));
    assert!(
        error.contains("xz stream cut off after 24 bytes"),
        "{error}"
    );
    assert!(error.contains("nothing was read"), "{error}");
}

#[test]
fn export_rereads_a_compressed_capture() {
    let dir = common::temp_dir();
    let packed = dir.path().join("capture.pcap.bz2");
    compress("bzip2", &sample("idle-timeout.pcap"), &packed);
    let export = dir.path().join("evidence.pcapng");
    let out = run(
        &["analyze", "--export-pcap", &show(&export), &show(&packed)],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let verdicts = |flows: &Value| -> Vec<Value> {
        flows
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|flow| flow["resets"].as_array().cloned().unwrap_or_default())
            .map(|reset| reset["verdict"].clone())
            .collect()
    };
    assert_eq!(
        verdicts(&flows(&[&show(&export)], None)),
        verdicts(&flows(&[&show(&packed)], None))
    );
}

// ---------------------------------------------------------------------------------------------
// What is no capture

#[test]
fn what_is_no_capture_is_named_with_what_to_do() {
    let dir = common::temp_dir();
    let cases: [(&str, &[u8], &str, &str); 6] = [
        (
            "tcpdump.txt",
            b"13:31:25.913871 IP 198.51.100.7.8000 > 192.0.2.10.52646: Flags [R], seq 1, win 0, length 0\n",
            "it is text (it starts with \"13:31:25.913871 IP 198.51.100.7.8000 > 1...\")",
            "tcpdump -w FILE",
        ),
        (
            "download.pcap",
            b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head></html>\n",
            "it is an HTML page",
            "download the capture file itself",
        ),
        (
            "export.json",
            b"[\n  {\n    \"_index\": \"packets-2024-01-01\",\n    \"_source\": {}\n  }\n]\n",
            "it is JSON text",
            "pass the capture it was made from",
        ),
        (
            "conn.log",
            b"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#path\tconn\n",
            "it is a Zeek log (its first line is #separator)",
            "zeek -r FILE",
        ),
        (
            "notes.txt",
            b"the reset came at 13:31, see the attached capture\n",
            "it is text",
            "tcpdump -w FILE",
        ),
        (
            "report.json",
            b"{\"schema\": \"rstscope.report/1\", \"flows\": []}",
            "it is an rstscope JSON report",
            "the capture the report was made from",
        ),
    ];
    for (name, bytes, looks, fix) in cases {
        let path = dir.path().join(name);
        fs::write(&path, bytes).unwrap();
        let error = one_line_error(&run(&["analyze", &show(&path)], None));
        let expected = format!("{}: not a pcap or pcapng capture: {looks}", show(&path));
        assert!(error.contains(&expected), "{name}: {error}");
        assert!(error.contains(fix), "{name}: {error}");
        assert!(
            !error.contains("editcap"),
            "{name}: no editcap advice: {error}"
        );
        // The same from standard input, and compressed.
        let error = one_line_error(&run(&["analyze", "-"], Some(&path)));
        assert!(
            error.contains(&format!("-: not a pcap or pcapng capture: {looks}")),
            "{error}"
        );
        let packed = dir.path().join(format!("{name}.gz"));
        compress("gzip", &path, &packed);
        let error = one_line_error(&run(&["analyze", &show(&packed)], None));
        let inner = looks.trim_start_matches("it is ");
        let expected = format!(
            "{}: not a pcap or pcapng capture: its gzip stream holds {inner}",
            show(&packed)
        );
        assert!(error.contains(&expected), "{name}.gz: {error}");
    }
}

#[test]
fn compressed_nothing_and_archives_are_named() {
    let dir = common::temp_dir();
    let empty = dir.path().join("empty");
    fs::write(&empty, b"").unwrap();
    let packed = dir.path().join("empty.gz");
    compress("gzip", &empty, &packed);
    let error = one_line_error(&run(&["analyze", &show(&packed)], None));
    assert!(error.contains("its gzip stream holds nothing"), "{error}");
    // A capture compressed twice.
    let once = dir.path().join("capture.pcap.zst");
    compress("zstd", &sample("idle-timeout.pcap"), &once);
    let twice = dir.path().join("capture.pcap.zst.xz");
    compress("xz", &once, &twice);
    let error = one_line_error(&run(&["analyze", &show(&twice)], None));
    assert!(
        error.contains("its xz stream holds a zstd stream (it was compressed twice)"),
        "{error}"
    );
    // A tar of captures, gzipped, as captures are often sent.
    let tarball = dir.path().join("captures.tar.gz");
    let tarred = Command::new("tar")
        .arg("czf")
        .arg(&tarball)
        .arg("-C")
        .arg(sample("").as_os_str())
        .args(["idle-timeout.pcap", "fin-close.pcap"])
        .status()
        .unwrap();
    assert!(tarred.success());
    let error = one_line_error(&run(&["analyze", &show(&tarball)], None));
    assert!(
        error.contains("its gzip stream holds a tar archive; extract it"),
        "{error}"
    );
}

// ---------------------------------------------------------------------------------------------
// capture -i

#[test]
fn capture_i_names_the_interface_as_the_positional_does() {
    let positional = run(&["capture", "nosuch0", "--duration", "1"], None);
    let flag = run(&["capture", "-i", "nosuch0", "--duration", "1"], None);
    let error = one_line_error(&flag);
    assert!(error.contains("no interface named nosuch0"), "{error}");
    assert_eq!(flag.status.code(), positional.status.code());
    assert_eq!(text(&flag.stderr), text(&positional.stderr));
}

/// `capture -i lo tcp port N` in a namespace of its own: refused connections to port N are
/// captured and reported, and the filter after `-i IFACE` kept every other port out.
#[test]
fn capture_i_with_filter_words_captures_on_that_interface() {
    let euid = Command::new("id").arg("-u").output().unwrap();
    assert_eq!(
        text(&euid.stdout).trim(),
        "0",
        "root is needed to capture in a network namespace: run `sudo -E cargo test --test inputs`"
    );
    let ns = format!("rsc{}-inputs", std::process::id());
    let ip = |args: &[&str]| {
        let out = Command::new("ip")
            .args(args)
            .output()
            .unwrap_or_else(|err| {
                panic!("cannot run ip ({err}): install iproute2 (scripts/setup)")
            });
        assert!(out.status.success(), "ip {args:?}: {}", text(&out.stderr));
    };
    let _ = Command::new("ip").args(["netns", "del", &ns]).output();
    ip(&["netns", "add", &ns]);
    let _cleanup = Namespace(ns.clone());
    ip(&["-n", &ns, "link", "set", "lo", "up"]);
    let mut capture = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns,
            BIN,
            "capture",
            "--no-kernel",
            "-i",
            "lo",
        ])
        .args([
            "-F",
            "json",
            "--duration",
            "8",
            "--count",
            "4",
            "tcp",
            "port",
            "9",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(8);
    // Connections to a closed port (9, and 7 which the filter leaves out) until it stops.
    while capture.try_wait().unwrap().is_none() && Instant::now() < until {
        for port in [7, 9] {
            let script = format!("exec 3<>/dev/tcp/127.0.0.1/{port}");
            let _ = Command::new("ip")
                .args(["netns", "exec", &ns, "bash", "-c", &script])
                .stderr(Stdio::null())
                .status();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = capture.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let flows = report["flows"].as_array().unwrap();
    assert!(!flows.is_empty(), "{report}");
    for flow in flows {
        assert_eq!(
            flow["server"]["port"], 9,
            "only port 9 passed the filter: {flow}"
        );
    }
    assert_eq!(report["inputs"][0]["path"], "lo");
}

/// Removes a network namespace, and whatever still runs in it, on drop.
struct Namespace(String);

impl Drop for Namespace {
    fn drop(&mut self) {
        if let Ok(pids) = Command::new("ip").args(["netns", "pids", &self.0]).output() {
            for pid in text(&pids.stdout).split_whitespace() {
                let _ = Command::new("kill").args(["-KILL", pid]).status();
            }
        }
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

// ---------------------------------------------------------------------------------------------
// compare

/// `compare` reads each capture twice: compressed files it decompresses twice, standard input
/// it refuses at once.
#[test]
fn compare_reads_compressed_captures_and_refuses_standard_input() {
    let pair =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/lab-pairs/p03-peer-abort-nat");
    let (a, b) = (pair.join("a.pcap"), pair.join("b.pcap"));
    assert!(a.exists() && b.exists(), "{} is missing", pair.display());
    let dir = common::temp_dir();
    let (a_packed, b_packed) = (dir.path().join("a.pcap.gz"), dir.path().join("b.pcap.xz"));
    compress("gzip", &a, &a_packed);
    compress("xz", &b, &b_packed);
    let verdicts = |args: &[&str]| -> Vec<(Value, Value)> {
        let out = run(&[&["compare", "--format", "json"][..], args].concat(), None);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        report["flows"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|flow| flow["resets"].as_array().cloned().unwrap_or_default())
            .map(|reset| (reset["verdict"].clone(), reset["scenario"].clone()))
            .collect()
    };
    let plain = verdicts(&[&show(&a), &show(&b)]);
    assert!(!plain.is_empty());
    assert_eq!(verdicts(&[&show(&a_packed), &show(&b_packed)]), plain);
    let error = one_line_error(&run(&["compare", &show(&a_packed), "-"], Some(&b_packed)));
    assert!(
        error.contains(
            "-: is standard input, which can be read only once, and compare reads its inputs twice"
        ),
        "{error}"
    );
}
