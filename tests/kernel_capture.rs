//! `rstscope capture` with the kernel's reset tracepoints, end to end, as root on this host's
//! kernel (CI is root on a kernel that has them; these tests fail, never skip, where it does).
//!
//! Each test makes two network namespaces joined by a veth pair: the capturing host `A`
//! (192.0.2.N) runs the capture on its end and a python3 server; the peer `B` (192.0.2.N+1)
//! connects to it. Every RST `A`'s stack sends must come back matched to its kernel event,
//! with the kernel's reason, verdict `peer` and the reason's scenario; a RST that `A`'s own
//! nftables rule makes must be `host_firewall` with no event. Tests take a lock and run one at
//! a time (the tracepoints see every namespace of the kernel), each on its own addresses.
//! Only documentation addresses are used, and the namespaces have no link to the host.
#![cfg(target_os = "linux")]
// Helpers outside #[test] functions panic on purpose: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_rstscope");

/// One test at a time: the kernel's events are global, and a storm must not slow another.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
static NEXT_LAB: AtomicU32 = AtomicU32::new(0);

fn ok(args: &[&str]) {
    let status = Command::new(args[0])
        .args(&args[1..])
        .status()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (scripts/setup installs iproute2 and nftables)",
                args[0]
            )
        });
    assert!(status.success(), "{args:?} failed");
}

/// Two namespaces and a veth pair; removed (with every process in them) when dropped.
struct Lab {
    a: String,
    b: String,
    /// The capturing host's and the peer's addresses.
    ip_a: String,
    ip_b: String,
    veth: String,
    dir: tempfile::TempDir,
    _lock: MutexGuard<'static, ()>,
}

impl Lab {
    fn new() -> Lab {
        let lock = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        assert_eq!(
            effective_uid(),
            0,
            "the kernel tracing tests need root: run `sudo -E cargo test --test kernel_capture`"
        );
        let n = NEXT_LAB.fetch_add(1, Ordering::SeqCst);
        let tag = format!("{}{n}", std::process::id() % 100_000);
        let lab = Lab {
            a: format!("rka{tag}"),
            b: format!("rkb{tag}"),
            ip_a: format!("192.0.2.{}", 10 + 2 * n),
            ip_b: format!("192.0.2.{}", 11 + 2 * n),
            veth: format!("ka{tag}"),
            dir: tempfile::tempdir().unwrap(),
            _lock: lock,
        };
        for ns in [&lab.a, &lab.b] {
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stderr(Stdio::null())
                .status();
            ok(&["ip", "netns", "add", ns]);
            ok(&["ip", "-n", ns, "link", "set", "lo", "up"]);
        }
        let peer = format!("kb{tag}");
        ok(&[
            "ip", "link", "add", &lab.veth, "type", "veth", "peer", "name", &peer,
        ]);
        ok(&["ip", "link", "set", &lab.veth, "netns", &lab.a]);
        ok(&["ip", "link", "set", &peer, "netns", &lab.b]);
        ok(&[
            "ip",
            "-n",
            &lab.a,
            "addr",
            "add",
            &format!("{}/24", lab.ip_a),
            "dev",
            &lab.veth,
        ]);
        ok(&[
            "ip",
            "-n",
            &lab.b,
            "addr",
            "add",
            &format!("{}/24", lab.ip_b),
            "dev",
            &peer,
        ]);
        ok(&["ip", "-n", &lab.a, "link", "set", &lab.veth, "up"]);
        ok(&["ip", "-n", &lab.b, "link", "set", &peer, "up"]);
        lab
    }

