//! Reports on a real-sized capture: the synth crate (rstscope-synth) writes 2.4 million packets with about 5,000
//! resets of every kind, and every format must open with the diagnosis and stay readable: the
//! table under 200 lines and 100 columns, the Markdown inside a GitHub comment (65,536
//! characters) and rendered by GitHub's own renderer (cmark-gfm), the Jira markup inside a Jira
//! comment (32,767), the HTML under 2 MB with its groups on the first screen of a real browser.
//!
//! How fast the browser renders the page is measured by `scripts/bench-reports`, not here.

// Helpers outside #[test] functions panic on purpose: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use common::browser::{browser, pixels_of, png_facts};
use common::rstscope;

/// The generated capture, made once for every test here (in a directory kept to the end).
fn capture() -> &'static Path {
    static CAPTURE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = CAPTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.pcap");
        let config = rstscope_synth::Config {
            packets: 2_400_000,
            seed: 7,
            concurrent: 5_000,
            snaplen: 128,
            ..rstscope_synth::Config::default()
        };
        let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        rstscope_synth::generate(&config, file).unwrap();
        (dir, path)
    });
    path
}

fn run(args: &[&str]) -> String {
    let mut all = vec!["analyze"];
    all.extend(args);
    let path = capture().to_str().unwrap();
    all.push(path);
    let out = Command::new(env!("CARGO_BIN_EXE_rstscope"))
        .args(&all)
        .env_remove("COLUMNS")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn report() -> &'static Value {
    static REPORT: OnceLock<Value> = OnceLock::new();
    REPORT.get_or_init(|| serde_json::from_str(&run(&["--format", "json"])).unwrap())
}

