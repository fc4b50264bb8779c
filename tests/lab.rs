//! The network-namespace lab, end to end: `lab/run.sh` records every scenario with real
//! kernels, routers, firewalls and injectors through `rstscope capture`, and rstscope must name
//! who sent each reset and why: in the lines it prints while capturing (each within 2 s of its
//! packet), in the capture's final report, and in `analyze` of the file it wrote. The lab also
//! records the server's end of the path (tcpdump on the server's interface), and `rstscope
//! compare` of the two captures must agree with the truth too, including where one capture
//! cannot tell (a firewall that copies the server's TTL).
//!
//! The lab runs once per test process (a `OnceLock` shared by all tests, which cargo runs as
//! threads of one process); each test then checks one scenario's capture. The RSTs are picked
//! by flow port, direction and flags, never by frame number. The lab needs root and the tools
//! `ip`, `nft`, `tcpdump` and `python3`: without them every test here fails with a message
//! saying what is missing (they are not skipped, so CI cannot pass without running them).
//!
//! `RSTSCOPE_LAB_KEEP=DIR` keeps the captures in DIR for a closer look.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_rstscope");
const LAB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/lab/run.sh");

/// Every scenario `lab/run.sh --list` must offer; each has a test below.
const SCENARIOS: &[&str] = &[
    "fin-close",
    "refused-by-host",
    "firewall-reject",
    "ipv6-refused",
    "ipv6-firewall-reject",
    "peer-abort",
    "unread-data",
    "local-abort",
    "stale-connection",
    "ips-reject",
    "injected-reset",
    "health-check",
    "reset-after-close",
    "idle-timeout",
    "nat-peer-abort",
    "ttl-copy-reject",
];

/// TTLs at the client's interface (see lab/run.sh): the server is two routers away, r2 one,
/// r1 none; the injector sends with its own TTL 48 from r1.
const TTL_SERVER: u64 = 62;
const TTL_R2: u64 = 63;
const TTL_R1: u64 = 64;
const TTL_CLIENT: u64 = 64;
const TTL_INJECTOR: u64 = 48;

/// How soon after its packet a reset must be announced (the brief: within 2 s).
const LINE_WITHIN: Duration = Duration::from_secs(2);

struct LabRun {
    /// `rstscope analyze` of each scenario's capture.
    reports: BTreeMap<String, Value>,
    /// `rstscope compare` of each scenario's client and server captures.
    compared: BTreeMap<String, Value>,
    /// What `rstscope capture` printed while it recorded each scenario.
    live: BTreeMap<String, Live>,
    log: String,
    elapsed: Duration,
    namespace_prefix: String,
}

/// Why the lab gave no captures: what went wrong, and the lab's log when it ran.
struct LabFailure {
    why: String,
    log: Option<String>,
}

impl From<String> for LabFailure {
    fn from(why: String) -> LabFailure {
        LabFailure { why, log: None }
    }
}

/// One scenario's live capture: its final report and the lines it printed as it ran.
struct Live {
    report: Value,
    lines: Vec<LiveLine>,
}

/// A line `rstscope capture` printed about a reset, with when it was printed.
#[derive(Debug)]
struct LiveLine {
    printed: f64,
    packet_ts: String,
    frame: u64,
    verdict: String,
    scenario: String,
    revised: bool,
    text: String,
}

static RUN: OnceLock<Result<LabRun, LabFailure>> = OnceLock::new();

/// The lab's run; a failure panics with the whole log (only this test prints it).
fn lab() -> &'static LabRun {
    match RUN.get_or_init(run_lab) {
        Ok(run) => run,
        Err(LabFailure { why, log }) => {
            panic!(
                "{why}{}",
                log.as_ref()
                    .map_or_else(String::new, |log| format!("; its log:\n{log}"))
            )
        }
    }
}

/// The report of one scenario's capture; a failed lab panics with a short message.
fn report(scenario: &str) -> &'static Value {
    let run = match RUN.get_or_init(run_lab) {
        Ok(run) => run,
        Err(LabFailure { why, log: None }) => panic!("{why}"),
        Err(LabFailure { why, log: Some(_) }) => panic!(
            "{why} (the lab's log is in the failure of lab_runs_every_scenario_in_time_and_leaves_no_namespace)"
        ),
    };
    run.reports.get(scenario).unwrap_or_else(|| {
        panic!(
            "the lab wrote no report for {scenario}; lab log:\n{}",
            run.log
        )
    })
}

