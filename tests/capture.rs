//! Live capture (`rstscope capture`) end to end, on real interfaces.
//!
//! The error cases run on the host's `lo` or in a throwaway namespace; everything else runs in
//! three network namespaces, client -- router -- server, joined by veth pairs (client
//! 192.0.2.10 on `c0`, router 192.0.2.1 / 198.51.100.1, server 198.51.100.20 on `s0`), so the
//! server's packets reach the capture point with TTL 63 as over a real network; python3
//! programs inside them make the traffic. Only documentation
//! addresses are used and the namespaces have no link to the host, so no packet leaves them.
//! Namespace names carry the test process's PID and the test's name, and a guard removes them
//! (and kills every process started in them) even when a test fails.
//!
//! These tests need root and the tools `ip`, `nft` and `python3`: without them every test here
//! fails saying what is missing (they are not skipped, so CI cannot pass without running them).

// Helpers outside #[test] functions panic on purpose: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_rstscope");

const CLIENT_IP: &str = "192.0.2.10";
const SERVER_IP: &str = "198.51.100.20";
const ROUTER_CLIENT_SIDE: &str = "192.0.2.1";
const ROUTER_SERVER_SIDE: &str = "198.51.100.1";
/// The server's packets reach the client's interface with this TTL (64, one router).
const TTL_SERVER: u8 = 63;
/// Nothing listens here: connections to it are refused by the server's kernel.
const CLOSED_PORT: u16 = 9;
/// Connections to it are refused too; only used to see that the capture is running.
const PROBE_PORT: u16 = 7;
/// The server application reads the request, answers part of it and aborts (SO_LINGER 0).
const ABORT_PORT: u16 = 8080;

/// The longest a reset may take to be announced (the brief: within 2 s of the packet).
const LINE_WITHIN: Duration = Duration::from_secs(2);

// ---------------------------------------------------------------------------------------------
// Preconditions

fn euid() -> Option<u32> {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .and_then(|id| id.parse().ok())
}

