//! The command line as a user meets it: version, help, usage errors, the table and its
//! summary, `--all`, `--format jsonl`, `-o FILE`, `--filter`, a closed pipe, and plain output
//! when stdout is not a terminal.

// Helpers outside #[test] functions panic on purpose too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

const BIN: &str = env!("CARGO_BIN_EXE_rstscope");

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("rstscope wrote non-UTF-8 text")
}

fn show(path: &Path) -> String {
    path.display().to_string()
}

/// Asserts exit 0 with nothing on stderr and returns stdout.
fn success(out: &Output) -> String {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert!(stderr.is_empty(), "unexpected stderr: {stderr}");
    text(&out.stdout)
}

/// A capture of three TCP flows and one UDP datagram, in time order (19 frames, 18 TCP):
/// - frames 1-7: 192.0.2.10:51514 → 198.51.100.7:443, established, then reset by the server
///   (frame 7, RST+ACK, TTL 57);
/// - frame 8: a UDP datagram (not TCP);
/// - frames 9-18: 192.0.2.11:40000 → 203.0.113.5:80, closed by FIN;
/// - frame 19: 192.0.2.12:40001 → 203.0.113.6:22, a lone SYN (not closed).
fn three_flow_capture(dir: &Path) -> PathBuf {
    let mut rst = Conversation::new("192.0.2.10:51514", "198.51.100.7:443");
    rst.handshake()
        .client_data(100)
        .server_ack()
        .server_data(200)
        .server_rst();
    let mut fin = Conversation::new("192.0.2.11:40000", "203.0.113.5:80");
    fin.wait(2_000_000_000).handshake().exchange_and_close();
    let mut syn = Conversation::new("192.0.2.12:40001", "203.0.113.6:22");
    syn.wait(4_000_000_000).syn();
    let udp = ethernet(&udp_packet(
        [192, 0, 2, 53],
        [198, 51, 100, 53],
        5353,
        53,
        b"not tcp",
    ));
    let mut frames = rst.ethernet_frames();
    frames.push((1_700_000_001_000_000_000, udp));
    frames.extend(fin.ethernet_frames());
    frames.extend(syn.ethernet_frames());
    assert_eq!(frames.len(), 19);
    assert!(frames.windows(2).all(|w| w[0].0 < w[1].0), "time order");
    let path = dir.join("three-flows.pcap");
    write_pcap(&path, DLT_EN10MB, &frames);
    path
}

const RST_CLIENT: &str = "192.0.2.10:51514";
const RST_SERVER: &str = "198.51.100.7:443";
const FIN_CLIENT: &str = "192.0.2.11:40000";
const SYN_CLIENT: &str = "192.0.2.12:40001";