/// Root and the tools, or a message saying what is missing and how to get it.
fn preconditions() -> Result<(), String> {
    let mut missing = Vec::new();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .and_then(|id| id.parse::<u32>().ok());
    if euid != Some(0) {
        missing.push(format!(
            "root (effective uid is {}): the lab creates network namespaces; run `sudo -E cargo test --test lab`",
            euid.map_or_else(|| "unknown".to_string(), |id| id.to_string())
        ));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for tool in ["ip", "nft", "tcpdump", "python3", "bash"] {
        if !std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()) {
            missing.push(format!(
                "`{tool}` on PATH (scripts/setup installs iproute2, nftables, tcpdump and python3)"
            ));
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the lab tests cannot run; they need:\n  - {}",
            missing.join("\n  - ")
        ))
    }
}

fn run_lab() -> Result<LabRun, LabFailure> {
    preconditions()?;
    let temp = tempfile::Builder::new()
        .prefix("rstscope-lab-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let keep = std::env::var_os("RSTSCOPE_LAB_KEEP").map(PathBuf::from);
    let dir = keep.clone().unwrap_or_else(|| temp.path().to_path_buf());

    let listed = Command::new("bash")
        .args([LAB, "--list"])
        .output()
        .map_err(|e| format!("cannot run {LAB}: {e}"))?;
    let listed: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    if listed != SCENARIOS {
        return Err(LabFailure::from(format!(
            "lab/run.sh --list gives {listed:?}; tests/lab.rs checks {SCENARIOS:?}: give every scenario a test"
        )));
    }

    let live_dir = dir.join("live");
    let started = Instant::now();
    let child = Command::new("bash")
        .arg(LAB)
        .arg("--rstscope")
        .arg(BIN)
        .arg("--live")
        .arg(&live_dir)
        .arg("--pairs")
        .arg(&dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {LAB}: {e}"))?;
    let namespace_prefix = format!("rsl{}-", child.id());
    let out = child
        .wait_with_output()
        .map_err(|e| format!("waiting for {LAB}: {e}"))?;
    let elapsed = started.elapsed();
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        return Err(LabFailure {
            why: format!(
                "lab/run.sh failed ({}) after {:.1} s",
                out.status,
                elapsed.as_secs_f64()
            ),
            log: Some(log),
        });
    }
    eprintln!(
        "lab: {} scenarios in {:.1} s",
        SCENARIOS.len(),
        elapsed.as_secs_f64()
    );

    let mut reports = BTreeMap::new();
    let mut compared = BTreeMap::new();
    let mut live = BTreeMap::new();
    for scenario in SCENARIOS {
        let capture = dir.join(format!("{scenario}.pcap"));
        let server_side = dir.join(format!("{scenario}.server.pcap"));
        reports.insert(scenario.to_string(), analyze(&capture)?);
        compared.insert(scenario.to_string(), compare(&capture, &server_side)?);
        live.insert(scenario.to_string(), read_live(&live_dir, scenario)?);
    }
    if keep.is_some() {
        eprintln!("lab: captures kept in {}", dir.display());
    }
    Ok(LabRun {
        reports,
        compared,
        live,
        log,
        elapsed,
        namespace_prefix,
    })
}

/// The final report and the stamped lines of one scenario's `rstscope capture`.
fn read_live(dir: &Path, scenario: &str) -> Result<Live, String> {
    let report_path = dir.join(format!("{scenario}.json"));
    let report = std::fs::read(&report_path)
        .map_err(|e| format!("{}: {e}", report_path.display()))
        .and_then(|bytes| {
            serde_json::from_slice(&bytes)
                .map_err(|e| format!("{} does not parse: {e}", report_path.display()))
        })?;
    let lines_path = dir.join(format!("{scenario}.lines"));
    let text = std::fs::read_to_string(&lines_path)
        .map_err(|e| format!("{}: {e}", lines_path.display()))?;
    let lines = text
        .lines()
        .map(|line| {
            parse_line(line).ok_or_else(|| format!("{scenario}: cannot read the line {line:?}"))
        })
        .collect::<Result<_, _>>()?;
    Ok(Live { report, lines })
}

/// "STAMP TS  CLIENT -> SERVER  RST from SIDE (frame N, ttl T)  VERDICT CONF SCENARIO: why", or
/// "... (frame N) revised: VERDICT CONF SCENARIO (first said ...)...".
fn parse_line(line: &str) -> Option<LiveLine> {
    let mut words = line.split_whitespace();
    let printed = words.next()?.parse().ok()?;
    let packet_ts = words.next()?.to_string();
    let rest = line.split_once(" (frame ")?.1;
    let (frame, rest) = rest.split_once([',', ')'])?;
    // "(frame 2, ttl 64)  peer 0.96 refused: ..." or "(frame 2) revised: firewall 0.92 ...".
    let revised = rest.trim_start().starts_with("revised: ");
    let judged = if revised {
        rest.split_once("revised: ")?.1
    } else {
        rest.split_once(")  ")?.1
    };
    let mut judged = judged.split_whitespace();
    let verdict = judged.next()?.to_string();
    let _confidence = judged.next()?;
    let scenario = judged.next()?.trim_end_matches(':').to_string();
    Some(LiveLine {
        printed,
        packet_ts,
        frame: frame.trim().parse().ok()?,
        verdict,
        scenario,
        revised,
        text: line.to_string(),
    })
}

fn analyze(capture: &Path) -> Result<Value, String> {
    rstscope_json(&["analyze"], &[capture])
}

fn compare(client_side: &Path, server_side: &Path) -> Result<Value, String> {
    rstscope_json(&["compare"], &[client_side, server_side])
}

fn rstscope_json(command: &[&str], inputs: &[&Path]) -> Result<Value, String> {
    let capture = inputs[0];
    let out = Command::new(BIN)
        .args(command)
        .args(["--format", "json"])
        .args(inputs)
        .output()
        .map_err(|e| format!("cannot run {BIN}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "rstscope analyze {} exited with {}: {}",
            capture.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "rstscope's JSON for {} does not parse: {e}",
            capture.display()
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Picking flows and resets

fn flows(report: &Value) -> &[Value] {
    report["flows"].as_array().map_or(&[], Vec::as_slice)
}

fn resets(flow: &Value) -> &[Value] {
    flow["resets"].as_array().map_or(&[], Vec::as_slice)
}

/// The flows to one server port.
fn to_port(report: &Value, port: u16) -> Vec<&Value> {
    flows(report)
        .iter()
        .filter(|f| f["server"]["port"] == port)
        .collect()
}

/// The one flow to a server port that carries resets.
fn reset_flow<'a>(scenario: &str, report: &'a Value, port: u16) -> &'a Value {
    let with: Vec<&Value> = to_port(report, port)
        .into_iter()
        .filter(|f| !resets(f).is_empty())
        .collect();
    assert_eq!(
        with.len(),
        1,
        "{scenario}: expected one flow to port {port} with resets, found {}:\n{}",
        with.len(),
        pretty(report)
    );
    with[0]
}

/// The RSTs of a flow sent from one side (by their addresses) with exactly these flags.
fn rsts<'a>(flow: &'a Value, from: &str, flags: &str) -> Vec<&'a Value> {
    resets(flow)
        .iter()
        .filter(|r| r["from"] == from && r["flags"] == flags)
        .collect()
}