#[test]
fn the_capture_has_thousands_of_resets_in_groups() {
    let report = report();
    let resets = report["summary"]["resets"].as_u64().unwrap();
    assert!(resets >= 4000, "{resets} resets");
    let groups = report["summary"]["groups"].as_array().unwrap();
    assert!(groups.len() >= 5, "{} groups", groups.len());
    let counted: u64 = groups
        .iter()
        .map(|g| g["resets"].as_u64().unwrap() + g["follow_ups"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, resets, "every reset in one group");
}

#[test]
fn the_table_opens_with_the_diagnosis_and_stays_short_and_narrow() {
    let table = run(&[]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines.len() < 200, "{} lines:\n{table}", lines.len());
    assert!(lines[0].starts_with("Diagnosis: "), "{table}");
    let top = &report()["summary"]["groups"][0];
    let weight = top["resets"].as_u64().unwrap() + top["follow_ups_same_verdict"].as_u64().unwrap();
    assert!(
        lines[..3].join(" ").contains(&format!("({weight} of ")),
        "the headline names the top group's count:\n{table}"
    );
    let widest = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(widest <= 100, "a line of {widest} columns:\n{table}");
    // The groups in words, then the others as a table, then at most 40 resets listed.
    assert!(
        table.contains("\n1. ") && table.contains("\n3. "),
        "{table}"
    );
    assert!(table.contains("Other groups:"), "{table}");
    assert!(table.contains("more groups"), "{table}");
    // COLUMNS is obeyed: 140 columns give wider, fewer lines.
    let wide = Command::new(env!("CARGO_BIN_EXE_rstscope"))
        .args(["analyze", capture().to_str().unwrap()])
        .env("COLUMNS", "140")
        .output()
        .unwrap();
    let wide = String::from_utf8(wide.stdout).unwrap();
    assert!(wide.lines().count() < lines.len(), "COLUMNS=140 not used");
    assert!(wide.lines().all(|l| l.chars().count() <= 140));
}

#[test]
fn the_markdown_fits_a_github_comment_and_renders_as_github_does() {
    let markdown = run(&["--format", "markdown"]);
    assert!(markdown.len() < 65_536, "{} bytes", markdown.len());
    let mut lines = markdown.lines().filter(|l| !l.is_empty());
    assert_eq!(lines.next(), Some("# rstscope report"));
    assert!(lines.next().unwrap().starts_with("**Diagnosis:** "));
    // GitHub's renderer, with GitHub's extensions: every table is a table, the folds are
    // folds, and nothing else raw got through.
    let out = Command::new("cmark-gfm")
        .args([
            "-e",
            "table",
            "-e",
            "tagfilter",
            "-e",
            "autolink",
            "--unsafe",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("cmark-gfm ({err}): scripts/setup --tests installs it"));
    let html = {
        use std::io::Write;
        let mut child = out;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(markdown.as_bytes())
            .unwrap();
        String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
    };
    let tables = markdown.lines().filter(|l| l.starts_with("|---")).count();
    assert_eq!(
        html.matches("<table>").count(),
        tables,
        "tables that did not render"
    );
    assert!(tables >= 5);
    assert_eq!(
        html.matches("<details>").count(),
        markdown.matches("<details>").count()
    );
    assert!(
        !html.contains("| --- |") && !html.contains("|---|"),
        "a table left as text"
    );
    assert!(html.find("<ol>").unwrap() < html.find("<h2>What was read</h2>").unwrap());
}

#[test]
fn the_jira_markup_fits_a_jira_comment() {
    let jira = run(&["--format", "jira"]);
    assert!(jira.len() < 32_767, "{} bytes", jira.len());
    let mut lines = jira.lines().filter(|l| !l.is_empty());
    assert_eq!(lines.next(), Some("h1. rstscope report"));
    assert!(lines.next().unwrap().starts_with("*Diagnosis:* "));
    assert!(jira.contains("\n||#||Verdict||"), "the groups table");
    assert!(
        !jira.contains("<details>") && !jira.contains("**"),
        "Markdown in Jira"
    );
}

#[test]
fn the_html_is_small_and_shows_the_groups_on_its_first_screen() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("big.html");
    let html = run(&["--format", "html"]);
    assert!(html.len() < 2_000_000, "{} bytes", html.len());
    std::fs::write(&page, &html).unwrap();
    let diagnosis = html.find("<section class=\"diagnosis\">").unwrap();
    assert!(diagnosis < html.find("<svg class=\"ladder\"").unwrap());
    assert!(html.find("class=\"headline\"").unwrap() < diagnosis);
    // Bounded: a few flows in full, the others as rows.
    let ladders = html.matches("<svg class=\"ladder\"").count();
    assert!((5..=40).contains(&ladders), "{ladders} ladders");
    let url = format!("file://{}", page.display());
    let profile = dir.path().join("profile");
    let dom = String::from_utf8(browser(&profile, &["--dump-dom", &url]).stdout).unwrap();
    assert!(dom.contains("<ol class=\"groups\">"));
    let png = dir.path().join("first-screen.png");
    browser(
        &profile,
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1100,900",
            &url,
        ],
    );
    let (width, height, colours) = png_facts(&png);
    assert_eq!((width, height), (1100, 900));
    assert!(colours > 50, "a blank first screen");
    // The top groups' verdict badges are on the first screen, in their colours.
    let colour = |verdict: &str| match verdict {
        "peer" => [0x2e, 0x7d, 0x32],
        "firewall" => [0xef, 0x6c, 0x00],
        "middlebox" => [0xc6, 0x28, 0x28],
        _ => [0x75, 0x75, 0x75],
    };
    let top = report()["summary"]["groups"][0]["verdict"]
        .as_str()
        .unwrap();
    assert!(
        pixels_of(&png, colour(top), 900) > 200,
        "no {top} badge on the first screen"
    );
    if std::env::var("RSTSCOPE_BLESS").is_ok() && std::env::var("CI").as_deref() != Ok("true") {
        let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/html-diagnosis.png");
        std::fs::copy(&png, docs).unwrap();
    }
    let _ = rstscope(&["--version"]);
}
