//! What a user's shell and terminal get besides reports: completion scripts that the shells
//! accept, manual pages that man renders, colour only when asked for, and bounded options
//! refused in words.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_rstscope");
const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/firewall-reject.pcap");

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BIN);
    command.args(args).env_remove("NO_COLOR");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

fn stdout_of(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn the_bash_completion_loads_and_completes_commands_and_options() {
    let script = stdout_of(&run(&["completions", "bash"], &[]));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rstscope.bash");
    std::fs::write(&path, script).unwrap();
    // Ask bash itself: load the script, complete "rstscope an" and "rstscope analyze --fi".
    let complete = |words: &str, cword: usize| {
        let probe = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{words}'; \
             COMP_POINT=${{#COMP_LINE}}; _rstscope rstscope; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            path.display()
        );
        let out = Command::new("bash").args(["-c", &probe]).output().unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let commands = complete("rstscope an", 1);
    assert!(commands.lines().any(|w| w == "analyze"), "{commands}");
    let options = complete("rstscope analyze --fi", 2);
    assert!(options.lines().any(|w| w == "--filter"), "{options}");
}

#[test]
fn every_shell_gets_a_script_that_names_the_commands() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = stdout_of(&run(&["completions", shell], &[]));
        for command in ["analyze", "capture", "compare", "interfaces"] {
            assert!(script.contains(command), "{shell} lacks {command}");
        }
    }
    let out = run(&["completions", "tcsh"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values"));
}

#[test]
fn the_man_pages_render_with_man() {
    for page in [None, Some("analyze"), Some("capture"), Some("compare")] {
        let mut args = vec!["man"];
        args.extend(page);
        let roff = stdout_of(&run(&args, &[]));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("page.1");
        std::fs::write(&path, roff).unwrap();
        let out = Command::new("man")
            .arg("-l")
            .arg(&path)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100")
            .output()
            .unwrap_or_else(|e| panic!("man: {e} (scripts/setup --tests installs man-db)"));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{page:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains("NAME") && text.contains("SYNOPSIS"),
            "{page:?}: {text}"
        );
        if page == Some("analyze") {
            assert!(
                text.contains("--filter") && text.contains("EXAMPLES"),
                "{text}"
            );
        }
    }
}

#[test]
fn colour_follows_the_color_option_and_no_color() {
    let escape = |out: &Output| stdout_of(out).contains("\x1b[");
    assert!(escape(&run(&["analyze", "--color", "always", SAMPLE], &[])));
    assert!(!escape(&run(&["analyze", "--color", "never", SAMPLE], &[])));
    // auto: not a terminal here, so no colour; NO_COLOR does not override always.
    assert!(!escape(&run(&["analyze", SAMPLE], &[])));
    assert!(escape(&run(
        &["analyze", "--color", "always", SAMPLE],
        &[("NO_COLOR", "1")]
    )));
    let out = run(&["analyze", "--color", "sometimes", SAMPLE], &[]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bounded_options_are_refused_in_words() {
    for (args, words) in [
        (
            vec!["analyze", "--idle-timeout", "0", SAMPLE],
            "must be at least 1 second",
        ),
        (
            vec!["analyze", "--max-flows", "0", SAMPLE],
            "must be at least 1 flow",
        ),
        (
            vec!["capture", "--snaplen", "10", "lo"],
            "must be at least 64 bytes",
        ),
        (
            vec!["capture", "--buffer-size", "99999999", "lo"],
            "must be at most 2097152 KiB",
        ),
    ] {
        let out = run(&args, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(words), "{args:?}: {stderr}");
        assert_eq!(
            stderr
                .lines()
                .next()
                .map(|l| l.starts_with("error: invalid value")),
            Some(true),
            "{stderr}"
        );
    }
}