/// The one RST of a flow from a side with these flags.
fn the_rst<'a>(scenario: &str, flow: &'a Value, from: &str, flags: &str) -> &'a Value {
    let found = rsts(flow, from, flags);
    assert_eq!(
        found.len(),
        1,
        "{scenario}: expected one {flags} from the {from}, found {}:\n{}",
        found.len(),
        pretty(flow)
    );
    found[0]
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// The verdict and scenario rstscope gave one RST, with everything needed to judge a miss.
#[track_caller]
fn assert_attributed(scenario: &str, rst: &Value, verdict: &str, named: &str) {
    let got = (rst["verdict"].as_str(), rst["scenario"].as_str());
    assert!(
        got == (Some(verdict), Some(named)),
        "{scenario}: the {} {} at frame {} (TTL {}) should be verdict {verdict}, scenario {named}; rstscope said {}, {} (confidence {}).\nexplanation: {}\nevidence: {}",
        rst["from"],
        rst["flags"],
        rst["frame"],
        rst["ttl"],
        rst["verdict"],
        rst["scenario"],
        rst["confidence"],
        rst["explanation"],
        pretty(&rst["evidence"])
    );
    let confidence = rst["confidence"].as_f64().unwrap_or(-1.0);
    assert!(
        (0.5..=1.0).contains(&confidence),
        "{scenario}: confidence {confidence} for a {verdict} verdict"
    );
    assert!(
        rst["explanation"].as_str().is_some_and(|e| !e.is_empty()),
        "{scenario}: no explanation"
    );
    assert!(
        rst["advice"].as_array().is_some_and(|a| !a.is_empty()),
        "{scenario}: no advice"
    );
}

