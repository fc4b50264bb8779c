//! Ticket artefacts end to end: the HTML report rendered by a real browser (Debian's
//! Chromium, headless), escaping of hostile names in every format, the evidence export
//! (`--export-pcap`, `--flow`), and anonymisation (`--anonymize`) across every output.
//!
//! The browser test needs `chromium` on PATH (scripts/setup installs it); without it the test
//! fails saying so. `RSTSCOPE_BLESS=1` also copies its screenshot to docs/html-report.png.

// Helpers outside #[test] functions panic on purpose: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use common::browser::{browser, png_facts};
use common::{rstscope, samples, temp_dir};

/// The samples use documentation ranges, which anonymisation keeps to themselves (no address
/// may move into or out of a special range), so only their host octet changes and one address
/// in 256 maps to itself under any key. This key maps no sample address to itself (nor to a
/// text that contains the original), so the leak check below can hold it to "never appears".
const KEY: &str = "0472a8bf517d4b329fe70b9d19112433bb421ff512f6574fd6483d2395a33ef1";
const OTHER_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sample(name: &str) -> PathBuf {
    repo().join("samples").join(format!("{name}.pcap"))
}

fn ok(out: Output, what: &str) -> Output {
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn run(args: &[&str]) -> Output {
    ok(rstscope(args), &args.join(" "))
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn json_of(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    serde_json::from_slice(&run(&all).stdout).unwrap()
}

/// (flow id, frame, sender side, flags, verdict, scenario) of every reset, by the RST's own
/// identity (ports, flags, seq), so flows numbered differently still compare.
fn judgements(report: &Value) -> BTreeSet<(u64, u64, String, String, String, String)> {
    report["flows"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["resets"].as_array().unwrap().iter())
        .map(|r| {
            (
                r["src"]["port"].as_u64().unwrap(),
                r["seq"].as_u64().unwrap(),
                r["from"].to_string(),
                r["flags"].to_string(),
                r["verdict"].to_string(),
                r["scenario"].to_string(),
            )
        })
        .collect()
}

fn reset_flows(report: &Value) -> usize {
    report["flows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["resets"].as_array().unwrap().is_empty())
        .count()
}

// ---------------------------------------------------------------------------------------------
// The HTML report in a real browser

#[test]
fn html_report_renders_in_chromium_with_one_ladder_per_reset_flow() {
    let dir = temp_dir();
    let page = dir.path().join("report.html");
    let inputs = [sample("idle-timeout"), sample("injected-reset")];
    let report = json_of(&["analyze", s(&inputs[0]), s(&inputs[1])]);
    run(&[
        "analyze",
        s(&inputs[0]),
        s(&inputs[1]),
        "--format",
        "html",
        "-o",
        s(&page),
    ]);
    let url = format!("file://{}", page.display());
    let profile = dir.path().join("profile");

    // The DOM the browser built: one ladder per flow with resets, and no script at all.
    let dom = String::from_utf8(browser(&profile, &["--dump-dom", &url]).stdout).unwrap();
    let ladders = dom.matches("<svg class=\"ladder\"").count();
    assert_eq!(ladders, reset_flows(&report), "ladders in the DOM");
    assert!(ladders >= 2);
    assert!(!dom.contains("<script"), "the page holds a script");
    assert!(dom.contains("rstscope report"));

    // The rendered page: a screenshot of the expected size that is not blank.
    let png = dir.path().join("report.png");
    browser(
        &profile,
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1100,2400",
            &url,
        ],
    );
    let (width, height, colours) = png_facts(&png);
    assert_eq!((width, height), (1100, 2400), "screenshot size");
    assert!(
        colours > 50,
        "the screenshot looks blank ({colours} distinct colours)"
    );
    if std::env::var("RSTSCOPE_BLESS").is_ok() && std::env::var("CI").as_deref() != Ok("true") {
        std::fs::copy(&png, repo().join("docs/html-report.png")).unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile names

/// A directory `<script>alert(1)<` holding `script>.pcap`: the path reads
/// `<script>alert(1)</script>.pcap`.
fn hostile_copy(dir: &Path) -> PathBuf {
    let inner = dir.join("<script>alert(1)<");
    std::fs::create_dir_all(&inner).unwrap();
    let file = inner.join("script>.pcap");
    std::fs::copy(sample("idle-timeout"), &file).unwrap();
    file
}

/// `rstscope` run in `dir`, so a relative path is what the user typed.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_rstscope"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    ok(out, &args.join(" "))
}

#[test]
fn hostile_file_names_are_escaped_in_html_and_markdown() {
    let dir = temp_dir();
    let file = hostile_copy(dir.path());
    assert!(s(&file).contains("<script>alert(1)</script>"));
    // Typed relative, the name is shown as typed: every character of it, escaped.
    let typed = "<script>alert(1)</script>.pcap";
    let html =
        String::from_utf8(run_in(dir.path(), &["analyze", "--format", "html", typed]).stdout)
            .unwrap();
    assert!(!html.contains("<script"), "a script tag in the HTML");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the name, escaped"
    );
    let markdown =
        String::from_utf8(run_in(dir.path(), &["analyze", "--format", "markdown", typed]).stdout)
            .unwrap();
    // Inside code spans the name is literal text (CommonMark renders it escaped); outside
    // them the only raw HTML is rstscope's own line breaks and folds.
    let outside_code: String = markdown
        .lines()
        .flat_map(|line| line.split('`').step_by(2))
        .collect::<String>()
        .replace("<br>", "")
        .replace("<details><summary>", "")
        .replace("</summary>", "")
        .replace("</details>", "");
    assert!(
        !outside_code.contains('<'),
        "raw HTML in the Markdown: {markdown}"
    );
    assert!(
        markdown.contains("<script>alert(1)</script>.pcap`"),
        "the name, as code"
    );

    // Typed absolute, a local directory says nothing to the ticket's reader: the file's name.
    let absolute = s(&file);
    for format in ["html", "markdown", "jira"] {
        let out =
            String::from_utf8(run(&["analyze", "--format", format, absolute]).stdout).unwrap();
        assert!(
            !out.contains(&*dir.path().to_string_lossy()),
            "{format}: a local path"
        );
        assert!(out.contains("script"), "{format}: the file's name");
    }

    // And the browser agrees: the page it built has no script element.
    let page = dir.path().join("hostile.html");
    std::fs::write(&page, &html).unwrap();
    let dom = String::from_utf8(
        browser(
            &dir.path().join("profile"),
            &["--dump-dom", &format!("file://{}", page.display())],
        )
        .stdout,
    )
    .unwrap();
    assert!(!dom.contains("<script"), "the browser found a script");
    assert!(dom.contains("alert(1)"), "the name is shown as text");
}

// ---------------------------------------------------------------------------------------------
// Evidence export

#[test]
fn export_then_analyze_gives_the_same_verdicts_for_every_sample() {
    let dir = temp_dir();
    for input in samples() {
        let name = input.file_stem().unwrap().to_string_lossy().to_string();
        // pcapng, the default: libpcap reads it back.
        let export = dir.path().join(format!("{name}.export.pcapng"));
        let original = json_of(&["analyze", s(&input), "--export-pcap", s(&export)]);
        if reset_flows(&original) == 0 {
            let exported = json_of(&["analyze", s(&export)]);
            assert_eq!(
                exported["inputs"][0]["packets"], 0,
                "{name}: nothing to export"
            );
            continue;
        }
        let exported = json_of(&["analyze", s(&export)]);
        assert_eq!(
            judgements(&exported),
            judgements(&original),
            "{name}: the export judges its resets differently"
        );
        assert_eq!(
            exported["inputs"][0]["link_type"],
            original["inputs"][0]["link_type"]
        );
    }
}

#[test]
fn export_of_chosen_flows_holds_only_them() {
    let dir = temp_dir();
    let input = sample("refused-by-host");
    let original = json_of(&["analyze", "--all", s(&input)]);
    let normal = original["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["close"] == "fin")
        .expect("refused-by-host has a normal flow");
    let id = normal["id"].as_u64().unwrap().to_string();
    let export = dir.path().join("one.pcap");
    run(&[
        "analyze",
        s(&input),
        "--export-pcap",
        s(&export),
        "--flow",
        &id,
    ]);
    let exported = json_of(&["analyze", "--all", s(&export)]);
    let flows = exported["flows"].as_array().unwrap();
    assert_eq!(flows.len(), 1, "one flow exported:\n{exported}");
    assert_eq!(flows[0]["client"], normal["client"]);
    assert_eq!(flows[0]["packets"], normal["packets"]);

    let missing = rstscope(&[
        "analyze",
        s(&input),
        "--export-pcap",
        s(&export),
        "--flow",
        "99",
    ]);
    assert_eq!(missing.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("--flow 99") && stderr.lines().count() == 1,
        "one line naming the flow: {stderr}"
    );
}

/// tshark's fields of every packet of `file`, one Vec per packet.
fn tshark_fields(file: &Path, fields: &[&str]) -> Vec<Vec<String>> {
    let mut args = vec!["-n", "-r", s(file), "-T", "fields", "-E", "separator=\t"];
    for field in fields {
        args.extend(["-e", field]);
    }
    let out = Command::new("tshark")
        .args(&args)
        .output()
        .unwrap_or_else(|err| panic!("tshark ({err}): scripts/setup --tests installs it"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| line.split('\t').map(str::to_string).collect())
        .collect()
}

/// What an exported packet's comment says: input name, frame, flow, and for a RST its
/// verdict, confidence and scenario.
fn parse_comment(comment: &str) -> (String, u64, u64, Option<(String, String, String)>) {
    let rest = comment
        .strip_prefix("rstscope: ")
        .unwrap_or_else(|| panic!("{comment}"));
    let (head, verdict) = match rest.split_once("; RST verdict ") {
        Some((head, verdict)) => (head, Some(verdict)),
        None => (rest, None),
    };
    let (name, rest) = head.split_once(" frame ").unwrap();
    let (frame, rest) = rest.split_once(", flow ").unwrap();
    let flow = rest.split(' ').next().unwrap();
    let verdict = verdict.map(|text| {
        // "firewall (confidence 0.83), scenario idle_timeout"
        let (verdict, rest) = text.split_once(" (confidence ").unwrap();
        let (confidence, scenario) = rest.split_once("), scenario ").unwrap();
        (
            verdict.to_string(),
            confidence.to_string(),
            scenario.to_string(),
        )
    });
    (
        name.to_string(),
        frame.parse().unwrap(),
        flow.parse().unwrap(),
        verdict,
    )
}

/// Issue 12: Wireshark shows every exported packet's original file and frame, and every RST's
/// verdict, as `frame.comment`; the comments agree with the JSON report of the same run, and
/// each packet is the very frame its comment names.
#[test]
fn the_exported_pcapng_comments_name_each_frame_and_each_verdict() {
    let dir = temp_dir();
    let inputs = [
        sample("idle-timeout"),
        sample("injected-reset"),
        sample("refused-by-host"),
    ];
    let export = dir.path().join("evidence.pcapng");
    let mut args = vec!["analyze"];
    args.extend(inputs.iter().map(|p| s(p)));
    args.extend(["--export-pcap", s(&export)]);
    let report = json_of(&args);
    let fields = [
        "frame.comment",
        "tcp.flags.reset",
        "tcp.seq_raw",
        "frame.len",
        "tcp.srcport",
    ];
    let exported = tshark_fields(&export, &fields);
    assert!(exported.len() >= 20, "{} packets exported", exported.len());
    let originals: Vec<Vec<Vec<String>>> = inputs
        .iter()
        .map(|p| tshark_fields(p, &fields[1..]))
        .collect();
    let names: Vec<String> = inputs
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    let mut rsts = 0;
    for packet in &exported {
        let (name, frame, flow, verdict) = parse_comment(&packet[0]);
        let input = names
            .iter()
            .position(|n| *n == name)
            .unwrap_or_else(|| panic!("{name}"));
        // The packet is frame `frame` of that input: same flags, sequence number, length, port.
        let original = &originals[input][frame as usize - 1];
        assert_eq!(
            &packet[1..],
            &original[..],
            "{}: not frame {frame} of {name}",
            packet[0]
        );
        let is_rst = packet[1] == "1" || packet[1] == "True";
        assert_eq!(is_rst, verdict.is_some(), "{}", packet[0]);
        let Some((verdict, confidence, scenario)) = verdict else {
            continue;
        };
        rsts += 1;
        let flow_report = report["flows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == flow)
            .unwrap_or_else(|| panic!("flow {flow} is not in the report"));
        let reset = flow_report["resets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["input"] == input && r["frame"] == frame)
            .unwrap_or_else(|| panic!("frame {frame} of {name} is not a reset of flow {flow}"));
        assert_eq!(reset["verdict"], verdict.as_str());
        assert_eq!(reset["scenario"], scenario.as_str());
        assert_eq!(
            format!("{:.2}", reset["confidence"].as_f64().unwrap()),
            confidence
        );
    }
    let listed: usize = report["flows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["resets"].as_array().unwrap().len())
        .sum();
    assert_eq!(
        rsts, listed,
        "every reset of the report is in the export, commented"
    );
}

/// `--flow ID`: that flow and its RST sender's comparison packets only, payloads blanked;
/// `--keep-payload` keeps them.
#[test]
fn a_flow_export_holds_its_comparison_packets_and_no_payload() {
    let dir = temp_dir();
    let input = sample("injected-reset");
    let report = json_of(&["analyze", "--all", s(&input)]);
    let reset_flow = report["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| !f["resets"].as_array().unwrap().is_empty())
        .unwrap();
    let id = reset_flow["id"].as_u64().unwrap();
    let export = dir.path().join("flow.pcapng");
    let id_text = id.to_string();
    run(&[
        "analyze",
        s(&input),
        "--export-pcap",
        s(&export),
        "--flow",
        &id_text,
    ]);
    let packets = tshark_fields(&export, &["frame.comment", "tcp.payload", "tcp.len"]);
    let mut comparison = 0;
    let mut payload_bytes = 0;
    for packet in &packets {
        let (_, _, flow, _) = parse_comment(&packet[0]);
        if flow != id {
            assert!(packet[0].contains("for comparison"), "{}", packet[0]);
            comparison += 1;
        }
        let len: usize = packet[2].parse().unwrap_or(0);
        payload_bytes += len;
        assert!(
            packet[1].chars().all(|c| c == '0' || c == ':'),
            "a payload left in: {}",
            packet[0]
        );
    }
    assert!(comparison > 0, "no comparison packet");
    assert!(payload_bytes > 0, "the lengths are kept");
    let flow_packets = reset_flow["packets"]["client"].as_u64().unwrap()
        + reset_flow["packets"]["server"].as_u64().unwrap();
    assert_eq!((packets.len() - comparison) as u64, flow_packets);
    run(&[
        "analyze",
        s(&input),
        "--export-pcap",
        s(&export),
        "--flow",
        &id_text,
        "--keep-payload",
    ]);
    let kept = tshark_fields(&export, &["tcp.payload"]);
    assert!(
        kept.iter()
            .any(|p| p[0].chars().any(|c| c != '0' && c != ':'))
    );
}

// ---------------------------------------------------------------------------------------------
// Anonymisation

/// Every address of a report: endpoints of flows and of resets.
fn addresses(report: &Value) -> BTreeSet<IpAddr> {
    let mut all = BTreeSet::new();
    for flow in report["flows"].as_array().unwrap() {
        for end in ["client", "server"] {
            all.insert(flow[end]["ip"].as_str().unwrap().parse().unwrap());
        }
    }
    all
}

/// The ways an address can appear in bytes: its text forms and its raw octets.
fn forms(addr: IpAddr) -> Vec<Vec<u8>> {
    let mut forms = vec![addr.to_string().into_bytes()];
    match addr {
        IpAddr::V4(v4) => forms.push(v4.octets().to_vec()),
        IpAddr::V6(v6) => {
            forms.push(v6.octets().to_vec());
            let full: Vec<String> = v6.segments().iter().map(|s| format!("{s:04x}")).collect();
            forms.push(full.join(":").into_bytes());
        }
    }
    forms
}

#[test]
fn anonymized_outputs_hold_no_original_address_and_keep_the_verdicts() {
    let dir = temp_dir();
    for name in [
        "injected-reset",
        "ipv6-firewall-reject",
        "idle-timeout",
        "refused-by-host",
    ] {
        let input = sample(name);
        let original = json_of(&["analyze", "--all", s(&input)]);
        let originals = addresses(&original);
        assert!(!originals.is_empty());
        let export = dir.path().join(format!("{name}.anon.pcap"));
        let mut outputs: Vec<Vec<u8>> = Vec::new();
        for format in ["table", "json", "jsonl", "markdown", "html"] {
            let out = run(&[
                "analyze",
                "--all",
                s(&input),
                "--anonymize-key",
                KEY,
                "--format",
                format,
                "--export-pcap",
                s(&export),
            ]);
            outputs.push(out.stdout);
            outputs.push(out.stderr);
        }
        outputs.push(std::fs::read(&export).unwrap());
        let anonymized = json_of(&["analyze", "--all", s(&input), "--anonymize-key", KEY]);
        outputs.push(serde_json::to_vec(&json_of(&["analyze", "--all", s(&export)])).unwrap());
        for addr in &originals {
            for form in forms(*addr) {
                for (index, output) in outputs.iter().enumerate() {
                    assert!(
                        !output.windows(form.len()).any(|w| w == form.as_slice()),
                        "{name}: {addr} appears in output {index} as {:?}",
                        String::from_utf8_lossy(&form)
                    );
                }
            }
        }
        assert_eq!(anonymized["anonymized"], true);
        // Same verdicts, same structure; the export reads back to the anonymised report.
        let strip = |report: &Value| -> BTreeSet<(u64, u64, String, String, String, String)> {
            judgements(report)
        };
        assert_eq!(
            strip(&anonymized),
            strip(&original),
            "{name}: verdicts changed"
        );
        let reread = json_of(&["analyze", "--all", s(&export)]);
        assert_eq!(
            addresses(&reread),
            addresses(&anonymized),
            "{name}: export addresses"
        );
        assert_eq!(strip(&reread), strip(&original), "{name}: export verdicts");
        for reset in reread["flows"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|f| f["resets"].as_array().unwrap())
        {
            assert_eq!(reset["checksum"], "valid", "{name}: checksums fixed");
        }

        // The same key maps the same way; another key does not.
        let again = json_of(&["analyze", "--all", s(&input), "--anonymize-key", KEY]);
        assert_eq!(again, anonymized, "{name}: same key, same report");
        let other = json_of(&["analyze", "--all", s(&input), "--anonymize-key", OTHER_KEY]);
        assert_ne!(addresses(&other), addresses(&anonymized));
        assert!(addresses(&other).is_disjoint(&originals));
    }
}

#[test]
fn anonymize_without_a_key_prints_the_random_key_it_used() {
    let input = sample("idle-timeout");
    let out = run(&["analyze", s(&input), "--anonymize", "--format", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let key = stderr
        .split_whitespace()
        .find(|word| word.len() == 64 && word.chars().all(|c| c.is_ascii_hexdigit()))
        .unwrap_or_else(|| panic!("no key on stderr: {stderr}"));
    let first: Value = serde_json::from_slice(&out.stdout).unwrap();
    let again = json_of(&["analyze", s(&input), "--anonymize-key", key]);
    assert_eq!(
        addresses(&first),
        addresses(&again),
        "the printed key reproduces the mapping"
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(key),
        "the key is not in the report"
    );

    let bad = rstscope(&["analyze", s(&input), "--anonymize-key", "abc"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("64 hex digits"));
}