/// Root and the tools, or a panic saying what is missing.
fn require_root_and_tools() {
    let mut missing = Vec::new();
    let euid = euid();
    if euid != Some(0) {
        missing.push(format!(
            "root (effective uid is {}): these tests capture on interfaces and create network namespaces; run `sudo -E cargo test --test capture`",
            euid.map_or_else(|| "unknown".to_string(), |id| id.to_string())
        ));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for tool in ["ip", "nft", "python3"] {
        if !std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()) {
            missing.push(format!(
                "`{tool}` on PATH (scripts/setup installs iproute2, nftables and python3)"
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "the live-capture tests cannot run; they need:\n  - {}",
        missing.join("\n  - ")
    );
}

// ---------------------------------------------------------------------------------------------
// Commands

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|err| panic!("cannot run {program}: {err}"))
}

#[track_caller]
fn must(program: &str, args: &[&str]) {
    let out = run(program, args);
    assert!(
        out.status.success(),
        "`{program} {}` failed ({}): {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Sends a signal with kill(1) (the crate forbids unsafe code, so no libc::kill).
fn signal(pid: u32, name: &str) {
    let _ = run("kill", &[&format!("-{name}"), &pid.to_string()]);
}

// ---------------------------------------------------------------------------------------------
// The namespaces

/// Three namespaces (client, router, server) joined by veth pairs, removed on drop with every
/// process started in them.
struct Net {
    client: String,
    router: String,
    server: String,
    /// Background processes started in the namespaces (the server application).
    children: Vec<Child>,
}

impl Net {
    /// Namespaces `rsc<PID>-<tag>-c`, `-r` and `-s`: unique per test process and per test.
    fn new(tag: &str) -> Net {
        require_root_and_tools();
        let prefix = format!("rsc{}-{tag}", std::process::id());
        let mut net = Net {
            client: format!("{prefix}-c"),
            router: format!("{prefix}-r"),
            server: format!("{prefix}-s"),
            children: Vec::new(),
        };
        for ns in [&net.client, &net.router, &net.server] {
            // A leftover from an earlier process with the same PID: gone first.
            let _ = run("ip", &["netns", "del", ns]);
        }
        for ns in [&net.client, &net.router, &net.server] {
            must("ip", &["netns", "add", ns]);
        }
        let (c, r, s) = (net.client.clone(), net.router.clone(), net.server.clone());
        let link = |a: &str, a_dev: &str, b: &str, b_dev: &str| {
            must(
                "ip",
                &[
                    "-n", a, "link", "add", a_dev, "type", "veth", "peer", "name", b_dev, "netns",
                    b,
                ],
            );
        };
        link(&c, "c0", &r, "rc");
        link(&r, "rs", &s, "s0");
        for (ns, dev, addr) in [
            (&c, "c0", format!("{CLIENT_IP}/24")),
            (&r, "rc", format!("{ROUTER_CLIENT_SIDE}/24")),
            (&r, "rs", format!("{ROUTER_SERVER_SIDE}/24")),
            (&s, "s0", format!("{SERVER_IP}/24")),
        ] {
            must("ip", &["-n", ns, "addr", "add", &addr, "dev", dev]);
            must("ip", &["-n", ns, "link", "set", dev, "up"]);
        }
        for ns in [&c, &r, &s] {
            must("ip", &["-n", ns, "link", "set", "lo", "up"]);
        }
        must(
            "ip",
            &[
                "-n",
                &c,
                "route",
                "add",
                "default",
                "via",
                ROUTER_CLIENT_SIDE,
            ],
        );
        must(
            "ip",
            &[
                "-n",
                &s,
                "route",
                "add",
                "default",
                "via",
                ROUTER_SERVER_SIDE,
            ],
        );
        must(
            "ip",
            &[
                "netns",
                "exec",
                &r,
                "sysctl",
                "-qw",
                "net.ipv4.ip_forward=1",
            ],
        );
        net.start_server();
        net
    }

    /// The server application on ABORT_PORT; returns once it listens.
    fn start_server(&mut self) {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.server, "python3", "-c", SERVER_PY])
            .args([SERVER_IP, &ABORT_PORT.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("cannot start the server application");
        let stdout = child.stdout.take().unwrap();
        self.children.push(child);
        let mut first = String::new();
        BufReader::new(stdout).read_line(&mut first).unwrap();
        assert_eq!(
            first.trim(),
            "ready",
            "the server application did not start"
        );
    }

    /// Runs the client program in the client namespace and returns what it printed.
    fn client(&self, args: &[&str]) -> String {
        let mut all = vec!["netns", "exec", &self.client, "python3", "-c", CLIENT_PY];
        all.extend_from_slice(args);
        let out = run("ip", &all);
        assert!(
            out.status.success(),
            "the client program {args:?} failed ({}): {}{}",
            out.status,
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout).trim().to_string()
    }

    /// A connection from `local_port` (0: any) to a closed port: the server's kernel refuses.
    fn refused(&self, local_port: u16, port: u16) {
        let got = self.client(&[
            "one",
            "refused",
            &local_port.to_string(),
            SERVER_IP,
            &port.to_string(),
        ]);
        assert_eq!(got, "refused", "a connection to closed port {port}");
    }

    /// A request the server application aborts with SO_LINGER 0.
    fn aborted(&self, local_port: u16) {
        let got = self.client(&[
            "one",
            "abort",
            &local_port.to_string(),
            SERVER_IP,
            &ABORT_PORT.to_string(),
        ]);
        assert_eq!(got, "reset", "a request the server aborts");
    }

    /// `rstscope capture c0 ARGS...` in the client namespace.
    fn capture(&self, args: &[&str]) -> Capture {
        self.capture_on("c0", args)
    }

    /// `rstscope capture IFACE ARGS...` in the client namespace.
    fn capture_on(&self, interface: &str, args: &[&str]) -> Capture {
        Self::capture_in(&self.client, interface, args)
    }

    /// `rstscope capture IFACE ARGS...` in namespace `ns`.
    fn capture_in(ns: &str, interface: &str, args: &[&str]) -> Capture {
        let mut all = vec!["netns", "exec", ns, BIN, "capture", interface];
        all.extend_from_slice(args);
        Capture::spawn("ip", &all)
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for ns in [&self.client, &self.router, &self.server] {
            // Anything still running in the namespace was started by this test.
            let pids = run("ip", &["netns", "pids", ns]);
            for pid in text(&pids.stdout).split_whitespace() {
                let _ = run("kill", &["-KILL", pid]);
            }
            let _ = run("ip", &["netns", "del", ns]);
        }
    }
}

/// One throwaway namespace (for the error cases), removed on drop.
struct Ns(String);

impl Ns {
    fn new(tag: &str) -> Ns {
        require_root_and_tools();
        let name = format!("rsc{}-{tag}", std::process::id());
        let _ = run("ip", &["netns", "del", &name]);
        must("ip", &["netns", "add", &name]);
        Ns(name)
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let pids = run("ip", &["netns", "pids", &self.0]);
        for pid in text(&pids.stdout).split_whitespace() {
            let _ = run("kill", &["-KILL", pid]);
        }
        let _ = run("ip", &["netns", "del", &self.0]);
    }
}

// ---------------------------------------------------------------------------------------------
// Python programs run inside the namespaces

/// The server application: for each connection, read a little of the request, send part of a
/// response, then close with SO_LINGER {1, 0} so the kernel sends RST. Ends itself after 90 s.
const SERVER_PY: &str = r#"
import signal, socket, struct, sys, threading, time
signal.alarm(90)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1024)
print("ready", flush=True)
def serve(c):
    try:
        c.settimeout(5)
        c.recv(24)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\npartial")
        time.sleep(0.05)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    finally:
        c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"#;

/// The client: `one MODE LOCAL_PORT HOST PORT` makes one connection and prints what happened
/// (refused, reset, eof, connected); `soak RATE SECS ABORT_EVERY HOST CLOSED_PORT ABORT_PORT`
/// makes RATE a second for SECS seconds and prints the counts as JSON.
const CLIENT_PY: &str = r#"
import json, socket, sys, time
def one(mode, local_port, host, port):
    s = socket.socket()
    s.settimeout(5)
    try:
        if local_port:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", local_port))
        try:
            s.connect((host, port))
        except ConnectionRefusedError:
            return "refused"
        if mode == "refused":
            return "connected"
        s.sendall(b"GET / HTTP/1.1\r\nHost: lab.example\r\n\r\n" + b"x" * 200)
        try:
            while s.recv(4096):
                pass
            return "eof"
        except ConnectionResetError:
            return "reset"
    finally:
        s.close()
if sys.argv[1] == "one":
    print(one(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])))
else:
    # Paced: RATE connections a second for SECS seconds, every ABORT_EVERY-th one to the
    # aborting server, the rest refused; never faster than the pace, so the load is bounded.
    rate, secs, abort_every = float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    host, closed, abort_port = sys.argv[5], int(sys.argv[6]), int(sys.argv[7])
    start = time.monotonic()
    got = {}
    i = 0
    while True:
        now = time.monotonic() - start
        if now >= secs:
            break
        due = i / rate
        if due > now:
            time.sleep(due - now)
        if abort_every and i % abort_every == 0:
            r = one("abort", 0, host, abort_port)
        else:
            r = one("refused", 0, host, closed)
        got[r] = got.get(r, 0) + 1
        i += 1
    print(json.dumps(got))
"#;

// ---------------------------------------------------------------------------------------------
// A running capture

/// One line of standard output and when the test read it.
#[derive(Debug, Clone)]
struct Seen {
    at: Instant,
    wall: SystemTime,
    line: String,
}

struct Capture {
    child: Child,
    lines: Receiver<Seen>,
    /// Every stdout line read so far.
    seen: Vec<Seen>,
    stderr: Option<JoinHandle<String>>,
    started: Instant,
}