#[track_caller]
fn assert_ttl(scenario: &str, rst: &Value, ttl: u64) {
    assert_eq!(
        rst["ttl"],
        ttl,
        "{scenario}: the lab should have produced this RST with TTL {ttl}:\n{}",
        pretty(rst)
    );
}

/// A normal connection: closed by FIN both ways, no reset.
#[track_caller]
fn assert_normal(scenario: &str, flow: &Value) {
    assert!(
        flow["conn_state"] == "SF" && flow["close"] == "fin" && resets(flow).is_empty(),
        "{scenario}: expected a normal connection (SF, closed by FIN, no reset):\n{}",
        pretty(flow)
    );
}

/// The flows to a port without resets, each normal; returns how many.
fn normal_flows(scenario: &str, report: &Value, port: u16) -> usize {
    let normal: Vec<&Value> = to_port(report, port)
        .into_iter()
        .filter(|f| resets(f).is_empty())
        .collect();
    for flow in &normal {
        assert_normal(scenario, flow);
    }
    normal.len()
}

/// Every capture is read completely, and the summary counts the listed resets.
fn assert_whole(scenario: &str, report: &Value, flows_expected: usize) {
    assert_eq!(
        report["inputs"][0]["complete"],
        true,
        "{scenario}: capture not read completely:\n{}",
        pretty(&report["inputs"])
    );
    assert_eq!(
        flows(report).len(),
        flows_expected,
        "{scenario}: expected {flows_expected} flows:\n{}",
        pretty(report)
    );
    let listed: usize = flows(report).iter().map(|f| resets(f).len()).sum();
    assert_eq!(
        report["summary"]["resets"], listed,
        "{scenario}: summary.resets does not count the listed resets"
    );
}

// ---------------------------------------------------------------------------------------------
// The lab itself

#[test]
fn lab_runs_every_scenario_in_time_and_leaves_no_namespace() {
    let run = lab();
    assert!(
        run.elapsed < Duration::from_secs(180),
        "the lab took {:.1} s (it should take well under 90 s):\n{}",
        run.elapsed.as_secs_f64(),
        run.log
    );
    let out = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    let left: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|line| line.starts_with(&run.namespace_prefix))
        .map(str::to_string)
        .collect();
    assert!(left.is_empty(), "the lab left namespaces behind: {left:?}");
    for scenario in SCENARIOS {
        let report = report(scenario);
        assert_eq!(report["schema"], "rstscope.report/1");
        for flow in flows(report) {
            for rst in resets(flow) {
                assert_ne!(
                    rst["verdict"],
                    "unknown",
                    "{scenario}: a reset rstscope could not attribute:\n{}",
                    pretty(rst)
                );
                assert_eq!(rst["checksum"], "valid", "{scenario}: {}", pretty(rst));
            }
        }
    }
}

/// The capture's own final report gives every reset the verdict `analyze` gives it when it
/// reads the file the capture wrote.
#[test]
fn lab_live_report_matches_analyze_of_the_written_file() {
    let run = lab();
    for scenario in SCENARIOS {
        let live = &run.live[*scenario].report;
        let analyzed = report(scenario);
        assert_eq!(
            flows(live).len(),
            flows(analyzed).len(),
            "{scenario}: the live report and analyze of its file list different flows:\nlive:\n{}\nanalyze:\n{}",
            pretty(live),
            pretty(analyzed)
        );
        assert_eq!(
            judgements(live),
            judgements(analyzed),
            "{scenario}: live and analyze judge the resets differently"
        );
        assert_eq!(live["inputs"][0]["dropped_by_kernel"], 0, "{scenario}");
    }
}