/// The paragraph that starts with `start` (a wrapped paragraph's lines joined by spaces).
fn paragraph(table: &str, start: &str) -> String {
    let lines: Vec<&str> = table.lines().collect();
    let first = lines
        .iter()
        .position(|line| line.starts_with(start))
        .unwrap_or_else(|| panic!("no paragraph starts with {start}:\n{table}"));
    lines[first..]
        .iter()
        .take_while(|line| !line.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first line mentioning `needle` in the flows table (after its header; the diagnosis
/// above it names addresses too), or anywhere when there is no flows table.
fn table_row<'a>(table: &'a str, needle: &str) -> &'a str {
    let lines: Vec<&str> = table.lines().collect();
    let start = lines
        .iter()
        .position(|line| line.starts_with("Flow "))
        .unwrap_or(0);
    lines[start..]
        .iter()
        .copied()
        .find(|line| line.contains(needle))
        .unwrap_or_else(|| panic!("no table row mentions {needle}:\n{table}"))
}

// ---------------------------------------------------------------------------------------------
// Version, help, usage errors.

#[test]
fn version_prints_name_and_version() {
    let out = rstscope(&["--version"]);
    assert_eq!(success(&out), "rstscope 0.1.0\n");
    let out = rstscope(&["-V"]);
    assert_eq!(success(&out), "rstscope 0.1.0\n");
}

fn assert_describes_exit_statuses(help: &str) {
    assert!(help.contains("EXIT STATUS"), "help:\n{help}");
    for (code, words) in [
        ("0", "report was written"),
        ("1", "error"),
        ("2", "command line"),
        ("3", "cut off"),
    ] {
        assert!(
            help.lines().any(|line| {
                let line = line.trim_start();
                line.starts_with(code) && line.contains(words)
            }),
            "help should explain exit status {code} ({words}):\n{help}"
        );
    }
}

#[test]
fn top_level_help_names_the_command_and_exit_statuses() {
    let help = success(&rstscope(&["--help"]));
    assert!(help.contains("Usage: rstscope"), "help:\n{help}");
    assert!(help.contains("analyze"), "help:\n{help}");
    assert_describes_exit_statuses(&help);
}

#[test]
fn analyze_help_describes_every_option_and_exit_status() {
    let from_help = success(&rstscope(&["help", "analyze"]));
    let from_flag = success(&rstscope(&["analyze", "--help"]));
    assert_eq!(from_help, from_flag, "two ways to ask, one answer");
    for help in [&from_help, &from_flag] {
        assert!(help.contains("Usage: rstscope analyze"), "help:\n{help}");
        for option in [
            "--filter <EXPR>",
            "--format <FORMAT>",
            "--all",
            "--output <FILE>",
            "--idle-timeout <SECS>",
            "--max-flows <N>",
        ] {
            assert!(help.contains(option), "help should list {option}:\n{help}");
        }
        for value in [
            "table",
            "json",
            "jsonl",
            "rstscope.report/1",
            "tcp port 443",
        ] {
            assert!(help.contains(value), "help should mention {value}:\n{help}");
        }
        assert_describes_exit_statuses(help);
    }
}

#[test]
fn usage_errors_exit_2() {
    let dir = temp_dir();
    let capture = three_flow_capture(dir.path());
    let capture = show(&capture);
    let cases: Vec<Vec<&str>> = vec![
        vec![],
        vec!["analyze"],
        vec!["frobnicate"],
        vec!["analyze", "--no-such-option", &capture],
        vec!["analyze", "--format", "xml", &capture],
        vec!["analyze", "--idle-timeout", "0", &capture],
        vec!["analyze", "--idle-timeout", "soon", &capture],
        vec!["analyze", "--max-flows", "0", &capture],
        vec!["analyze", "--max-flows", "-5", &capture],
        vec!["analyze", "--filter"],
    ];
    for args in cases {
        let out = rstscope(&args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: stderr: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: usage errors go to stderr");
        assert!(
            stderr.starts_with("error:") || stderr.contains("Usage: rstscope"),
            "{args:?}: a usage error says what was wrong: {stderr}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The table.

#[test]
fn the_default_table_lists_only_flows_with_resets() {
    let dir = temp_dir();
    let capture = three_flow_capture(dir.path());
    let table = success(&rstscope(&["analyze", &show(&capture)]));
    let row = table_row(&table, RST_CLIENT);
    for cell in [RST_SERVER, "#7 server", "peer", "peer_abort"] {
        assert!(
            row.contains(cell),
            "the RST flow's row lacks {cell:?}: {row}"
        );
    }
    assert!(table.starts_with("Diagnosis: "), "{table}");
    // --wide adds the state, history, close, duration, packets, flags, TTL and the signals.
    let wide = success(&rstscope(&["analyze", "--wide", &show(&capture)]));
    let row = table_row(&wide, RST_CLIENT);
    for cell in [
        RST_SERVER,
        "RSTR",
        "rst",
        "3/4",
        "#7 server RA ttl 57",
        "peer",
        "peer_abort",
    ] {
        assert!(
            row.contains(cell),
            "the RST flow's wide row lacks {cell:?}: {row}"
        );
    }
    assert!(!table.contains(FIN_CLIENT), "FIN flow listed:\n{table}");
    assert!(
        !table.contains(SYN_CLIENT),
        "unclosed flow listed:\n{table}"
    );
}

#[test]
fn all_lists_every_flow() {
    let dir = temp_dir();
    let capture = three_flow_capture(dir.path());
    for flag in ["--all", "-a"] {
        let table = success(&rstscope(&["analyze", flag, &show(&capture)]));
        let rst = table_row(&table, RST_CLIENT);
        assert!(rst.contains("RSTR") && rst.contains("peer_abort"), "{rst}");
        let fin = table_row(&table, FIN_CLIENT);
        assert!(fin.contains("SF"), "{fin}");
        let syn = table_row(&table, SYN_CLIENT);
        assert!(syn.contains("S0"), "{syn}");
        let wide = success(&rstscope(&["analyze", flag, "--wide", &show(&capture)]));
        let fin = table_row(&wide, FIN_CLIENT);
        assert!(fin.contains("SF") && fin.contains("fin"), "{fin}");
        let syn = table_row(&wide, SYN_CLIENT);
        assert!(syn.contains("S0") && syn.contains("none"), "{syn}");
    }
}

#[test]
fn the_summary_paragraph_counts_packets_flows_and_closes() {
    let dir = temp_dir();
    let capture = three_flow_capture(dir.path());
    for args in [
        vec!["analyze", capture.to_str().unwrap()],
        vec!["analyze", "--all", capture.to_str().unwrap()],
    ] {
        let table = success(&rstscope(&args));
        let summary = paragraph(&table, "Read ");
        for part in [
            "Read 19 packets from 1 input",
            "(18 TCP;",
            "1 not TCP",
            "3 TCP flows:",
            "1 closed by FIN",
            "1 by RST",
            "1 not closed",
            "1 RST segment.",
        ] {
            assert!(summary.contains(part), "summary lacks {part:?}: {summary}");
        }
    }
}

#[test]
fn a_capture_without_resets_says_so() {
    let dir = temp_dir();
    let mut fin = Conversation::new("192.0.2.11:40000", "203.0.113.5:80");
    fin.handshake().exchange_and_close();
    let path = dir.path().join("fin.pcap");
    write_pcap(&path, DLT_EN10MB, &fin.ethernet_frames());
    let table = success(&rstscope(&["analyze", &show(&path)]));
    assert!(table.starts_with("No flows to list."), "table:\n{table}");
    assert!(!table.contains(FIN_CLIENT), "table:\n{table}");
    let summary = paragraph(&table, "Read ");
    assert!(summary.contains("Read 10 packets"), "{summary}");
    assert!(summary.contains("1 TCP flow:"), "{summary}");
    assert!(summary.contains("0 RST segments"), "{summary}");
}

/// Issue 11: the filter chooses which flows are listed; the analysis still reads every frame
/// (a verdict compares a reset with its host's other packets), and counts what did not match.
#[test]
fn a_filter_chooses_the_flows_listed_and_every_frame_is_analysed() {
    let dir = temp_dir();
    let capture = three_flow_capture(dir.path());
    let out = rstscope(&[
        "analyze",
        "--format",
        "json",
        "--filter",
        "tcp port 443",
        &show(&capture),
    ]);
    let report: serde_json::Value = serde_json::from_str(&success(&out)).unwrap();
    assert_eq!(report["inputs"][0]["packets"], 19);
    assert_eq!(report["inputs"][0]["filtered_packets"], 12);
    assert_eq!(report["inputs"][0]["tcp_packets"], 18);
    assert_eq!(report["summary"]["tcp_flows"], 1);
    assert_eq!(report["summary"]["flows_not_selected"], 2);
    assert_eq!(report["flows"].as_array().map(Vec::len), Some(1));
    assert_eq!(report["flows"][0]["client"]["port"], 51514);
    // Frame numbers still count every frame of the file.
    assert_eq!(report["flows"][0]["resets"][0]["frame"], 7);
}

// ---------------------------------------------------------------------------------------------
// JSON Lines.

#[test]
fn jsonl_prints_one_flow_object_per_line() {
    let dir = temp_dir();
    let capture = three_flow_capture(dir.path());
    for extra in [None, Some("--all")] {
        let mut args = vec!["analyze", "--format", "jsonl"];
        args.extend(extra);
        let capture = show(&capture);
        args.push(&capture);
        let stdout = success(&rstscope(&args));
        assert!(stdout.ends_with('\n'), "{stdout}");
        let mut lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(
            lines.len(),
            4,
            "one line per flow, then the summary:\n{stdout}"
        );
        // The last line is the summary record, marked as one.
        let summary: serde_json::Value =
            serde_json::from_str(lines.pop().unwrap_or_default()).unwrap();
        assert_eq!(summary["record"], "summary", "{summary}");
        assert_eq!(summary["summary"]["tcp_flows"], 3);
        assert_eq!(summary["inputs"][0]["packets"], 19);
        assert!(summary["warnings"].is_array());
        let mut ports = Vec::new();
        for line in lines {
            let flow: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|err| panic!("not one JSON value per line ({err}): {line}"));
            let object = flow.as_object().expect("each line is a JSON object");
            assert!(!object.contains_key("schema"), "a flow, not a report");
            for key in ["id", "client", "server", "conn_state", "history", "resets"] {
                assert!(object.contains_key(key), "flow lacks {key}: {line}");
            }
            ports.push(flow["client"]["port"].as_u64().unwrap());
            if flow["client"]["port"] == 51514 {
                assert_eq!(flow["resets"][0]["flags"], "RA");
            }
        }
        ports.sort_unstable();
        assert_eq!(ports, vec![40000, 40001, 51514]);
    }
}

// ---------------------------------------------------------------------------------------------
// -o FILE.

#[test]
fn output_goes_to_the_file_and_nothing_to_stdout() {
    let dir = temp_dir();
    let capture = show(&three_flow_capture(dir.path()));
    for format in ["table", "json", "jsonl"] {
        let expected = success(&rstscope(&[
            "analyze", "--all", "--format", format, &capture,
        ]));
        assert!(!expected.is_empty());
        for flag in ["-o", "--output"] {
            let file = dir.path().join(format!("out-{format}{flag}.txt"));
            // A stale file is replaced, not appended to.
            fs::write(&file, "stale contents\n").unwrap();
            let out = rstscope(&[
                "analyze",
                "--all",
                "--format",
                format,
                flag,
                &show(&file),
                &capture,
            ]);
            assert_eq!(success(&out), "", "{format} {flag}: stdout must stay empty");
            let written = fs::read_to_string(&file).unwrap();
            if format == "json" {
                // The report records its own command line, which names the output file.
                let without_command = |text: &str| {
                    let mut value: serde_json::Value = serde_json::from_str(text).unwrap();
                    value.as_object_mut().unwrap().remove("command");
                    value
                };
                assert_eq!(
                    without_command(&written),
                    without_command(&expected),
                    "{format} {flag}: the file holds what stdout would have"
                );
            } else {
                assert_eq!(
                    written, expected,
                    "{format} {flag}: the file holds what stdout would have"
                );
            }
        }
    }
}

#[test]
fn a_failed_run_leaves_an_existing_output_file_alone() {
    // A typo in the input path must not destroy yesterday's report.
    let dir = temp_dir();
    let report = dir.path().join("report.json");
    fs::write(&report, "{\"previous\": true}\n").unwrap();
    let missing = dir.path().join("typo.pcap");
    let out = rstscope(&[
        "analyze",
        "--format",
        "json",
        "-o",
        &show(&report),
        &show(&missing),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        fs::read_to_string(&report).unwrap(),
        "{\"previous\": true}\n",
        "the output file was clobbered by a run that failed before analysing anything"
    );
}

// ---------------------------------------------------------------------------------------------
// A closed pipe and plain output.

/// 3000 connections, each a SYN answered by RST+ACK: far more output than a pipe buffers.
fn many_flow_capture(dir: &Path) -> PathBuf {
    let mut frames = Vec::new();
    for i in 0..3000u16 {
        let mut c = Conversation::new(
            &format!("192.0.2.{}:{}", 1 + i % 200, 10_000 + i),
            "198.51.100.7:443",
        );
        c.wait(i64::from(i) * 1_000_000).syn().server_rst();
        frames.extend(c.ethernet_frames());
    }
    frames.sort_by_key(|(ts, _)| *ts);
    let path = dir.join("many.pcap");
    write_pcap(&path, DLT_EN10MB, &frames);
    path
}

#[test]
fn a_closed_pipe_ends_the_run_quietly_with_status_0() {
    let dir = temp_dir();
    let capture = many_flow_capture(dir.path());
    for format in ["table", "json", "jsonl"] {
        let err_file = dir.path().join(format!("stderr-{format}"));
        let rc_file = dir.path().join(format!("rc-{format}"));
        // `{ rstscope ...; echo $? >rc; } | head -1`: head exits after one line and closes
        // the pipe while rstscope still has hundreds of kilobytes to write.
        let out = Command::new("sh")
            .arg("-c")
            .arg(
                "{ \"$0\" analyze --all --format \"$1\" \"$2\" 2>\"$3\"; echo $? >\"$4\"; } \
                 | head -n 1",
            )
            .arg(BIN)
            .arg(format)
            .arg(&capture)
            .arg(&err_file)
            .arg(&rc_file)
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(
            text(&out.stdout).lines().count(),
            1,
            "head printed one line"
        );
        let stderr = fs::read_to_string(&err_file).unwrap();
        assert_eq!(stderr, "", "{format}: a closed pipe is not an error");
        let rc = fs::read_to_string(&rc_file).unwrap();
        assert_eq!(rc.trim(), "0", "{format}: exit status after a closed pipe");
    }
}

#[test]
fn output_has_no_escape_codes_when_stdout_is_not_a_terminal() {
    let dir = temp_dir();
    let capture = show(&three_flow_capture(dir.path()));
    let missing = show(&dir.path().join("missing.pcap"));
    let cases: Vec<Vec<&str>> = vec![
        vec!["analyze", &capture],
        vec!["analyze", "--all", &capture],
        vec!["analyze", "--format", "json", &capture],
        vec!["analyze", &missing],
        vec!["analyze", "--format", "xml", &capture],
        vec!["analyze", "--help"],
        vec!["--help"],
    ];
    for args in cases {
        // A colour-capable terminal type in the environment must not matter: the output is a
        // pipe here.
        let out = Command::new(BIN)
            .args(&args)
            .env("TERM", "xterm-256color")
            .env("COLORTERM", "truecolor")
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .output()
            .unwrap();
        for (name, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            assert!(
                !bytes.contains(&0x1b),
                "{args:?}: escape code in {name}:\n{}",
                String::from_utf8_lossy(bytes)
            );
        }
        if args.first() == Some(&"analyze") && out.status.success() {
            let stdout = text(&out.stdout);
            assert!(
                stdout.is_ascii(),
                "{args:?}: a table for a pipe or file is plain ASCII:\n{stdout}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The progress bar: on a terminal only, for big inputs, never with --quiet.

/// A capture over 8 MB: one long transfer of full-size segments.
fn big_capture(dir: &Path) -> PathBuf {
    let mut bulk = Conversation::new("192.0.2.10:51514", "198.51.100.7:443");
    bulk.handshake();
    for _ in 0..7000 {
        bulk.server_data(1400);
    }
    bulk.server_rst();
    let path = dir.join("big.pcap");
    write_pcap(&path, DLT_EN10MB, &bulk.ethernet_frames());
    assert!(fs::metadata(&path).unwrap().len() > 8 << 20);
    path
}

/// Runs rstscope under `script`, so its standard error is a terminal; returns what it wrote.
fn on_a_terminal(args: &[&str]) -> String {
    let command = std::iter::once(env!("CARGO_BIN_EXE_rstscope"))
        .chain(args.iter().copied())
        .map(|word| format!("'{word}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
        .expect("script (util-linux) runs a command on a terminal");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_big_input_gets_a_progress_bar_on_a_terminal_only() {
    let dir = temp_dir();
    let capture = show(&big_capture(dir.path()));
    let shown = on_a_terminal(&["analyze", "-F", "json", "-o", "/dev/null", &capture]);
    assert!(
        shown.contains("packets/s") && shown.contains("% "),
        "no progress bar on a terminal: {shown:?}"
    );
    assert!(
        shown.ends_with("\r\x1b[2K") || shown.ends_with("\r\x1b[K"),
        "the bar is wiped at the end: {shown:?}"
    );
    let quiet = on_a_terminal(&[
        "analyze",
        "--quiet",
        "-F",
        "json",
        "-o",
        "/dev/null",
        &capture,
    ]);
    assert!(
        !quiet.contains("packets/s"),
        "--quiet still drew: {quiet:?}"
    );
    // Not a terminal: nothing on stderr at all.
    let out = rstscope(&["analyze", "-F", "json", "-o", "/dev/null", &capture]);
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_big_compressed_input_gets_a_count_not_a_percentage() {
    // The decompressed size is unknown until the end: no percentage or ETA it could not keep.
    let dir = temp_dir();
    let capture = big_capture(dir.path());
    let status = Command::new("gzip")
        .arg("-1")
        .arg(&capture)
        .status()
        .unwrap();
    assert!(status.success());
    let gz = dir.path().join("big.pcap.gz");
    assert!(
        fs::metadata(&gz).unwrap().len() > 64 << 10,
        "big enough for the count"
    );
    let gz = show(&gz);
    let shown = on_a_terminal(&["analyze", "-F", "json", "-o", "/dev/null", &gz]);
    assert!(
        shown.contains("of capture read") && shown.contains("packets/s"),
        "no count on a terminal: {shown:?}"
    );
    assert!(!shown.contains("ETA"), "{shown:?}");
    assert!(shown.ends_with("\r\x1b[2K"), "wiped at the end: {shown:?}");
}
