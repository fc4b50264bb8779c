//! The join of captured RSTs with the kernel's events, and what a joined RST is told.

use std::net::{IpAddr, SocketAddr};

use super::events::{ResetEvent, ResetEventKind};
use super::join::{Joiner, SETTLE_NS, WINDOW_NS};
use super::meaning::KernelScenario;
use super::note::Process;

const HOST: &str = "192.0.2.1";

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap_or_else(|_| panic!("{text}"))
}

fn own() -> Vec<IpAddr> {
    vec![addr("192.0.2.1:0").ip()]
}

fn sent(local: &str, remote: &str, reason: &str, in_process_context: bool) -> ResetEvent {
    ResetEvent {
        kind: ResetEventKind::Sent,
        ts: 0,
        local: addr(local),
        remote: addr(remote),
        pid: 4242,
        in_process_context,
        state: None,
        reason: Some(reason.to_string()),
        sock_cookie: None,
    }
}

fn python() -> Option<Process> {
    Some(Process {
        pid: 4242,
        name: "python3".to_string(),
    })
}

const T: i64 = 1_700_000_000_000_000_000;
const MS: i64 = 1_000_000;

#[test]
fn a_rst_is_joined_to_the_event_of_its_four_tuple_and_time() {
    let mut joiner = Joiner::new(own(), true);
    let server = format!("{HOST}:8080");
    joiner.event(
        sent(&server, "192.0.2.9:5000", "TCP_ABORT_ON_CLOSE", true),
        T,
        python(),
    );
    // The same tuple much earlier, and another tuple at the same time: neither is this RST's.
    joiner.event(
        sent(&server, "192.0.2.9:5000", "NO_SOCKET", false),
        T - 50 * MS,
        None,
    );
    joiner.event(sent(&server, "192.0.2.9:5001", "NO_SOCKET", false), T, None);
    joiner.reset(7, T + 40_000, addr(&server), addr("192.0.2.9:5000"));
    // Not settled until the pipes were read SETTLE_NS after it.
    joiner.settle(Some(T + SETTLE_NS / 2), T);
    assert!(joiner.note(7).is_none() && joiner.is_queued(7));
    joiner.settle(Some(T + SETTLE_NS + MS), T);
    let note = joiner.take(7).unwrap_or_else(|| panic!("no note"));
    let sent = note.sent.unwrap_or_else(|| panic!("not matched"));
    assert_eq!(sent.reason.as_deref(), Some("TCP_ABORT_ON_CLOSE"));
    assert_eq!(sent.delay_us, 40);
    assert_eq!(sent.process, python());
    assert!(!note.not_sent_by_stack);
}

#[test]
fn two_rsts_of_one_tuple_with_one_event_between_them_are_ambiguous() {
    let mut joiner = Joiner::new(own(), true);
    let (src, dst) = (format!("{HOST}:80"), "192.0.2.9:5000");
    joiner.event(sent(&src, dst, "NO_SOCKET", false), T, None);
    joiner.reset(1, T - MS, addr(&src), addr(dst));
    joiner.reset(2, T + MS, addr(&src), addr(dst));
    joiner.settle(None, T);
    assert!(joiner.note(1).is_none() && joiner.note(2).is_none());
    assert_eq!(joiner.stats.ambiguous, 2);
    // As many events as RSTs: paired in time order.
    let mut joiner = Joiner::new(own(), true);
    joiner.event(sent(&src, dst, "NO_SOCKET", false), T + 2 * MS, None);
    joiner.event(sent(&src, dst, "TCP_INVALID_ACK_SEQUENCE", false), T, None);
    joiner.reset(1, T, addr(&src), addr(dst));
    joiner.reset(2, T + 2 * MS, addr(&src), addr(dst));
    joiner.settle(None, T);
    let reason = |frame| {
        joiner
            .note(frame)
            .and_then(|n| n.sent.as_ref())
            .and_then(|s| s.reason.clone())
    };
    assert_eq!(reason(1).as_deref(), Some("TCP_INVALID_ACK_SEQUENCE"));
    assert_eq!(reason(2).as_deref(), Some("NO_SOCKET"));
}

#[test]
fn a_lone_rst_takes_the_lone_event_of_its_tuple_a_little_farther_in_time() {
    let mut joiner = Joiner::new(own(), true);
    let (src, dst) = (format!("{HOST}:81"), "192.0.2.9:5000");
    joiner.event(sent(&src, dst, "NO_SOCKET", false), T - 3 * WINDOW_NS, None);
    joiner.reset(1, T, addr(&src), addr(dst));
    joiner.settle(None, T);
    let note = joiner.take(1).unwrap_or_default();
    assert_eq!(note.sent.map(|s| s.delay_us), Some(15_000));
    // Not when another RST of the tuple is that near: which is whose cannot be told.
    let mut joiner = Joiner::new(own(), true);
    joiner.event(sent(&src, dst, "NO_SOCKET", false), T - 3 * WINDOW_NS, None);
    joiner.reset(1, T, addr(&src), addr(dst));
    joiner.reset(2, T + 30 * MS, addr(&src), addr(dst));
    joiner.settle(None, T);
    assert!(joiner.note(1).is_none() && joiner.note(2).is_none());
}