/// (frame, sender, flags, verdict, scenario) of every reset in a report.
fn judgements(report: &Value) -> Vec<(u64, String, String, String, String)> {
    let mut all: Vec<_> = flows(report)
        .iter()
        .flat_map(resets)
        .map(|r| {
            (
                r["frame"].as_u64().unwrap_or(0),
                r["from"].to_string(),
                r["flags"].to_string(),
                r["verdict"].to_string(),
                r["scenario"].to_string(),
            )
        })
        .collect();
    all.sort();
    all
}

/// Every reset was announced while the capture ran, within 2 s of its packet, and what the
/// lines said last about it is what the final report says.
#[test]
fn lab_every_reset_is_announced_within_two_seconds() {
    let run = lab();
    let mut announced = 0;
    for scenario in SCENARIOS {
        let live = &run.live[*scenario];
        let all: Vec<String> = live.lines.iter().map(|l| l.text.clone()).collect();
        for rst in flows(&live.report).iter().flat_map(resets) {
            let frame = rst["frame"].as_u64().unwrap_or(0);
            let told: Vec<&LiveLine> = live.lines.iter().filter(|l| l.frame == frame).collect();
            let (Some(first), Some(last)) = (told.first(), told.last()) else {
                panic!(
                    "{scenario}: the reset at frame {frame} was never announced; lines:\n{}",
                    all.join("\n")
                );
            };
            assert!(
                !first.revised,
                "{scenario}: a revision before the line: {all:?}"
            );
            assert!(
                told.len() == 1 || (told.len() == 2 && last.revised),
                "{scenario}: frame {frame} announced more than once (revisions aside): {all:?}"
            );
            assert_eq!(
                first.packet_ts,
                rst["ts"].as_str().unwrap_or(""),
                "{scenario}"
            );
            let packet = chrono::DateTime::parse_from_rfc3339(&first.packet_ts)
                .unwrap_or_else(|e| panic!("{scenario}: {:?}: {e}", first.packet_ts));
            let packet =
                packet.timestamp() as f64 + f64::from(packet.timestamp_subsec_nanos()) / 1e9;
            let delay = first.printed - packet;
            eprintln!(
                "{scenario}: frame {frame} announced {:.0} ms after its packet",
                delay * 1000.0
            );
            assert!(
                (0.0..LINE_WITHIN.as_secs_f64()).contains(&delay),
                "{scenario}: frame {frame} was announced {delay:.3} s after its packet: {}",
                first.text
            );
            assert_eq!(
                (last.verdict.as_str(), last.scenario.as_str()),
                (
                    rst["verdict"].as_str().unwrap_or(""),
                    rst["scenario"].as_str().unwrap_or("")
                ),
                "{scenario}: the lines end on a different judgement than the report: {}",
                last.text
            );
            announced += 1;
        }
        let frames: Vec<u64> = flows(&live.report)
            .iter()
            .flat_map(resets)
            .filter_map(|r| r["frame"].as_u64())
            .collect();
        for line in &live.lines {
            assert!(
                frames.contains(&line.frame),
                "{scenario}: a line about a reset the report does not list: {}",
                line.text
            );
        }
    }
    assert!(
        announced >= 14,
        "only {announced} resets announced in the whole lab"
    );
}

// ---------------------------------------------------------------------------------------------
// One test per scenario

#[test]
fn lab_fin_close() {
    let s = "fin-close";
    let report = report(s);
    assert_whole(s, report, 2);
    assert_eq!(normal_flows(s, report, 80), 2);
    assert_eq!(report["summary"]["resets"], 0);
}

/// A SYN to a port: the flow is REJ and its only RST, RST+ACK from the server, has `ttl`.
fn refused_syn<'a>(s: &str, report: &'a Value, port: u16, ttl: u64) -> &'a Value {
    let flow = reset_flow(s, report, port);
    assert_eq!(flow["conn_state"], "REJ", "{s}:\n{}", pretty(flow));
    assert_eq!(resets(flow).len(), 1, "{s}:\n{}", pretty(flow));
    let rst = the_rst(s, flow, "server", "RA");
    assert_ttl(s, rst, ttl);
    rst
}

#[test]
fn lab_refused_by_host() {
    let s = "refused-by-host";
    let report = report(s);
    assert_whole(s, report, 2);
    let rst = refused_syn(s, report, 8081, TTL_SERVER);
    assert_attributed(s, rst, "peer", "refused");
    assert_eq!(normal_flows(s, report, 80), 1);
}

