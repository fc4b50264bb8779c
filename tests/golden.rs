//! Golden outputs: the table (the diagnosis first, as a user sees it), the table with every
//! column and flow (`--all --wide`, with the explanations), the JSON report, the Markdown, the
//! Jira markup and the HTML report of every bundled sample, compared with files a human checked
//! once (`tests/golden/`).
//!
//! After a deliberate change, regenerate with `RSTSCOPE_BLESS=1 cargo test --test golden`,
//! read the diff, and commit it. Under CI (`CI=true`) a mismatch always fails.

// Helpers outside #[test] functions panic on purpose: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{rstscope, samples};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs rstscope from the repository root on `samples/NAME`, so paths in the output are stable.
fn output(args: &[&str], sample: &Path) -> String {
    let relative = sample.strip_prefix(repo()).unwrap().display().to_string();
    let mut all: Vec<&str> = args.to_vec();
    all.push(&relative);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rstscope"))
        .args(&all)
        .current_dir(repo())
        // A pipe's width (100 columns), whatever the shell running the tests says.
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

fn check(golden: &Path, actual: &str) -> Option<String> {
    let bless =
        std::env::var("RSTSCOPE_BLESS").is_ok() && std::env::var("CI").as_deref() != Ok("true");
    if bless {
        std::fs::write(golden, actual).unwrap();
        return None;
    }
    match std::fs::read_to_string(golden) {
        Ok(expected) if expected == actual => None,
        Ok(expected) => Some(format!(
            "{} differs from the output:\n--- expected\n{expected}\n--- actual\n{actual}",
            golden.display()
        )),
        Err(_) => Some(format!(
            "{} is missing: run RSTSCOPE_BLESS=1 cargo test --test golden and check it by eye",
            golden.display()
        )),
    }
}

#[test]
fn every_sample_matches_its_golden_table_json_markdown_and_html() {
    let _ = rstscope(&["--version"]);
    let mut problems = Vec::new();
    for sample in samples() {
        let stem = sample.file_stem().unwrap().to_string_lossy().to_string();
        let dir = repo().join("tests/golden");
        let table = output(&["analyze"], &sample);
        problems.extend(check(&dir.join(format!("{stem}.table.txt")), &table));
        let wide = output(&["analyze", "--all", "--wide"], &sample);
        problems.extend(check(&dir.join(format!("{stem}.wide.txt")), &wide));
        let json = output(&["analyze", "--format", "json"], &sample);
        problems.extend(check(&dir.join(format!("{stem}.json")), &json));
        let markdown = output(&["analyze", "--format", "markdown"], &sample);
        problems.extend(check(&dir.join(format!("{stem}.md")), &markdown));
        let jira = output(&["analyze", "--format", "jira"], &sample);
        problems.extend(check(&dir.join(format!("{stem}.jira")), &jira));
        let html = output(&["analyze", "--format", "html"], &sample);
        problems.extend(check(&dir.join(format!("{stem}.html")), &html));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