#[test]
fn an_event_too_far_in_time_does_not_match_and_the_rst_is_the_host_firewalls() {
    let mut joiner = Joiner::new(own(), true);
    let (src, dst) = (format!("{HOST}:81"), "192.0.2.9:5000");
    joiner.event(
        sent(&src, dst, "NO_SOCKET", false),
        T - 30 * WINDOW_NS,
        None,
    );
    joiner.reset(1, T, addr(&src), addr(dst));
    joiner.settle(None, T);
    let note = joiner.take(1).unwrap_or_default();
    assert!(note.sent.is_none() && note.not_sent_by_stack, "{note:?}");
    assert_eq!(joiner.stats.not_sent_by_stack, 1);
}

#[test]
fn without_lossless_tracing_a_missing_event_proves_nothing() {
    let mut joiner = Joiner::new(own(), true);
    joiner.events_lost();
    joiner.reset(1, T, addr(&format!("{HOST}:81")), addr("192.0.2.9:5000"));
    joiner.settle(None, T);
    assert!(joiner.note(1).is_none());
    // Nor on a kernel that does not trace sends.
    let mut joiner = Joiner::new(own(), false);
    joiner.reset(1, T, addr(&format!("{HOST}:81")), addr("192.0.2.9:5000"));
    joiner.settle(None, T);
    assert!(joiner.note(1).is_none());
}

#[test]
fn only_this_hosts_addresses_are_joined() {
    let mut joiner = Joiner::new(own(), true);
    // Another namespace of the same kernel sent a RST the capture also saw pass.
    let (src, dst) = ("198.51.100.7:443", "192.0.2.9:5000");
    joiner.event(sent(src, dst, "NO_SOCKET", false), T, None);
    joiner.reset(1, T, addr(src), addr(dst));
    joiner.settle(None, T);
    assert!(joiner.note(1).is_none());
    assert!(!joiner.has_queued());
}

#[test]
fn a_received_reset_names_the_socket_it_killed() {
    let mut joiner = Joiner::new(own(), true);
    let (peer, local) = ("192.0.2.9:5000", format!("{HOST}:8080"));
    joiner.event(
        ResetEvent {
            kind: ResetEventKind::Received,
            ts: 0,
            local: addr(&local),
            remote: addr(peer),
            pid: 1,
            in_process_context: false,
            state: None,
            reason: None,
            sock_cookie: Some(99),
        },
        T + 30_000,
        None,
    );
    joiner.reset(3, T, addr(peer), addr(&local));
    joiner.settle(None, T);
    let note = joiner.take(3).unwrap_or_default();
    assert_eq!(note.received.map(|r| r.socket_cookie), Some(Some(99)));
    assert!(note.sent.is_none() && !note.not_sent_by_stack);
}

#[test]
fn events_the_capture_has_read_past_are_forgotten() {
    let mut joiner = Joiner::new(own(), true);
    let (src, dst) = (format!("{HOST}:80"), "192.0.2.9:5000");
    joiner.event(sent(&src, dst, "NO_SOCKET", false), T, None);
    // The capture is 10 s further on and no RST waits: the event goes.
    joiner.settle(Some(T + 10_000 * MS), T + 10_000 * MS);
    joiner.reset(1, T, addr(&src), addr(dst));
    joiner.settle(None, T + 10_000 * MS);
    assert!(joiner.note(1).is_some_and(|n| n.sent.is_none()));
}

#[test]
fn every_reason_of_the_checked_in_kernels_has_a_scenario() {
    for version in ["6.10", "6.12", "6.18"] {
        let text = std::fs::read_to_string(format!(
            "{}/../../tests/data/kernel-formats/{version}/tcp_send_reset.format",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap_or_else(|e| panic!("{version}: {e}"));
        let format = super::EventFormat::parse(&text).unwrap_or_else(|e| panic!("{e}"));
        for name in format.symbol_names("reason") {
            let scenario = KernelScenario::of_reason(name);
            let generic = matches!(name, "NOT_SPECIFIED" | "NO_SOCKET" | "ERROR" | "MAX");
            assert_eq!(
                scenario == KernelScenario::Other,
                generic,
                "{version}: {name} -> {scenario:?}"
            );
        }
    }
    assert_eq!(
        KernelScenario::of_reason("TCP_ABORT_ON_CLOSE"),
        KernelScenario::AbortOnClose
    );
    assert!(KernelScenario::AbortOnClose.fires_in_owner());
    assert!(!KernelScenario::AbortOnData.fires_in_owner());
}