#[test]
fn lab_firewall_reject() {
    let s = "firewall-reject";
    let report = report(s);
    assert_whole(s, report, 2);
    let rst = refused_syn(s, report, 8443, TTL_R1);
    assert_attributed(s, rst, "firewall", "firewall_reject");
    assert_eq!(normal_flows(s, report, 80), 1);
}

#[test]
fn lab_ipv6_refused() {
    let s = "ipv6-refused";
    let report = report(s);
    assert_whole(s, report, 2);
    let rst = refused_syn(s, report, 8081, TTL_SERVER);
    assert_eq!(rst["src"]["ip"], "2001:db8:5::7");
    assert_attributed(s, rst, "peer", "refused");
    assert_eq!(normal_flows(s, report, 80), 1);
}

#[test]
fn lab_ipv6_firewall_reject() {
    let s = "ipv6-firewall-reject";
    let report = report(s);
    assert_whole(s, report, 2);
    let rst = refused_syn(s, report, 8443, TTL_R1);
    assert_eq!(rst["src"]["ip"], "2001:db8:5::7");
    assert_attributed(s, rst, "firewall", "firewall_reject");
    assert_eq!(normal_flows(s, report, 80), 1);
}

/// An established flow reset once by the server's address with `flags` and `ttl`.
fn server_reset<'a>(s: &str, report: &'a Value, port: u16, flags: &str, ttl: u64) -> &'a Value {
    let flow = reset_flow(s, report, port);
    assert_eq!(flow["conn_state"], "RSTR", "{s}:\n{}", pretty(flow));
    assert_eq!(resets(flow).len(), 1, "{s}:\n{}", pretty(flow));
    let rst = the_rst(s, flow, "server", flags);
    assert_ttl(s, rst, ttl);
    rst
}

#[test]
fn lab_peer_abort() {
    let s = "peer-abort";
    let report = report(s);
    assert_whole(s, report, 1);
    let rst = server_reset(s, report, 8080, "RA", TTL_SERVER);
    assert_attributed(s, rst, "peer", "peer_abort");
}

#[test]
fn lab_unread_data() {
    let s = "unread-data";
    let report = report(s);
    assert_whole(s, report, 1);
    let rst = server_reset(s, report, 8080, "RA", TTL_SERVER);
    assert_attributed(s, rst, "peer", "peer_abort");
}

#[test]
fn lab_local_abort() {
    let s = "local-abort";
    let report = report(s);
    assert_whole(s, report, 1);
    let flow = reset_flow(s, report, 8080);
    assert_eq!(flow["conn_state"], "RSTO", "{s}:\n{}", pretty(flow));
    assert_eq!(resets(flow).len(), 1, "{s}:\n{}", pretty(flow));
    let rst = the_rst(s, flow, "client", "RA");
    assert_ttl(s, rst, TTL_CLIENT);
    assert_attributed(s, rst, "peer", "local_abort");
}

#[test]
fn lab_stale_connection() {
    let s = "stale-connection";
    let report = report(s);
    assert_whole(s, report, 1);
    // The host that took over the address answers the second request with a bare RST.
    let rst = server_reset(s, report, 8000, "R", TTL_SERVER);
    assert_attributed(s, rst, "peer", "stale_connection");
}

#[test]
fn lab_ips_reject() {
    let s = "ips-reject";
    let report = report(s);
    assert_whole(s, report, 2);
    assert_eq!(normal_flows(s, report, 80), 1);
    // r2 drops the request and resets in the server's name: a bare RST, one hop nearer.
    let rst = server_reset(s, report, 80, "R", TTL_R2);
    assert_attributed(s, rst, "middlebox", "in_path_reject");
}