    /// Runs a python3 program in a namespace and waits for it.
    fn python(&self, ns: &str, code: &str) -> String {
        let out = Command::new("ip")
            .args(["netns", "exec", ns, "python3", "-c", code])
            .output()
            .unwrap_or_else(|e| panic!("python3: {e}"));
        assert!(
            out.status.success(),
            "python3 in {ns}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Starts a python3 program in a namespace without waiting.
    fn python_bg(&self, ns: &str, code: &str) -> Child {
        Command::new("ip")
            .args(["netns", "exec", ns, "python3", "-c", code])
            .spawn()
            .unwrap_or_else(|e| panic!("python3: {e}"))
    }

    fn nft(&self, ns: &str, rules: &str) {
        let path = self.dir.path().join(format!("{ns}.nft"));
        std::fs::write(&path, rules).unwrap();
        ok(&[
            "ip",
            "netns",
            "exec",
            ns,
            "nft",
            "-f",
            path.to_str().unwrap(),
        ]);
    }

    /// Starts `rstscope capture` on A's interface, JSON report to a file, and waits until it
    /// has said whether kernel tracing is on.
    fn capture(&self, extra: &[&str]) -> Capture {
        let report = self.dir.path().join("report.json");
        let mut child = Command::new("ip")
            .args([
                "netns", "exec", &self.a, BIN, "capture", &self.veth, "-F", "json", "-o",
            ])
            .arg(&report)
            .args(extra)
            // The running lines (one per reset) are not read here.
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("rstscope: {e}"));
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut capture = Capture {
            child,
            report,
            lines: rx,
            said: Vec::new(),
        };
        capture.wait_for_line("kernel reset tracing");
        // The privilege drop comes once every handle is open.
        if !extra.contains(&"--no-kernel") && !extra.contains(&"root") {
            capture.wait_for_line("running as");
        }
        capture
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in [&self.a, &self.b] {
            if let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() {
                for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                    let _ = Command::new("kill").args(["-9", pid]).status();
                }
            }
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

fn effective_uid() -> u32 {
    status_uid(std::process::id()).unwrap_or(u32::MAX)
}

/// The effective uid of a process, from /proc.
fn status_uid(pid: u32) -> Option<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .and_then(|id| id.parse().ok())
}

/// The processes whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            std::fs::read_to_string(format!("/proc/{child}/status"))
                .unwrap_or_default()
                .lines()
                .find_map(|line| line.strip_prefix("PPid:"))
                .is_some_and(|ppid| ppid.trim() == pid.to_string())
        })
        .collect()
}

/// A running capture.
struct Capture {
    child: Child,
    report: PathBuf,
    lines: Receiver<String>,
    said: Vec<String>,
}