impl Capture {
    fn spawn(program: &str, args: &[&str]) -> Capture {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start rstscope: {err}"));
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let seen = Seen {
                    at: Instant::now(),
                    wall: SystemTime::now(),
                    line,
                };
                if tx.send(seen).is_err() {
                    break;
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut all = String::new();
            let _ = stderr.read_to_string(&mut all);
            all
        });
        Capture {
            child,
            lines: rx,
            seen: Vec::new(),
            stderr: Some(stderr),
            started: Instant::now(),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Reads stdout until a line matches or `timeout` passes.
    fn wait_line(&mut self, timeout: Duration, wanted: impl Fn(&str) -> bool) -> Option<Seen> {
        if let Some(found) = self.seen.iter().find(|s| wanted(&s.line)) {
            return Some(found.clone());
        }
        let until = Instant::now() + timeout;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(seen) => {
                    let hit = wanted(&seen.line);
                    self.seen.push(seen.clone());
                    if hit {
                        return Some(seen);
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// Waits until the capture is open: connects to PROBE_PORT (refused) every 0.4 s until
    /// rstscope announces one of those resets.
    fn wait_ready(&mut self, net: &Net) {
        let until = Instant::now() + Duration::from_secs(12);
        let probe = format!("-> {SERVER_IP}:{PROBE_PORT} ");
        while Instant::now() < until {
            net.refused(0, PROBE_PORT);
            if self
                .wait_line(Duration::from_millis(400), |l| l.contains(&probe))
                .is_some()
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let stderr = self.stderr.take().map(|h| h.join().unwrap());
                panic!(
                    "rstscope capture exited ({status}) before it announced a probe: {}",
                    stderr.unwrap_or_default()
                );
            }
        }
        panic!(
            "rstscope capture announced no reset within 12 s of probing; stdout so far:\n{}",
            self.stdout_so_far()
        );
    }

    fn stdout_so_far(&self) -> String {
        self.seen
            .iter()
            .map(|s| s.line.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Waits (at most `timeout`) for rstscope to exit by itself; kills it and panics past that.
    /// Returns the status, every stdout line and stderr.
    fn finish(mut self, timeout: Duration) -> Finished {
        let until = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= until {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let stderr = self.stderr.take().map(|h| h.join().unwrap());
                panic!(
                    "rstscope capture was still running {:.1} s after it should have stopped (killed it); stdout:\n{}\nstderr:\n{}",
                    timeout.as_secs_f64(),
                    self.stdout_so_far(),
                    stderr.unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let exited = Instant::now();
        // The reader thread ends at EOF once the process is gone.
        while let Ok(seen) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(seen);
        }
        let stderr = self.stderr.take().map(|h| h.join().unwrap()).unwrap();
        Finished {
            status,
            lines: std::mem::take(&mut self.seen),
            stderr,
            ran_for: exited - self.started,
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

struct Finished {
    status: ExitStatus,
    lines: Vec<Seen>,
    stderr: String,
    ran_for: Duration,
}

impl Finished {
    fn stdout(&self) -> String {
        self.lines
            .iter()
            .map(|s| s.line.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[track_caller]
    fn assert_clean_exit(&self, how: &str) {
        assert!(
            self.status.success(),
            "{how}: rstscope capture should exit 0 with the report, got {}; stderr:\n{}\nstdout:\n{}",
            self.status,
            self.stderr,
            self.stdout()
        );
    }

    /// The table's summary paragraph ("Read N packets from 1 input ..."), its wrapped lines
    /// joined by spaces.
    #[track_caller]
    fn summary(&self) -> String {
        self.lines
            .iter()
            .position(|s| s.line.starts_with("Read "))
            .map(|first| {
                self.lines[first..]
                    .iter()
                    .take_while(|s| !s.line.is_empty())
                    .map(|s| s.line.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_else(|| {
                panic!(
                    "no summary paragraph (\"Read N packets ...\") in the output:\n{}\nstderr:\n{}",
                    self.stdout(),
                    self.stderr
                )
            })
    }

    fn resets(&self) -> Vec<ResetLine> {
        self.lines
            .iter()
            .filter_map(|s| ResetLine::parse(&s.line))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Reset lines

/// `<ts>  client -> server  RST from SIDE (frame N, ttl T)  VERDICT CONF SCENARIO: reason`
#[derive(Debug, Clone, PartialEq)]
struct ResetLine {
    ts: SystemTime,
    client: String,
    server: String,
    from: String,
    frame: u64,
    ttl: u8,
    verdict: String,
    confidence: f64,
    scenario: String,
}

impl ResetLine {
    fn parse(line: &str) -> Option<ResetLine> {
        let mut parts = line.splitn(4, "  ");
        let ts = chrono::DateTime::parse_from_rfc3339(parts.next()?).ok()?;
        let (client, server) = parts.next()?.split_once(" -> ")?;
        let rst = parts.next()?.strip_prefix("RST from ")?;
        let (from, rest) = rst.split_once(" (frame ")?;
        let (frame, rest) = rest.split_once(", ttl ")?;
        let ttl = rest.strip_suffix(')')?;
        let judged = parts.next()?;
        let judged = judged.split_once(':').map_or(judged, |(head, _)| head);
        let mut words = judged.split_whitespace();
        let verdict = words.next()?.to_string();
        let confidence = words.next()?.parse().ok()?;
        let scenario = words.next()?.to_string();
        Some(ResetLine {
            ts: SystemTime::from(ts),
            client: client.to_string(),
            server: server.to_string(),
            from: from.to_string(),
            frame: frame.parse().ok()?,
            ttl: ttl.parse().ok()?,
            verdict,
            confidence,
            scenario,
        })
    }

    fn client_port(&self) -> u16 {
        self.client.rsplit_once(':').unwrap().1.parse().unwrap()
    }
}

/// Every reset of a JSON report as (client port, frame) → (from, verdict, scenario, ttl).
fn json_resets(report: &Value) -> BTreeMap<(u64, u64), (String, String, String, u64)> {
    let mut all = BTreeMap::new();
    for flow in report["flows"].as_array().expect("no flows in the report") {
        let port = flow["client"]["port"].as_u64().unwrap();
        for reset in flow["resets"].as_array().unwrap() {
            all.insert(
                (port, reset["frame"].as_u64().unwrap()),
                (
                    reset["from"].as_str().unwrap().to_string(),
                    reset["verdict"].as_str().unwrap().to_string(),
                    reset["scenario"].as_str().unwrap().to_string(),
                    reset["ttl"].as_u64().unwrap(),
                ),
            );
        }
    }
    all
}

fn analyze_json(pcap: &Path) -> Value {
    let out = run(
        BIN,
        &["analyze", "--format", "json", pcap.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "rstscope analyze {} failed ({}): {}",
        pcap.display(),
        out.status,
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("analyze printed no JSON report")
}

fn read_json(path: &Path) -> Value {
    let bytes =
        std::fs::read(path).unwrap_or_else(|err| panic!("no report at {}: {err}", path.display()));
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|err| panic!("the report at {} is not JSON: {err}", path.display()))
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

// ---------------------------------------------------------------------------------------------
// 1. Errors: one line on stderr naming the cause and the fix, exit 1

#[track_caller]
fn assert_one_line_error(out: &Output, what: &str) -> String {
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{what}: expected exit 1, got {}; stderr:\n{stderr}\nstdout:\n{}",
        out.status,
        text(&out.stdout)
    );
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "{what}: expected one line on stderr, got:\n{stderr}"
    );
    assert!(
        stderr.starts_with("rstscope: "),
        "{what}: the error line should start with `rstscope: `: {stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "{what}: nothing should be printed on stdout, got:\n{}",
        text(&out.stdout)
    );
    stderr
}

#[test]
fn unknown_interface_is_named_and_the_real_ones_listed() {
    require_root_and_tools();
    let out = run(BIN, &["capture", "nosuch0", "--duration", "2"]);
    let stderr = assert_one_line_error(&out, "capture nosuch0");
    assert!(stderr.contains("nosuch0"), "should name nosuch0: {stderr}");
    assert!(
        stderr.contains("lo"),
        "should list the existing interfaces (lo at least): {stderr}"
    );
}

#[test]
fn write_into_a_missing_directory_is_one_line() {
    require_root_and_tools();
    let out = run(
        BIN,
        &[
            "capture",
            "lo",
            "-w",
            "/nonexistent-dir/out.pcap",
            "--duration",
            "1",
        ],
    );
    let stderr = assert_one_line_error(&out, "capture lo -w /nonexistent-dir/out.pcap");
    assert!(
        stderr.contains("/nonexistent-dir/out.pcap") && stderr.contains("cannot write"),
        "should name the file and say it cannot be written: {stderr}"
    );
}

/// A disk that fills up stops the saving, not the capture: the report still comes, the
/// warning says what happened, and the exit status says the run was incomplete.
#[test]
fn a_full_disk_stops_saving_but_not_the_capture() {
    require_root_and_tools();
    let out = run(
        BIN,
        &[
            "capture",
            "lo",
            "-w",
            "/dev/full",
            "--duration",
            "1",
            "-F",
            "json",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "exit status; stderr:\n{stderr}");
    assert!(
        stderr.contains("/dev/full: cannot write the capture (No space left on device"),
        "should say why saving failed: {stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|err| panic!("the report is not JSON ({err}); stderr:\n{stderr}"));
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("/dev/full"),
        "the report should carry the warning: {warnings}"
    );
}

#[test]
fn bad_filter_is_one_line() {
    require_root_and_tools();
    let out = run(BIN, &["capture", "lo", "tcp port", "--duration", "2"]);
    let stderr = assert_one_line_error(&out, "capture lo 'tcp port'");
    assert!(
        stderr.contains("filter") && stderr.contains("tcp port"),
        "should say the filter is wrong and quote it: {stderr}"
    );
}

#[test]
fn permission_denied_suggests_setcap() {
    require_root_and_tools();
    use std::os::unix::process::CommandExt;
    // The binary must be reachable by uid 65534: check, so a failure says why.
    let out = Command::new(BIN)
        .args(["capture", "lo", "--duration", "2"])
        .uid(65534)
        .gid(65534)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|err| {
            panic!("cannot run {BIN} as uid 65534 (is its directory world-readable?): {err}")
        });
    let stderr = assert_one_line_error(&out, "capture lo as uid 65534");
    assert!(
        stderr.contains("permission denied") && stderr.contains("setcap"),
        "should say permission denied and give the setcap fix: {stderr}"
    );
}

#[test]
fn interface_down_says_so() {
    let ns = Ns::new("down");
    // A dummy interface when the kernel has the module; otherwise a veth pair (both left down).
    let dummy = run("ip", &["-n", &ns.0, "link", "add", "d0", "type", "dummy"]);
    if !dummy.status.success() {
        must(
            "ip",
            &[
                "-n", &ns.0, "link", "add", "d0", "type", "veth", "peer", "name", "d1",
            ],
        );
    }
    let out = run(
        "ip",
        &[
            "netns",
            "exec",
            &ns.0,
            BIN,
            "capture",
            "d0",
            "--duration",
            "2",
        ],
    );
    let stderr = assert_one_line_error(&out, "capture d0 (down)");
    assert!(
        stderr.contains("d0") && stderr.contains("down"),
        "should say d0 is down: {stderr}"
    );
    assert!(
        stderr.contains("ip link set d0 up"),
        "should give the fix: {stderr}"
    );
}

/// A tap device whose link type is set to CAN (TUNSETLINK): libpcap opens it as
/// CAN_SOCKETCAN, which rstscope cannot decode.
const ODD_LINK_PY: &str = r#"
import fcntl, os, struct, sys
TUNSETIFF, TUNSETPERSIST, TUNSETLINK = 0x400454ca, 0x400454cb, 0x400454cd
IFF_TAP, IFF_NO_PI, ARPHRD_CAN = 0x0002, 0x1000, 280
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", sys.argv[1].encode(), IFF_TAP | IFF_NO_PI))
fcntl.ioctl(fd, TUNSETLINK, ARPHRD_CAN)
fcntl.ioctl(fd, TUNSETPERSIST, 1)
"#;

#[test]
fn unsupported_link_type_is_one_line() {
    let ns = Ns::new("odd");
    must(
        "ip",
        &["netns", "exec", &ns.0, "python3", "-c", ODD_LINK_PY, "odd0"],
    );
    must("ip", &["-n", &ns.0, "link", "set", "odd0", "up"]);
    let out = run(
        "ip",
        &[
            "netns",
            "exec",
            &ns.0,
            BIN,
            "capture",
            "odd0",
            "--duration",
            "2",
        ],
    );
    let stderr = assert_one_line_error(&out, "capture odd0 (link type CAN)");
    assert!(
        stderr.contains("odd0") && stderr.contains("unsupported link type CAN_SOCKETCAN (227)"),
        "should name the interface and its link type: {stderr}"
    );
    assert!(
        stderr.contains("`any`"),
        "should say what to capture on instead: {stderr}"
    );
}

#[test]
fn interfaces_lists_lo() {
    require_root_and_tools();
    let out = run(BIN, &["interfaces"]);
    assert!(out.status.success(), "rstscope interfaces: {}", out.status);
    let stdout = text(&out.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.split_whitespace().nth(1) == Some("lo")),
        "rstscope interfaces should list lo:\n{stdout}"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Lines as resets happen, --duration, -w, and the same verdicts as analyze

#[test]
fn resets_are_announced_within_two_seconds_and_match_analyze() {
    let net = Net::new("live");
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("out.pcap");
    let started = Instant::now();
    let mut capture = net.capture(&["tcp", "--duration", "8", "-w", path_str(&pcap)]);
    capture.wait_ready(&net);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the capture took {:.1} s to open; the test needs the rest of --duration 8",
        started.elapsed().as_secs_f64()
    );

    // (client port, what, expected from/verdict/scenario). The aborted request comes first: its
    // handshake shows the server's TTL, which the refused connection is then judged against.
    let cases = [
        (40002u16, "aborted", ("server", "peer", "peer_abort")),
        (40001u16, "refused", ("server", "peer", "refused")),
    ];
    for (port, what, _) in &cases {
        let sent = Instant::now();
        if *what == "refused" {
            net.refused(*port, CLOSED_PORT);
        } else {
            net.aborted(*port);
        }
        let done = Instant::now();
        let wanted = format!("{CLIENT_IP}:{port} -> ");
        let seen = capture
            .wait_line(Duration::from_secs(4), |l| l.contains(&wanted))
            .unwrap_or_else(|| {
                panic!(
                    "no line for the {what} connection from port {port} within 4 s; stdout:\n{}",
                    capture.stdout_so_far()
                )
            });
        let line = ResetLine::parse(&seen.line)
            .unwrap_or_else(|| panic!("the line does not read as a reset line: {}", seen.line));
        // The RST's own capture time (the line's timestamp) to the moment the test read it.
        let latency = seen.wall.duration_since(line.ts).unwrap_or_default();
        // And from the client's end (when it had seen the RST) as the test measures it.
        let after_client = seen.at.saturating_duration_since(done);
        eprintln!(
            "{what}: line {:.0} ms after the RST was captured ({:.0} ms after the client saw it, {:.0} ms after it started)",
            latency.as_secs_f64() * 1000.0,
            after_client.as_secs_f64() * 1000.0,
            seen.at.saturating_duration_since(sent).as_secs_f64() * 1000.0,
        );
        assert!(
            latency < LINE_WITHIN && after_client < LINE_WITHIN,
            "the {what} reset was announced {:.2} s after its capture time ({:.2} s after the client saw it); it should be under {} s: {}",
            latency.as_secs_f64(),
            after_client.as_secs_f64(),
            LINE_WITHIN.as_secs(),
            seen.line
        );
    }

    let finished = capture.finish(Duration::from_secs(12));
    finished.assert_clean_exit("--duration 8");
    let ran = finished.ran_for.as_secs_f64();
    assert!(
        (7.5..11.0).contains(&ran),
        "--duration 8 should stop the capture after about 8 s; it ran {ran:.1} s"
    );
    let summary = finished.summary();
    assert!(
        summary.contains(" packets from 1 input"),
        "unexpected summary: {summary}"
    );

    let lines = finished.resets();
    for (port, what, (from, verdict, scenario)) in &cases {
        let mine: Vec<&ResetLine> = lines.iter().filter(|l| l.client_port() == *port).collect();
        assert_eq!(
            mine.len(),
            1,
            "expected one line for the {what} connection from port {port}:\n{}",
            finished.stdout()
        );
        let got = (
            mine[0].from.as_str(),
            mine[0].verdict.as_str(),
            mine[0].scenario.as_str(),
        );
        assert_eq!(
            got,
            (*from, *verdict, *scenario),
            "the {what} reset: {mine:?}"
        );
        assert_eq!(mine[0].ttl, TTL_SERVER, "the {what} reset's TTL: {mine:?}");
    }

    // The saved capture, analysed afterwards, tells the same story frame by frame.
    assert!(pcap.is_file(), "-w wrote no file at {}", pcap.display());
    let analyzed = json_resets(&analyze_json(&pcap));
    let live: BTreeMap<(u64, u64), (String, String, String, u64)> = lines
        .iter()
        .map(|l| {
            (
                (u64::from(l.client_port()), l.frame),
                (
                    l.from.clone(),
                    l.verdict.clone(),
                    l.scenario.clone(),
                    u64::from(l.ttl),
                ),
            )
        })
        .collect();
    // Every reset in the file got exactly one line (same flows, same frame numbers).
    assert_eq!(
        live.keys().collect::<Vec<_>>(),
        analyzed.keys().collect::<Vec<_>>(),
        "the live lines and `analyze` of the -w file should list the same resets (client port, frame); stdout:\n{}",
        finished.stdout()
    );
    // The test's own resets are judged alike. (The probes are not compared: the first one is
    // announced before rstscope has seen any other packet of the server, so its line may say
    // `unknown` where the whole file, with the later flows, says `peer`.)
    let ours = |all: &BTreeMap<(u64, u64), (String, String, String, u64)>| {
        all.iter()
            .filter(|((port, _), _)| cases.iter().any(|(p, _, _)| u64::from(*p) == *port))
            .map(|(k, v)| (*k, v.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ours(&live),
        ours(&analyzed),
        "the live lines (left) and `analyze` of the -w file (right) should judge the test's resets alike; stdout:\n{}",
        finished.stdout()
    );
}

/// `any` captures every interface of the namespace in Linux cooked v2 framing; the resets read
/// the same as on c0 itself.
#[test]
fn any_interface_reads_linux_cooked_v2() {
    let net = Net::new("any");
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("any.json");
    let mut capture = net.capture_on("any", &["tcp", "-F", "json", "-o", path_str(&report)]);
    capture.wait_ready(&net);
    // A connection the server answers first, so its distance is known when it refuses one.
    net.aborted(40099);
    net.refused(40100, CLOSED_PORT);
    let wanted = format!("{CLIENT_IP}:40100 -> ");
    capture
        .wait_line(Duration::from_secs(4), |l| l.contains(&wanted))
        .unwrap_or_else(|| {
            panic!(
                "no line for the refused connection within 4 s on `any`; stdout:\n{}",
                capture.stdout_so_far()
            )
        });
    signal(capture.pid(), "INT");
    let finished = capture.finish(Duration::from_secs(5));
    finished.assert_clean_exit("SIGINT on any");

    let live = read_json(&report);
    assert_eq!(live["inputs"][0]["path"], "any", "{}", live["inputs"]);
    assert_eq!(
        live["inputs"][0]["link_type"], "LINUX_SLL2",
        "{}",
        live["inputs"]
    );
    let flow = live["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["client"]["port"] == 40100)
        .unwrap_or_else(|| panic!("no flow from port 40100:\n{live}"));
    // Each packet once: `any` in this namespace sees c0 (and lo, which carries none of them).
    assert_eq!(flow["packets"]["client"], 1, "{flow}");
    assert_eq!(flow["packets"]["server"], 1, "{flow}");
    let rst = &flow["resets"][0];
    assert_eq!(
        (&rst["verdict"], &rst["scenario"], &rst["ttl"]),
        (
            &Value::from("peer"),
            &Value::from("refused"),
            &Value::from(TTL_SERVER)
        ),
        "{rst}"
    );
}

/// On a host that forwards the traffic, `any` sees every packet twice (in by one interface, out
/// by the other, one hop older): each flow counts it once, the copies are counted apart, and
/// the TTLs stay those of the way in.
#[test]
fn any_on_a_forwarding_host_counts_each_packet_once() {
    let net = Net::new("fwd");
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("fwd.json");
    let mut capture = Net::capture_in(
        &net.router,
        "any",
        &["tcp", "-F", "json", "-o", path_str(&report)],
    );
    capture.wait_ready(&net);
    net.aborted(40199);
    net.refused(40200, CLOSED_PORT);
    let wanted = format!("{CLIENT_IP}:40200 -> ");
    capture
        .wait_line(Duration::from_secs(4), |l| l.contains(&wanted))
        .unwrap_or_else(|| {
            panic!(
                "no line for the refused connection within 4 s on the router's `any`; stdout:\n{}",
                capture.stdout_so_far()
            )
        });
    signal(capture.pid(), "INT");
    let finished = capture.finish(Duration::from_secs(5));
    finished.assert_clean_exit("SIGINT on the router's any");

    let live = read_json(&report);
    let input = &live["inputs"][0];
    assert_eq!(input["link_type"], "LINUX_SLL2", "{input}");
    let tcp = input["tcp_packets"].as_u64().unwrap_or(0);
    let copies = input["copies_on_other_interfaces"].as_u64().unwrap_or(0);
    assert!(
        tcp > 0 && copies * 2 == tcp,
        "every TCP packet crossed the router, so half of them are copies: {input}"
    );
    let flow = |port: u16| {
        live["flows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["client"]["port"] == port)
            .unwrap_or_else(|| panic!("no flow from port {port}:\n{live}"))
    };
    let refused = flow(40200);
    assert_eq!(refused["packets"]["client"], 1, "{refused}");
    assert_eq!(refused["packets"]["server"], 1, "{refused}");
    let rst = &refused["resets"][0];
    // Seen as it came in from the server, before the router made it one hop older.
    assert_eq!(rst["ttl"], 64, "{rst}");
    assert_eq!(
        (&rst["verdict"], &rst["scenario"]),
        (&Value::from("peer"), &Value::from("refused")),
        "{rst}"
    );
    let aborted = flow(40199);
    let rst = &aborted["resets"][0];
    assert_eq!(
        (&rst["verdict"], &rst["scenario"]),
        (&Value::from("peer"), &Value::from("peer_abort")),
        "{aborted}"
    );
}

/// `--anonymize-key` on a live capture: the lines, the final report and the `-w` file hold no
/// real address, and the saved file reads back to the same (anonymised) resets.
#[test]
fn anonymized_capture_hides_every_address_everywhere() {
    const KEY: &str = "2b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfe";
    let net = Net::new("anon");
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("anon.json");
    let pcap = dir.path().join("anon.pcap");
    let mut capture = net.capture(&[
        "tcp",
        "--anonymize-key",
        KEY,
        "-w",
        path_str(&pcap),
        "-F",
        "json",
        "-o",
        path_str(&report),
    ]);
    // The probes' lines show anonymised addresses, so wait for any line at all.
    let until = Instant::now() + Duration::from_secs(12);
    while capture
        .wait_line(Duration::from_millis(400), |l| l.contains(" RST from "))
        .is_none()
    {
        assert!(Instant::now() < until, "no reset announced within 12 s");
        net.refused(0, PROBE_PORT);
    }
    net.aborted(40299);
    net.refused(40300, CLOSED_PORT);
    capture
        .wait_line(Duration::from_secs(4), |l| l.contains(":40300 -> "))
        .unwrap_or_else(|| panic!("no line for port 40300:\n{}", capture.stdout_so_far()));
    signal(capture.pid(), "INT");
    let finished = capture.finish(Duration::from_secs(5));
    finished.assert_clean_exit("SIGINT, anonymised");

    let mut outputs = vec![
        finished.stdout().into_bytes(),
        finished.stderr.clone().into_bytes(),
        std::fs::read(&report).unwrap(),
        std::fs::read(&pcap).unwrap(),
    ];
    let reread = analyze_json(&pcap);
    outputs.push(serde_json::to_vec(&reread).unwrap());
    for real in [CLIENT_IP, SERVER_IP] {
        let addr: std::net::Ipv4Addr = real.parse().unwrap();
        for (index, output) in outputs.iter().enumerate() {
            assert!(
                !output.windows(real.len()).any(|w| w == real.as_bytes())
                    && !output.windows(4).any(|w| w == addr.octets()),
                "{real} appears in output {index}"
            );
        }
    }
    let live = read_json(&report);
    assert_eq!(live["anonymized"], true);
    // The saved file reads back to the live report's resets, addresses and verdicts alike.
    let flows = |r: &Value| -> Vec<(String, String, u64)> {
        let mut all: Vec<_> = r["flows"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|f| f["resets"].as_array().unwrap().iter())
            .map(|x| {
                (
                    x["src"]["ip"].to_string(),
                    x["verdict"].to_string(),
                    x["frame"].as_u64().unwrap(),
                )
            })
            .collect();
        all.sort();
        all
    };
    assert_eq!(flows(&reread), flows(&live));
    assert!(!flows(&live).is_empty());
}

// ---------------------------------------------------------------------------------------------
// 3. SIGINT and SIGTERM stop the capture with the report

#[test]
fn sigint_stops_with_the_json_report_matching_analyze() {
    let net = Net::new("int");
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("int.pcap");
    let report = dir.path().join("report.json");
    let mut capture = net.capture(&[
        "tcp",
        "--duration",
        "25",
        "-F",
        "json",
        "-o",
        path_str(&report),
        "-w",
        path_str(&pcap),
    ]);
    capture.wait_ready(&net);
    net.aborted(40010);
    let wanted = format!("{CLIENT_IP}:40010 -> ");
    assert!(
        capture
            .wait_line(Duration::from_secs(4), |l| l.contains(&wanted))
            .is_some(),
        "no line for the aborted connection; stdout:\n{}",
        capture.stdout_so_far()
    );
    let stopped = Instant::now();
    signal(capture.pid(), "INT");
    let finished = capture.finish(Duration::from_secs(5));
    let took = stopped.elapsed();
    finished.assert_clean_exit("SIGINT");
    assert!(
        took < Duration::from_secs(3),
        "SIGINT took {:.1} s to stop the capture",
        took.as_secs_f64()
    );
    assert!(
        finished.ran_for < Duration::from_secs(20),
        "the capture ran until --duration, not until SIGINT"
    );
    let live = read_json(&report);
    let packets = live["inputs"][0]["packets"].as_u64().unwrap_or(0);
    assert!(packets > 0, "the live report counts no packets:\n{live}");
    assert!(
        live["inputs"][0]["dropped_by_kernel"].is_u64(),
        "a live report should carry libpcap's drop counter:\n{}",
        live["inputs"][0]
    );
    let live_resets = json_resets(&live);
    assert!(
        live_resets.keys().any(|(port, _)| *port == 40010),
        "the live report lacks the aborted connection:\n{live}"
    );
    let analyzed = json_resets(&analyze_json(&pcap));
    assert_eq!(
        live_resets, analyzed,
        "the live JSON report (left) and `analyze` of its -w file (right) should agree on every reset"
    );
    // The running lines went to stdout (the report to the file): one per reset.
    assert_eq!(
        finished.resets().len(),
        live_resets.len(),
        "one line per reset expected on stdout:\n{}",
        finished.stdout()
    );
}

#[test]
fn sigterm_stops_with_the_table() {
    let net = Net::new("term");
    let mut capture = net.capture(&["tcp", "--duration", "25"]);
    capture.wait_ready(&net);
    net.refused(40020, CLOSED_PORT);
    let stopped = Instant::now();
    signal(capture.pid(), "TERM");
    let finished = capture.finish(Duration::from_secs(5));
    let took = stopped.elapsed();
    finished.assert_clean_exit("SIGTERM");
    assert!(
        took < Duration::from_secs(3),
        "SIGTERM took {:.1} s to stop the capture",
        took.as_secs_f64()
    );
    let summary = finished.summary();
    assert!(summary.contains(" packets from 1 input"), "{summary}");
    // The refused connection right before the signal is in the report, announced at the end
    // if its second had not passed.
    assert!(
        finished.resets().iter().any(|l| l.client_port() == 40020),
        "the reset just before SIGTERM is missing:\n{}",
        finished.stdout()
    );
}

/// Issue 11: a kernel filter that lets only RSTs through leaves a reset nothing to be compared
/// with; the report says so, and names the filter.
#[test]
fn a_filter_that_keeps_only_resets_is_warned_about() {
    let net = Net::new("rstonly");
    let capture = net.capture(&["tcp[tcpflags] & tcp-rst != 0", "--duration", "20"]);
    // The probes `wait_ready` sends are told by their flow's orientation, which a RST-only
    // capture cannot give; wait for the handle instead.
    std::thread::sleep(Duration::from_millis(1500));
    net.refused(40030, CLOSED_PORT);
    std::thread::sleep(Duration::from_millis(300));
    signal(capture.pid(), "INT");
    let finished = capture.finish(Duration::from_secs(5));
    finished.assert_clean_exit("SIGINT");
    assert!(
        finished
            .stderr
            .contains("the capture filter 'tcp[tcpflags] & tcp-rst != 0' ran in the kernel")
            && finished.stderr.contains("no other packet"),
        "no warning about the filter:\n{}",
        finished.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// 4. --count and --resets

#[test]
fn count_stops_after_n_packets() {
    let net = Net::new("count");
    let capture = net.capture(&["tcp", "--count", "6", "--duration", "20"]);
    // Refused connections (SYN, RST: 2 packets each) until the capture stops by itself.
    let mut capture = capture;
    let until = Instant::now() + Duration::from_secs(15);
    while Instant::now() < until {
        if let Ok(Some(_)) = capture.child.try_wait() {
            break;
        }
        net.refused(0, CLOSED_PORT);
        std::thread::sleep(Duration::from_millis(150));
    }
    let finished = capture.finish(Duration::from_secs(5));
    finished.assert_clean_exit("--count 6");
    assert!(
        finished.ran_for < Duration::from_secs(16),
        "--count 6 did not stop the capture; --duration did"
    );
    let summary = finished.summary();
    assert!(
        summary.starts_with("Read 6 packets"),
        "--count 6 should stop after exactly 6 packets: {summary}"
    );
}

#[test]
fn resets_1_stops_after_the_first_rst() {
    let net = Net::new("rst1");
    let mut capture = net.capture(&["tcp", "--resets", "1", "--duration", "20"]);
    let until = Instant::now() + Duration::from_secs(15);
    let mut port = 40100u16;
    while Instant::now() < until {
        if let Ok(Some(_)) = capture.child.try_wait() {
            break;
        }
        net.aborted(port);
        port += 1;
        std::thread::sleep(Duration::from_millis(300));
    }
    let finished = capture.finish(Duration::from_secs(5));
    finished.assert_clean_exit("--resets 1");
    assert!(
        finished.ran_for < Duration::from_secs(16),
        "--resets 1 did not stop the capture; --duration did"
    );
    let summary = finished.summary();
    assert!(
        summary.contains(" 1 RST segment"),
        "--resets 1 should stop right after one RST: {summary}"
    );
    let lines = finished.resets();
    assert_eq!(
        lines.len(),
        1,
        "the one reset should be announced (at the end, if not before):\n{}",
        finished.stdout()
    );
    assert_eq!(
        (lines[0].verdict.as_str(), lines[0].scenario.as_str()),
        ("peer", "peer_abort"),
        "the reset: {:?}",
        lines[0]
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Soak: thousands of resets, bounded memory

/// Peak resident memory (VmHWM) of a process in KiB, or None once it is gone.
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// The soak: connections a second, for how long, every how many one aborted by the server.
const SOAK_RATE: u32 = 250;
const SOAK_SECS: u32 = 60;
const SOAK_ABORT_EVERY: u32 = 20;
/// Table, Markdown and HTML reports list at most this many flows (JSON streams them all).
const SOAK_REPORT_FLOWS: usize = 2000;
/// The memory bound asserted: resident memory at its peak, and its growth over the second half
/// of the soak (flat: flows leave the table, the report keeps a bounded number).
const SOAK_PEAK_RSS_MIB: u64 = 64;
const SOAK_SECOND_HALF_GROWTH_MIB: u64 = 8;

/// Resident memory (VmRSS) of a process in KiB.
fn vm_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// A minute of thousands of refused and aborted connections: every RST announced, no packet
/// dropped, memory bounded and flat over the second half.
#[test]
fn soak_a_minute_of_resets_in_flat_memory() {
    let net = Net::new("soak");
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("soak.json");
    let report_flows = SOAK_REPORT_FLOWS.to_string();
    let mut capture = net.capture(&[
        "tcp",
        "--duration",
        "150",
        "--report-flows",
        &report_flows,
        "-F",
        "json",
        "-o",
        path_str(&report),
    ]);
    let pid = capture.pid();
    capture.wait_ready(&net);
    // Resident memory sampled every 100 ms until the process is gone, with when.
    let sampler = std::thread::spawn(move || {
        let began = Instant::now();
        let mut samples = Vec::new();
        while let Some(kib) = vm_rss_kib(pid) {
            samples.push((began.elapsed(), kib));
            std::thread::sleep(Duration::from_millis(100));
        }
        samples
    });

    let began = Instant::now();
    let got = net.client(&[
        "soak",
        &SOAK_RATE.to_string(),
        &SOAK_SECS.to_string(),
        &SOAK_ABORT_EVERY.to_string(),
        SERVER_IP,
        &CLOSED_PORT.to_string(),
        &ABORT_PORT.to_string(),
    ]);
    let generated = began.elapsed();
    let counts: Value = serde_json::from_str(&got).expect("the generator printed no counts");
    let refused = counts["refused"].as_u64().unwrap_or(0);
    let reset = counts["reset"].as_u64().unwrap_or(0);
    // Let the last resets be announced.
    std::thread::sleep(Duration::from_millis(1500));
    let peak_before_stop = vm_hwm_kib(pid).unwrap_or(0);
    signal(pid, "INT");
    let finished = capture.finish(Duration::from_secs(15));
    let samples = sampler.join().unwrap();
    finished.assert_clean_exit("SIGINT after the soak");

    // Resident memory over the second half of the generator's run (before the final report).
    let half = generated / 2;
    let second_half: Vec<u64> = samples
        .iter()
        .filter(|(at, _)| *at >= half && *at <= generated)
        .map(|&(_, kib)| kib)
        .collect();
    let (low, high) = (
        second_half.iter().copied().min().unwrap_or(0),
        second_half.iter().copied().max().unwrap_or(0),
    );
    let peak_kib = samples
        .iter()
        .map(|&(_, kib)| kib)
        .max()
        .unwrap_or(0)
        .max(peak_before_stop);

    let live = read_json(&report);
    let input = &live["inputs"][0];
    let packets = input["packets"].as_u64().unwrap_or(0);
    let dropped = input["dropped_by_kernel"].as_u64();
    let summary = &live["summary"];
    let rst_segments = summary["resets"].as_u64().unwrap_or(0);
    let listed = live["flows"].as_array().unwrap().len();
    let not_listed = summary["flows_not_listed"].as_u64().unwrap_or(0);
    let lines = finished.resets().len() as u64;
    eprintln!(
        "soak: {refused} refused + {reset} aborted connections in {:.1} s ({counts}); rstscope saw {packets} packets, {rst_segments} RST segments, {lines} lines, {} flows ({listed} listed, {not_listed} not); dropped by kernel: {}; RSS over the second half {:.1}..{:.1} MiB, peak {:.1} MiB",
        generated.as_secs_f64(),
        summary["tcp_flows"],
        dropped.map_or_else(|| "not reported".to_string(), |d| d.to_string()),
        low as f64 / 1024.0,
        high as f64 / 1024.0,
        peak_kib as f64 / 1024.0,
    );
    let expected = u64::from(SOAK_RATE * SOAK_SECS);
    assert!(
        refused + reset >= expected / 2,
        "the generator made only {refused} + {reset} of {expected} connections: {counts}"
    );
    assert!(
        reset >= 100,
        "too few aborted connections ({reset}): {counts}"
    );
    assert_eq!(dropped, Some(0), "the kernel dropped packets:\n{input}");
    // Every RST segment was announced by a line as it happened.
    assert_eq!(
        lines, rst_segments,
        "one line per RST segment expected (lines {lines}, RST segments {rst_segments})"
    );
    assert!(
        lines >= refused + reset,
        "fewer lines ({lines}) than connections the client saw reset ({refused} + {reset})"
    );
    // The JSON report is streamed: every flow is in it, none held back in memory.
    assert_eq!(
        (listed as u64, not_listed),
        (summary["tcp_flows"].as_u64().unwrap_or(0), 0),
        "every flow listed in the streamed JSON"
    );
    assert!(
        !second_half.is_empty() && peak_kib > 0,
        "could not read the capture's memory from /proc/{pid}/status"
    );
    assert!(
        peak_kib < SOAK_PEAK_RSS_MIB * 1024,
        "rstscope capture peaked at {:.1} MiB resident; the bound is {SOAK_PEAK_RSS_MIB} MiB",
        peak_kib as f64 / 1024.0
    );
    assert!(
        high - low < SOAK_SECOND_HALF_GROWTH_MIB * 1024,
        "resident memory grew from {:.1} to {:.1} MiB over the second half of the soak",
        low as f64 / 1024.0,
        high as f64 / 1024.0
    );
}