#[test]
fn lab_injected_reset() {
    let s = "injected-reset";
    let report = report(s);
    assert_whole(s, report, 2);
    assert_eq!(normal_flows(s, report, 80), 1);
    let flow = reset_flow(s, report, 80);
    // The real answer still arrived.
    assert!(
        flow["payload_bytes"]["server"].as_u64() > Some(0),
        "{s}: the server's real answer is missing:\n{}",
        pretty(flow)
    );
    let forged = rsts(flow, "server", "RA");
    assert_eq!(
        forged.len(),
        3,
        "{s}: expected 3 forged RST+ACKs:\n{}",
        pretty(flow)
    );
    for rst in forged {
        assert_ttl(s, rst, TTL_INJECTOR);
        assert_attributed(s, rst, "middlebox", "injected_reset");
    }
    // The client's kernel, its socket gone, resets each segment of the real answer.
    let replies = rsts(flow, "client", "R");
    assert!(
        (1..=3).contains(&replies.len()),
        "{s}: expected 1 to 3 RSTs from the client's kernel:\n{}",
        pretty(flow)
    );
    for rst in replies {
        assert_ttl(s, rst, TTL_CLIENT);
        assert_attributed(s, rst, "peer", "no_socket");
    }
    assert_eq!(
        resets(flow).len(),
        3 + rsts(flow, "client", "R").len(),
        "{s}: unexpected resets:\n{}",
        pretty(flow)
    );
}

#[test]
fn lab_health_check() {
    let s = "health-check";
    let report = report(s);
    assert_whole(s, report, 2);
    assert_eq!(normal_flows(s, report, 80), 1);
    let flow = reset_flow(s, report, 80);
    assert_eq!(flow["conn_state"], "RSTO", "{s}:\n{}", pretty(flow));
    assert_eq!(flow["payload_bytes"]["client"], 0);
    assert_eq!(flow["payload_bytes"]["server"], 0);
    assert_eq!(resets(flow).len(), 1, "{s}:\n{}", pretty(flow));
    let rst = the_rst(s, flow, "client", "RA");
    assert_ttl(s, rst, TTL_CLIENT);
    assert_attributed(s, rst, "peer", "health_check");
}

#[test]
fn lab_reset_after_close() {
    let s = "reset-after-close";
    let report = report(s);
    assert_whole(s, report, 1);
    let flow = reset_flow(s, report, 8000);
    // FIN both ways first: the reset does not change a FIN close.
    assert_eq!(flow["close"], "fin", "{s}:\n{}", pretty(flow));
    assert_eq!(resets(flow).len(), 1, "{s}:\n{}", pretty(flow));
    let rst = the_rst(s, flow, "client", "R");
    assert_ttl(s, rst, TTL_CLIENT);
    assert_attributed(s, rst, "peer", "reset_after_close");
}

#[test]
fn lab_idle_timeout() {
    let s = "idle-timeout";
    let report = report(s);
    assert_whole(s, report, 1);
    let rst = server_reset(s, report, 8000, "R", TTL_R2);
    assert_attributed(s, rst, "firewall", "idle_timeout");
}

// ---------------------------------------------------------------------------------------------
// Two capture points: the client's interface and the server's

fn compared(scenario: &str) -> &'static Value {
    let run = match RUN.get_or_init(run_lab) {
        Ok(run) => run,
        Err(LabFailure { why, log: None }) => panic!("{why}"),
        Err(LabFailure { why, log: Some(_) }) => panic!(
            "{why} (the lab's log is in the failure of lab_runs_every_scenario_in_time_and_leaves_no_namespace)"
        ),
    };
    run.compared
        .get(scenario)
        .unwrap_or_else(|| panic!("the lab wrote no comparison for {scenario}"))
}

/// Every reset of a comparison: (its first sighting's input and frame, the inputs it was seen
/// in, verdict, scenario, the deciding signal).
fn compared_resets(report: &Value) -> Vec<(u64, u64, Vec<u64>, String, String, String)> {
    let mut out = Vec::new();
    for flow in flows(report) {
        for rst in resets(flow) {
            let seen = rst["seen"]
                .as_array()
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .filter_map(|s| s["input"].as_u64())
                .collect();
            let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
            out.push((
                rst["input"].as_u64().unwrap_or(99),
                rst["frame"].as_u64().unwrap_or(0),
                seen,
                text(&rst["verdict"]),
                text(&rst["scenario"]),
                text(&rst["evidence"][0]["signal"]),
            ));
        }
    }
    out
}