impl Capture {
    fn wait_for_line(&mut self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(line) = self.said.iter().find(|l| l.contains(text)) {
                return line.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.said.push(line),
                Err(_) => panic!(
                    "rstscope never said '{text}'; it said:\n{}",
                    self.said.join("\n")
                ),
            }
        }
    }

    /// The capture process under the guardian `ip netns exec` became.
    fn capturing_pid(&self) -> u32 {
        let guardian = self.child.id();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(&pid) = children_of(guardian).first() {
                return pid;
            }
            assert!(
                Instant::now() < deadline,
                "the guardian {guardian} started no capture"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal(&self, signal: &str) {
        ok(&["kill", &format!("-{signal}"), &self.child.id().to_string()]);
    }

    /// Stops it with SIGTERM; returns the report and the exit code.
    fn stop(mut self) -> (Value, i32) {
        // Let the last events settle and the flows show a little more.
        std::thread::sleep(Duration::from_millis(300));
        self.signal("TERM");
        let code = self.wait();
        let text = std::fs::read_to_string(&self.report).unwrap_or_else(|e| {
            panic!("no report ({e}); rstscope said:\n{}", self.said.join("\n"))
        });
        let report: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        (report, code)
    }

    fn wait(&mut self) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(100)) {
                    self.said.push(line);
                }
                return status.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "the capture did not stop; it said:\n{}",
                    self.said.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Every reset in the report, with its flow.
fn resets(report: &Value) -> Vec<Value> {
    report["flows"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|flow| flow["resets"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// The resets `ip` sent (from its address).
fn resets_from(report: &Value, ip: &str) -> Vec<Value> {
    resets(report)
        .into_iter()
        .filter(|r| r["src"]["ip"] == ip)
        .collect()
}

/// The one RST A sent, which must carry the kernel's `reason`, verdict peer and `scenario`.
fn assert_kernel_reset(report: &Value, lab: &Lab, reason: &str, scenario: &str) -> Value {
    let sent = resets_from(report, &lab.ip_a);
    assert_eq!(sent.len(), 1, "one RST from the capturing host: {report:#}");
    let reset = sent[0].clone();
    assert_eq!(reset["kernel"]["event"], "tcp_send_reset", "{reset:#}");
    assert_eq!(reset["kernel"]["reason"], reason, "{reset:#}");
    assert_eq!(reset["verdict"], "peer", "{reset:#}");
    assert_eq!(reset["scenario"], scenario, "{reset:#}");
    assert!(reset["confidence"].as_f64().unwrap() >= 0.99, "{reset:#}");
    assert_eq!(reset["evidence"][0]["signal"], "kernel_sent", "{reset:#}");
    let tracing = &report["inputs"][0]["kernel_tracing"];
    assert_eq!(tracing["state"], "on", "{tracing:#}");
    assert_eq!(tracing["events_lost"], 0, "{tracing:#}");
    reset
}

/// A capture on A while B connects to a server there, each side running its python3 lines
/// (`c`: the connection); the report once both are done.
fn exchange(lab: &Lab, extra: &[&str], port: u16, server_then: &str, client_then: &str) -> Value {
    let capture = lab.capture(extra);
    let mut srv = server(lab, port, server_then);
    client(lab, port, client_then);
    let _ = srv.wait();
    let (report, _) = capture.stop();
    report
}

/// A server on A that accepts one connection and then does `then` with it (`c`).
fn server(lab: &Lab, port: u16, then: &str) -> Child {
    let mut child = lab.python_bg(
        &lab.a,
        &format!(
            "import socket, struct, time\nl=socket.socket()\nl.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\nl.bind(('{}', {port}))\nl.listen()\nc,_=l.accept()\n{then}\ntime.sleep(1)",
            lab.ip_a
        ),
    );
    // Until it listens (a connect from B would be refused).
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let out = Command::new("ip")
            .args([
                "netns",
                "exec",
                &lab.a,
                "ss",
                "-Htln",
                &format!("sport = :{port}"),
            ])
            .output()
            .unwrap();
        if !out.stdout.is_empty() {
            return child;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server on port {port} never listened");
}

/// Connects to `port` and runs `then` with the socket `c`. A server that resets at once can
/// beat the client's connect on a loaded machine (its SO_ERROR is then ECONNRESET): the reset
/// under test was still sent and captured, so the client takes it as done.
fn client(lab: &Lab, port: u16, then: &str) {
    let then = then.replace('\n', "\n    ");
    lab.python(
        &lab.b,
        &format!(
            "import socket, struct, time\ntry:\n    c=socket.create_connection(('{}', {port}), timeout=5)\nexcept ConnectionResetError:\n    c=None\nif c is not None:\n    {then}",
            lab.ip_a
        ),
    );
}

#[test]
fn a_refused_connection_is_the_kernels_no_socket_answer() {
    let lab = Lab::new();
    let capture = lab.capture(&[]);
    lab.python(
        &lab.b,
        &format!(
            "import socket\ntry: socket.create_connection(('{}', 9), timeout=2)\nexcept ConnectionRefusedError: pass",
            lab.ip_a
        ),
    );
    let (report, code) = capture.stop();
    assert_eq!(code, 0);
    let reset = assert_kernel_reset(&report, &lab, "NO_SOCKET", "refused");
    assert!(reset["kernel"]["state"].is_null(), "no socket: {reset:#}");
    assert!(
        reset["explanation"]
            .as_str()
            .unwrap()
            .contains("no socket listened on port 9"),
        "{reset:#}"
    );
}

#[test]
fn an_ipv6_refusal_and_an_ipv4_refusal_by_a_dual_stack_socket_are_matched() {
    let lab = Lab::new();
    let n = lab.ip_a.rsplit('.').next().unwrap_or("1").to_string();
    let (v6_a, v6_b) = (format!("2001:db8::{n}"), format!("2001:db8::1:{n}"));
    let peer = lab.veth.replacen("ka", "kb", 1);
    ok(&[
        "ip",
        "-n",
        &lab.a,
        "addr",
        "add",
        &format!("{v6_a}/64"),
        "dev",
        &lab.veth,
        "nodad",
    ]);
    ok(&[
        "ip",
        "-n",
        &lab.b,
        "addr",
        "add",
        &format!("{v6_b}/64"),
        "dev",
        &peer,
        "nodad",
    ]);
    let capture = lab.capture(&[]);
    lab.python(
        &lab.b,
        &format!(
            "import socket\ns=socket.socket(socket.AF_INET6)\ntry: s.connect(('{v6_a}', 9))\nexcept ConnectionRefusedError: pass"
        ),
    );
    // A dual-stack listener that aborts an IPv4 connection: the kernel stores its addresses
    // v4-mapped.
    let mut srv = lab.python_bg(
        &lab.a,
        "import socket, struct, time\nl=socket.socket(socket.AF_INET6)\nl.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\nl.bind(('::', 8010))\nl.listen()\nc,_=l.accept()\nc.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))\nc.close()\ntime.sleep(0.5)",
    );
    std::thread::sleep(Duration::from_millis(500));
    client(&lab, 8010, "time.sleep(0.5)");
    let _ = srv.wait();
    let (report, _) = capture.stop();
    let v6 = resets_from(&report, &v6_a);
    assert_eq!(v6.len(), 1, "{report:#}");
    assert_eq!(v6[0]["kernel"]["reason"], "NO_SOCKET", "{:#}", v6[0]);
    assert_eq!(v6[0]["scenario"], "refused");
    assert_kernel_reset(&report, &lab, "TCP_STATE", "abortive_close");
}

#[test]
fn closing_with_unread_data_is_abort_on_close_by_the_closing_process() {
    let lab = Lab::new();
    let report = exchange(
        &lab,
        &[],
        8001,
        "time.sleep(0.3)\nc.close()",
        "c.sendall(b'hello!')\ntime.sleep(1)",
    );
    let reset = assert_kernel_reset(&report, &lab, "TCP_ABORT_ON_CLOSE", "abort_on_close");
    assert_eq!(reset["kernel"]["process"]["name"], "python3", "{reset:#}");
    let explanation = reset["explanation"].as_str().unwrap();
    assert!(
        explanation.starts_with("python3[") && explanation.contains("not read: TCP_ABORT_ON_CLOSE"),
        "{explanation}"
    );
}

#[test]
fn linger_zero_is_an_abortive_close() {
    let lab = Lab::new();
    let report = exchange(
        &lab,
        &[],
        8002,
        "c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))\ntime.sleep(0.2)\nc.close()",
        "time.sleep(1)",
    );
    let reset = assert_kernel_reset(&report, &lab, "TCP_STATE", "abortive_close");
    assert_eq!(reset["kernel"]["process"]["name"], "python3", "{reset:#}");
}

#[test]
fn data_after_the_application_closed_is_abort_on_data() {
    let lab = Lab::new();
    let report = exchange(
        &lab,
        &[],
        8003,
        "c.shutdown(socket.SHUT_RDWR)\ntime.sleep(1)",
        "assert c.recv(10) == b''\ntime.sleep(0.1)\nc.send(b'late')\ntime.sleep(0.3)",
    );
    let reset = assert_kernel_reset(&report, &lab, "TCP_ABORT_ON_DATA", "abort_on_data");
    // Sent from the softirq that took the data: no owner to name.
    assert!(reset["kernel"].get("process").is_none(), "{reset:#}");
}

#[test]
fn data_to_a_closed_connection_in_time_wait_is_the_timewait_sockets_answer() {
    let lab = Lab::new();
    let report = exchange(
        &lab,
        &[],
        8004,
        "c.close()",
        "assert c.recv(10) == b''\ntime.sleep(0.2)\nc.send(b'late')\ntime.sleep(0.3)",
    );
    assert_kernel_reset(&report, &lab, "TCP_TIMEWAIT_SOCKET", "time_wait");
}

#[test]
fn a_peer_that_stops_answering_keepalives_is_a_keepalive_timeout() {
    let lab = Lab::new();
    let capture = lab.capture(&[]);
    let mut srv = server(
        &lab,
        8005,
        "c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)\nc.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)\nc.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)\nc.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 1)\ntime.sleep(4)",
    );
    // The client stays connected (and silent) until the namespace goes.
    let mut silent_client = lab.python_bg(
        &lab.b,
        &format!(
            "import socket, time\nc=socket.create_connection(('{}', 8005), timeout=5)\ntime.sleep(30)",
            lab.ip_a
        ),
    );
    std::thread::sleep(Duration::from_millis(300));
    // B goes silent: everything from A is dropped (its keepalive probes too).
    lab.nft(
        &lab.b,
        &format!(
            "table inet quiet {{\n  chain input {{\n    type filter hook input priority 0;\n    ip saddr {} drop\n  }}\n}}\n",
            lab.ip_a
        ),
    );
    let _ = srv.wait();
    let (report, _) = capture.stop();
    let _ = silent_client.kill();
    let _ = silent_client.wait();
    let reset = assert_kernel_reset(&report, &lab, "TCP_KEEPALIVE_TIMEOUT", "keepalive_timeout");
    assert_eq!(reset["kernel"]["state"], "TCP_ESTABLISHED", "{reset:#}");
    // Sent from a timer, so no process ran it; the socket snapshot names its user (the
    // capture runs as nobody and cannot look into root's processes).
    assert_eq!(reset["kernel"]["owner"]["user"], "root", "{reset:#}");
    assert!(
        reset["explanation"]
            .as_str()
            .unwrap()
            .contains("on a socket of a process of user root (as of the socket snapshot"),
        "{reset:#}"
    );
}

#[test]
fn the_hosts_own_nftables_reject_is_host_firewall_with_no_kernel_event() {
    let lab = Lab::new();
    lab.nft(
        &lab.a,
        "table inet guard {\n  chain input {\n    type filter hook input priority 0;\n    tcp dport 81 reject with tcp reset\n  }\n}\n",
    );
    let capture = lab.capture(&[]);
    lab.python(
        &lab.b,
        &format!(
            "import socket\ntry: socket.create_connection(('{}', 81), timeout=2)\nexcept ConnectionRefusedError: pass",
            lab.ip_a
        ),
    );
    let (report, _) = capture.stop();
    let sent = resets_from(&report, &lab.ip_a);
    assert_eq!(sent.len(), 1, "{report:#}");
    let reset = &sent[0];
    assert!(reset.get("kernel").is_none(), "no kernel event: {reset:#}");
    assert_eq!(reset["scenario"], "host_firewall", "{reset:#}");
    assert_eq!(
        reset["verdict"], "peer",
        "the host that owns the address sent it: {reset:#}"
    );
    assert_eq!(
        reset["evidence"][0]["signal"], "kernel_no_event",
        "{reset:#}"
    );
    let tracing = &report["inputs"][0]["kernel_tracing"];
    assert_eq!(tracing["resets_not_sent_by_stack"], 1, "{tracing:#}");
    assert_eq!(tracing["events_lost"], 0, "{tracing:#}");
}

#[test]
fn a_reset_from_the_peer_names_the_local_socket_it_killed() {
    let lab = Lab::new();
    // As root, the capture may look at every process's sockets; the client waits long
    // enough for a socket snapshot to see the connection before it aborts.
    let report = exchange(
        &lab,
        &["--user", "root"],
        8006,
        "time.sleep(3)",
        "c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))\ntime.sleep(1.5)\nc.close()",
    );
    let from_peer = resets_from(&report, &lab.ip_b);
    assert_eq!(from_peer.len(), 1, "{report:#}");
    let reset = &from_peer[0];
    assert_eq!(
        reset["kernel_receive"]["event"], "tcp_receive_reset",
        "{reset:#}"
    );
    assert!(
        reset["kernel_receive"]["socket_cookie"].as_u64().is_some(),
        "{reset:#}"
    );
    let owner = &reset["kernel_receive"]["owner"];
    assert_eq!(owner["user"], "root", "{reset:#}");
    assert_eq!(owner["process"]["name"], "python3", "{reset:#}");
    // The peer's own kernel is another host's: its RST is judged from the packets.
    assert!(reset.get("kernel").is_none(), "{reset:#}");
    assert!(
        reset["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["signal"] == "kernel_received"),
        "{reset:#}"
    );
}

#[test]
fn a_storm_of_fifty_thousand_local_resets_is_matched_without_loss() {
    let lab = Lab::new();
    let capture = lab.capture(&["-B", "65536"]);
    let started = Instant::now();
    lab.python(
        &lab.b,
        &format!(
            "import socket\nfor i in range(50000):\n  s=socket.socket()\n  try: s.connect(('{}', 10000 + i))\n  except ConnectionRefusedError: pass\n  s.close()",
            lab.ip_a
        ),
    );
    let took = started.elapsed();
    let (report, _) = capture.stop();
    let tracing = &report["inputs"][0]["kernel_tracing"];
    assert_eq!(
        report["inputs"][0]["dropped_by_kernel"], 0,
        "the capture must see every RST"
    );
    assert_eq!(tracing["events_lost"], 0, "{tracing:#}");
    assert_eq!(
        tracing["resets_sent_by_stack"], 50_000,
        "{tracing:#} (made in {took:?})"
    );
    assert_eq!(report["summary"]["resets"], 50_000);
    assert_eq!(report["summary"]["verdicts"]["peer"], 50_000);
}

#[test]
fn the_capture_runs_without_root_once_started_and_its_instance_goes_on_every_exit() {
    let lab = Lab::new();
    let instances = || -> Vec<String> {
        let out = Command::new("ip")
            .args([
                "netns",
                "exec",
                &lab.a,
                "sh",
                "-c",
                "mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing; ls /sys/kernel/tracing/instances",
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    for signal in ["INT", "TERM"] {
        let mut capture = lab.capture(&[]);
        let pid = capture.capturing_pid();
        assert_ne!(
            status_uid(pid),
            Some(0),
            "the capture {pid} still runs as root"
        );
        assert_ne!(status_uid(pid), None);
        let name = format!("rstscope-{pid}");
        assert!(
            instances().contains(&name),
            "{name} while capturing: {:?}",
            instances()
        );
        capture.signal(signal);
        assert_eq!(capture.wait(), 0, "SIG{signal}: {:?}", capture.said);
        assert!(
            !instances().contains(&name),
            "{name} left after SIG{signal}"
        );
    }
    // An error exit: the report cannot be written.
    let mut capture = Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.a,
            BIN,
            "capture",
            &lab.veth,
            "-F",
            "json",
            "-o",
            "/dev/full",
            "--duration",
            "1",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let guardian = capture.id();
    let deadline = Instant::now() + Duration::from_secs(5);
    let pid = loop {
        if let Some(&pid) = children_of(guardian).first() {
            break pid;
        }
        assert!(Instant::now() < deadline, "no capture started");
        std::thread::sleep(Duration::from_millis(10));
    };
    let status = capture.wait().unwrap();
    assert_eq!(status.code(), Some(1), "writing to /dev/full fails");
    assert!(
        !instances().contains(&format!("rstscope-{pid}")),
        "instance left after an error exit"
    );
    // --user root keeps root, and --no-kernel starts no tracing (and no guardian).
    let capture = lab.capture(&["--no-kernel", "--user", "root"]);
    assert!(
        capture
            .said
            .iter()
            .any(|l| l.contains("kernel reset tracing off: --no-kernel"))
    );
    let (report, _) = capture.stop();
    assert_eq!(report["inputs"][0]["kernel_tracing"]["state"], "off");
}
