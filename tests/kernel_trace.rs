//! The kernel's reset tracepoints read through rstscope's own ftrace instance, on this host's
//! kernel (root; CI is root). A refused connection and an abort with SO_LINGER {1, 0} are made
//! in a network namespace of the test's own, on a documentation address on its loopback, and
//! each must come back decoded: addresses, ports, reason, and the aborting process.
#![cfg(target_os = "linux")]

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use rstscope_core::kernel::tracefs::Instance;
use rstscope_core::kernel::{ResetEvent, ResetEventKind};

const ADDR: &str = "192.0.2.250";

struct Netns(String);

impl Netns {
    fn new() -> Netns {
        let name = format!("rstk{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).status();
        let ok = |args: &[&str]| {
            let status = Command::new("ip")
                .args(args)
                .status()
                .unwrap_or_else(|e| panic!("ip: {e}"));
            assert!(status.success(), "ip {args:?}");
        };
        ok(&["netns", "add", &name]);
        let ns = Netns(name);
        ok(&["-n", &ns.0, "link", "set", "lo", "up"]);
        ok(&[
            "-n",
            &ns.0,
            "addr",
            "add",
            &format!("{ADDR}/32"),
            "dev",
            "lo",
        ]);
        ns
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// Runs a Python snippet in the namespace; returns what it printed.
fn python(ns: &Netns, code: &str) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.0, "python3", "-c", code])
        .output()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Waits up to two seconds for an event that `wanted` accepts, among those read so far
/// (`seen`, in the order the per-CPU pipes gave them) and those still to come.
fn wait_for(
    instance: &mut Instance,
    seen: &mut Vec<ResetEvent>,
    wanted: impl Fn(&ResetEvent) -> bool,
) -> ResetEvent {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        if let Some(found) = seen.iter().find(|e| wanted(e)) {
            return found.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no kernel event for the test's RST among {seen:#?}"
        );
        instance
            .drain(&mut |event| seen.push(event))
            .unwrap_or_else(|e| panic!("a trace page: {e}"));
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_kernel_names_the_reason_and_process_of_each_reset_it_sends() {
    let mut instance = Instance::create(1024).expect("a tracing instance (run as root)");
    let dir = instance.dir().to_path_buf();
    assert!(dir.is_dir());
    let reasons = instance
        .send_decoder()
        .is_some_and(|decoder| decoder.has_reasons());
    let ns = Netns::new();
    let mut seen = Vec::new();

    // A SYN to a closed port: the stack answers with a RST from no socket.
    python(
        &ns,
        &format!(
            "import socket\ns=socket.socket()\ntry: s.connect(('{ADDR}', 9))\nexcept ConnectionRefusedError: print('refused')"
        ),
    );
    let refused_from: SocketAddr = format!("{ADDR}:9")
        .parse()
        .unwrap_or_else(|_| unreachable!());
    let refused = wait_for(&mut instance, &mut seen, |e| {
        e.kind == ResetEventKind::Sent && e.local == refused_from
    });
    assert_eq!(refused.remote.ip(), refused_from.ip());
    if reasons {
        assert_eq!(refused.reason.as_deref(), Some("NO_SOCKET"), "{refused:?}");
    }

    // An abort with SO_LINGER {1, 0}: sent from the closing process's own context.
    let printed = python(
        &ns,
        &format!(
            "import os, socket, struct\nl=socket.socket()\nl.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\nl.bind(('{ADDR}', 7001))\nl.listen()\nc=socket.create_connection(('{ADDR}', 7001))\na,_=l.accept()\nport=c.getsockname()[1]\nc.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))\nc.close()\nprint(os.getpid(), port)"
        ),
    );
    let mut words = printed.split_whitespace();
    let pid: i32 = words.next().and_then(|w| w.parse().ok()).expect("pid");
    let port: u16 = words.next().and_then(|w| w.parse().ok()).expect("port");
    let aborter: SocketAddr = format!("{ADDR}:{port}")
        .parse()
        .unwrap_or_else(|_| unreachable!());
    let aborted = wait_for(&mut instance, &mut seen, |e| {
        e.kind == ResetEventKind::Sent && e.local == aborter
    });
    assert_eq!(aborted.remote.port(), 7001);
    assert!(aborted.in_process_context, "{aborted:?}");
    assert_eq!(aborted.pid, pid, "{aborted:?}");
    // The socket is already marked closed when the RST goes out (tcp_disconnect).
    assert_eq!(aborted.state.as_deref(), Some("TCP_CLOSE"), "{aborted:?}");
    if reasons {
        assert!(
            aborted
                .reason
                .as_deref()
                .is_some_and(|r| r != "NOT_SPECIFIED"),
            "{aborted:?}"
        );
    }
    // The accepted end saw the RST: tcp_receive_reset names it.
    let received = wait_for(&mut instance, &mut seen, |e| {
        e.kind == ResetEventKind::Received && e.remote == aborter
    });
    assert_eq!(received.local.port(), 7001);
    assert!(received.sock_cookie.is_some_and(|c| c != 0), "{received:?}");
    assert_eq!(instance.lost_events(), 0);

    drop(instance);
    assert!(!dir.exists(), "{} is left behind", dir.display());
}