/// Each scenario's comparison gives the client capture's resets the verdicts `analyze` gives
/// them (checked against the truth by the tests above), except where one capture cannot
/// tell; and where the server's capture saw a reset leave the server or the client, it says
/// so.
#[test]
fn lab_compare_agrees_with_the_truth_in_every_scenario() {
    for scenario in SCENARIOS {
        if *scenario == "ttl-copy-reject" {
            continue;
        }
        let single: BTreeMap<u64, String> = flows(report(scenario))
            .iter()
            .flat_map(resets)
            .map(|rst| {
                (
                    rst["frame"].as_u64().unwrap_or(0),
                    rst["verdict"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let both = compared_resets(compared(scenario));
        for (input, frame, seen, verdict, _, signal) in &both {
            if *input != 0 {
                continue;
            }
            assert_eq!(
                single.get(frame),
                Some(verdict),
                "{scenario}: frame {frame}: compare says {verdict} ({signal}), analyze {:?}",
                single.get(frame)
            );
            if signal == "seen_leaving_sender" {
                assert_eq!(verdict, "peer", "{scenario} frame {frame}");
                assert_eq!(seen, &vec![0, 1], "{scenario} frame {frame}");
            }
            if signal == "never_left_sender" {
                assert_ne!(verdict, "peer", "{scenario} frame {frame}");
            }
        }
        assert_eq!(
            both.iter().filter(|r| r.0 == 0).count(),
            single.len(),
            "{scenario}: every reset of the client's capture is in the comparison once"
        );
    }
    // The resets the server's capture saw leave their sender.
    for scenario in [
        "peer-abort",
        "unread-data",
        "local-abort",
        "health-check",
        "nat-peer-abort",
    ] {
        let both = compared_resets(compared(scenario));
        assert!(
            both.iter().any(|r| r.5 == "seen_leaving_sender"),
            "{scenario}: no reset seen leaving its sender: {both:?}"
        );
    }
    // The injector's forgeries never left the server.
    let injected = compared_resets(compared("injected-reset"));
    let forged = injected
        .iter()
        .filter(|r| r.3 == "middlebox")
        .collect::<Vec<_>>();
    assert_eq!(forged.len(), 3, "{injected:?}");
    assert!(
        forged
            .iter()
            .all(|r| r.5 == "never_left_sender" && r.2 == vec![0]),
        "{injected:?}"
    );
}

/// r1 translates the client (masquerade): the comparison still pairs the flow, names the
/// mapping, and sees the server's abort leave the server.
#[test]
fn lab_nat_peer_abort() {
    let s = "nat-peer-abort";
    let report = report(s);
    assert_whole(s, report, 1);
    let rst = server_reset(s, report, 8080, "RA", TTL_SERVER);
    assert_attributed(s, rst, "peer", "peer_abort");
    let both = compared(s);
    let comparison = &both["comparison"];
    assert_eq!(comparison["flows_matched"], 1, "{s}: {comparison}");
    assert_eq!(
        comparison["nat"][0]["first"]["ip"], "192.0.2.10",
        "{s}: {comparison}"
    );
    assert_eq!(
        comparison["nat"][0]["second"]["ip"], "203.0.113.1",
        "{s}: {comparison}"
    );
    let flow = &flows(both)[0];
    assert_eq!(flow["path_changes"]["hops"], 2, "{s}: {}", pretty(flow));
    let judged = compared_resets(both);
    assert_eq!(judged.len(), 1, "{s}: {judged:?}");
    assert_eq!(judged[0].2, vec![0, 1], "{s}: seen at both ends");
    assert_eq!(
        (judged[0].3.as_str(), judged[0].5.as_str()),
        ("peer", "seen_leaving_sender")
    );
}

/// r2 refuses a SYN in the server's name with the server's own TTL: one capture cannot tell
/// it from the server's refusal; two can, since the server's capture, busy with the server's
/// other connections before and after, never saw this SYN or its RST.
#[test]
fn lab_ttl_copy_reject() {
    let s = "ttl-copy-reject";
    let report = report(s);
    assert_whole(s, report, 3);
    let rst = refused_syn(s, report, 8444, TTL_SERVER);
    assert_ne!(
        rst["verdict"], "firewall",
        "{s}: one capture should not be able to tell"
    );
    let judged = compared_resets(compared(s));
    assert_eq!(judged.len(), 1, "{s}: {judged:?}");
    let (input, _, seen, verdict, scenario, signal) = &judged[0];
    assert_eq!(
        (*input, seen.clone()),
        (0, vec![0]),
        "{s}: seen only at the client"
    );
    assert_eq!(
        (verdict.as_str(), scenario.as_str()),
        ("firewall", "firewall_reject")
    );
    assert_eq!(signal, "never_left_sender");
}
