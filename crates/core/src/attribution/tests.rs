//! Attribution tests: each signal alone on a hand-built flow, then the engine's verdict,
//! scenario and advice on whole stories.

use std::net::SocketAddr;

use super::*;
use crate::decode::{IpFacts, Segment};
use crate::flow::{FlowConfig, FlowTable, FrameRef, Side};
use crate::testing::*;
use crate::time::Timestamp;

mod elsewhere;
mod tuning;

/// Feeds (segment, time in µs) pairs as the pipeline does and attributes every flow.
fn analyze(segments: &[(Segment, i64)]) -> Vec<(Flow, Vec<Attribution>)> {
    let mut table = FlowTable::new(FlowConfig::default());
    let mut hosts = HostBaselines::default();
    let mut done = Vec::new();
    for (i, (segment, at_us)) in segments.iter().enumerate() {
        hosts.observe(segment);
        let at = FrameRef {
            input: 0,
            frame: i as u64 + 1,
            ts: Timestamp(at_us * 1000),
        };
        table.observe(segment, at, &mut done);
    }
    table.finish_all(&mut |flow| done.push(flow));
    done.iter().for_each(|flow| hosts.observe_flow(flow));
    done.into_iter()
        .map(|flow| {
            let attributions = attribute(&flow, &hosts);
            (flow, attributions)
        })
        .collect()
}

fn at(step: Step, ms: f64) -> (Segment, i64) {
    (segment(step), (ms * 1000.0) as i64)
}

/// A server 7 hops away (TTL 57), 20 ms round trip, counting its IP IDs up from 10; the
/// client captures (TTL 64). Ends with the server's response acknowledged.
fn exchange() -> Vec<(Segment, i64)> {
    vec![
        at(c(S, 100, 0, 0), 1.0),
        at(
            Step {
                ip_id: Some(10),
                ..s(S | A, 500, 101, 0)
            },
            21.0,
        ),
        at(c(A, 101, 501, 0), 22.0),
        at(c(A | P, 101, 501, 100), 23.0),
        at(
            Step {
                ip_id: Some(11),
                ..s(A, 501, 201, 0)
            },
            43.0,
        ),
        at(
            Step {
                ip_id: Some(12),
                ..s(A | P, 501, 201, 1000)
            },
            44.0,
        ),
        at(c(A, 201, 1501, 0), 45.0),
    ]
}

fn with(mut base: Vec<(Segment, i64)>, more: &[(Segment, i64)]) -> Vec<(Segment, i64)> {
    base.extend_from_slice(more);
    base
}

/// The attribution of the only reset of the only flow.
fn only(segments: &[(Segment, i64)]) -> Attribution {
    let flows = analyze(segments);
    assert_eq!(flows.len(), 1, "one flow expected");
    let (_, attributions) = &flows[0];
    assert_eq!(attributions.len(), 1, "one reset expected");
    attributions[0].clone()
}

fn has(attribution: &Attribution, signal: Signal) -> bool {
    attribution.evidence.iter().any(|e| e.signal == signal)
}

fn other_port(segment: Segment, client_port: u16, server_port: u16) -> Segment {
    let fix = |addr: SocketAddr, port| SocketAddr::new(addr.ip(), port);
    if segment.src == client_addr() {
        Segment {
            src: fix(segment.src, client_port),
            dst: fix(segment.dst, server_port),
            ..segment
        }
    } else {
        Segment {
            src: fix(segment.src, server_port),
            dst: fix(segment.dst, client_port),
            ..segment
        }
    }
}

// ---- signals, one at a time ----------------------------------------------------------------

#[test]
fn ttl_and_ip_id_of_a_genuine_abort_point_to_the_peer() {
    let rst = Step {
        ip_id: Some(13),
        ..s(R | A, 1501, 201, 0)
    };
    let a = only(&with(exchange(), &[at(rst, 60.0)]));
    assert!(has(&a, Signal::TtlMatch));
    assert!(has(&a, Signal::IpIdContinues));
    assert_eq!(
        (a.verdict, a.scenario),
        (Verdict::Peer, Scenario::PeerAbort)
    );
    assert!(a.confidence >= 0.8, "{a:?}");
}

#[test]
fn a_reset_from_nearer_and_faster_than_the_server_is_the_path() {
    let request = c(A | P, 201, 1501, 50);
    let rst = Step {
        ttl: 62,
        ip_id: Some(0),
        ..s(R | A, 1501, 251, 0)
    };
    let a = only(&with(exchange(), &[at(request, 50.0), at(rst, 50.2)]));
    assert!(has(&a, Signal::TtlMismatch));
    assert!(has(&a, Signal::TooFast));
    assert!(a.explanation.contains("5 hops nearer"), "{}", a.explanation);
    // A device reset the connection's second request: a content device's block and a filter
    // that lost the connection look alike there, so the kind is named with little certainty.
    assert_eq!(
        (a.verdict, a.scenario),
        (Verdict::Firewall, Scenario::StateLoss)
    );
    assert!(a.reckoning.posterior > 0.99 && a.confidence < 0.6, "{a:?}");
}

#[test]
fn timing_is_not_judged_against_a_segment_the_reset_need_not_answer() {
    // A pure ACK takes no sequence space: a RST "after" it proves nothing about distance.
    let rst = Step {
        ip_id: Some(13),
        ..s(R | A, 1501, 201, 0)
    };
    let a = only(&with(
        exchange(),
        &[at(c(A, 201, 1501, 0), 50.0), at(rst, 50.1)],
    ));
    assert!(!has(&a, Signal::TooFast), "{a:?}");
    assert_eq!(a.verdict, Verdict::Peer);
}

#[test]
fn a_forged_reset_racing_the_real_response_is_an_injection() {
    let request = c(A | P, 201, 1501, 50);
    let forged = Step {
        ttl: 47,
        ip_id: Some(40_000),
        df: false,
        ..s(R | A, 1501, 251, 0)
    };
    let real = Step {
        ip_id: Some(13),
        ..s(A | P, 1501, 251, 500)
    };
    let a = only(&with(
        exchange(),
        &[at(request, 50.0), at(forged, 51.0), at(real, 70.0)],
    ));
    for signal in [
        Signal::TtlMismatch,
        Signal::DataAfterReset,
        Signal::IpIdJump,
        Signal::DfMismatch,
    ] {
        assert!(has(&a, signal), "{signal} missing: {a:?}");
    }
    assert_eq!(
        (a.verdict, a.scenario),
        (Verdict::Middlebox, Scenario::InjectedReset)
    );
    assert!(a.confidence >= 0.9);
}

#[test]
fn a_reset_after_a_long_silence_from_nearer_is_an_idle_timeout_with_device_advice() {
    let request = c(A | P, 201, 1501, 50);
    let rst = Step {
        ttl: 62,
        ip_id: Some(0),
        ..s(R, 1501, 0, 0)
    };
    let a = only(&with(
        exchange(),
        &[at(request, 400_045.0), at(rst, 400_045.3)],
    ));
    assert!(has(&a, Signal::IdleGap));
    assert_eq!(
        (a.verdict, a.scenario),
        (Verdict::Firewall, Scenario::IdleTimeout)
    );
    let advice = a.advice.join(" ");
    // The silence bounds the device's timeout from above; keepalives go well below it.
    assert!(advice.contains("at most 400 s"), "{advice}");
    assert!(advice.contains("TCP_KEEPIDLE=200"), "{advice}");
    assert!(advice.contains("AWS NAT Gateway / NLB (350 s)"), "{advice}");
    assert!(
        a.explanation.contains("400.0 s of silence"),
        "{}",
        a.explanation
    );
}

#[test]
fn a_refused_syn_is_judged_against_the_servers_other_connections() {
    let mut segments: Vec<(Segment, i64)> = exchange();
    let syn = other_port(segment(c(S, 9000, 0, 0)), 40001, 81);
    let refusal = other_port(
        segment(Step {
            ip_id: Some(0),
            ..s(R | A, 0, 9001, 0)
        }),
        40001,
        81,
    );
    segments.push((syn, 100_000));
    segments.push((refusal, 120_000));
    let flows = analyze(&segments);
    let a = &flows
        .iter()
        .find(|(f, _)| f.server().port() == 81)
        .unwrap()
        .1[0];
    assert!(
        a.evidence.iter().any(|e| e.detail.contains("other flows")),
        "{a:?}"
    );
    assert_eq!((a.verdict, a.scenario), (Verdict::Peer, Scenario::Refused));
}

#[test]
fn a_syn_refused_from_nearer_and_at_once_is_a_firewall() {
    let mut segments: Vec<(Segment, i64)> = exchange();
    let syn = other_port(segment(c(S, 9000, 0, 0)), 40001, 8443);
    let reject = Step {
        ttl: 64,
        ip_id: Some(0),
        ..s(R | A, 0, 9001, 0)
    };
    segments.push((syn, 100_000));
    segments.push((other_port(segment(reject), 40001, 8443), 100_050));
    let flows = analyze(&segments);
    let a = &flows
        .iter()
        .find(|(f, _)| f.server().port() == 8443)
        .unwrap()
        .1[0];
    assert!(
        has(a, Signal::TooFast) && has(a, Signal::TtlMismatch),
        "{a:?}"
    );
    assert_eq!(
        (a.verdict, a.scenario),
        (Verdict::Firewall, Scenario::FirewallReject)
    );
}

#[test]
fn a_lone_reset_with_nothing_to_compare_is_unknown() {
    let a = only(&[at(s(R | A, 500, 101, 0), 1.0)]);
    assert!(has(&a, Signal::TtlBaseline));
    assert_eq!(
        (a.verdict, a.scenario),
        (Verdict::Unknown, Scenario::Unknown)
    );
    assert_eq!(a.confidence, 0.0);
    assert!(
        a.advice[0].contains("Capture at the server's end"),
        "{:?}",
        a.advice
    );
}

#[test]
fn the_capturing_hosts_own_reset_is_its_own() {
    let a = only(&with(exchange(), &[at(c(R | A, 201, 1501, 0), 60.0)]));
    assert!(has(&a, Signal::CaptureHost));
    assert_eq!(
        (a.verdict, a.scenario),
        (Verdict::Peer, Scenario::LocalAbort)
    );
}

#[test]
fn a_connection_reset_without_data_is_a_health_check() {
    let handshake = &exchange()[..3];
    let a = only(&with(
        handshake.to_vec(),
        &[at(c(R | A, 101, 501, 0), 23.0)],
    ));
    assert_eq!(
        (a.verdict, a.scenario),
        (Verdict::Peer, Scenario::HealthCheck)
    );
    assert_eq!(
        a.advice,
        vec!["No action needed if the client is a load balancer or monitoring probe.".to_string()]
    );
}

#[test]
fn a_reset_after_both_fins_is_harmless() {
    let close = [
        at(c(F | A, 201, 1501, 0), 50.0),
        at(
            Step {
                ip_id: Some(13),
                ..s(F | A, 1501, 202, 0)
            },
            70.0,
        ),
        at(c(R | A, 202, 1502, 0), 71.0),
    ];
    let a = only(&with(exchange(), &close));
    assert_eq!(
        (a.verdict, a.scenario),
        (Verdict::Peer, Scenario::ResetAfterClose)
    );
}

#[test]
fn an_ipv6_reset_with_an_untouched_hop_limit_from_another_network_is_on_the_capture_link() {
    let client: SocketAddr = "[2001:db8:c::10]:40000".parse().unwrap();
    let server: SocketAddr = "[2001:db8:5::7]:443".parse().unwrap();
    let syn = Segment {
        src: client,
        dst: server,
        ..segment(c(S, 100, 0, 0))
    };
    let reject = Segment {
        src: server,
        dst: client,
        ..segment(Step {
            ttl: 64,
            ip_id: None,
            ..s(R | A, 0, 101, 0)
        })
    };
    let a = only(&[(syn, 1000), (reject, 1100)]);
    assert!(has(&a, Signal::OffLink), "{a:?}");
    assert_eq!(
        (a.verdict, a.scenario),
        (Verdict::Firewall, Scenario::FirewallReject)
    );
}

#[test]
fn an_address_shared_by_two_stacks_gives_no_ttl_verdict() {
    // A SYN proxy or NAT answers the handshake (TTL 250, initial 255); the server behind it
    // sends the data (TTL 57, initial 64). A RST with either TTL proves nothing by distance.
    let proxied = vec![
        at(c(S, 100, 0, 0), 1.0),
        at(
            Step {
                ttl: 250,
                ..s(S | A, 500, 101, 0)
            },
            2.0,
        ),
        at(c(A, 101, 501, 0), 3.0),
        at(c(A | P, 101, 501, 100), 4.0),
        at(
            Step {
                ip_id: Some(11),
                ..s(A, 501, 201, 0)
            },
            30.0,
        ),
        at(
            Step {
                ip_id: Some(12),
                ..s(A | P, 501, 201, 1000)
            },
            31.0,
        ),
        at(
            Step {
                ttl: 250,
                ip_id: Some(7),
                ..s(R | A, 1501, 201, 0)
            },
            60.0,
        ),
    ];
    let a = only(&proxied);
    assert!(
        !has(&a, Signal::TtlMismatch) && !has(&a, Signal::TtlMatch),
        "{a:?}"
    );
    assert!(
        a.evidence
            .iter()
            .any(|e| e.detail.contains("more than one stack")),
        "{a:?}"
    );
    assert_ne!(a.verdict, Verdict::Middlebox);
}

#[test]
fn resets_stepping_through_the_window_corroborate_an_injection() {
    let request = c(A | P, 201, 1501, 50);
    let forged = |seq: u32, ms: f64| {
        at(
            Step {
                ttl: 47,
                ip_id: None,
                df: false,
                ..s(R | A, seq, 251, 0)
            },
            ms,
        )
    };
    let flows = analyze(&with(
        exchange(),
        &[
            at(request, 50.0),
            forged(1501, 50.5),
            forged(2961, 50.6),
            forged(5881, 50.7),
        ],
    ));
    let attributions = &flows[0].1;
    assert_eq!(attributions.len(), 3);
    for a in attributions {
        assert!(has(a, Signal::ResetBurst), "{a:?}");
        assert_ne!(a.verdict, Verdict::Peer);
    }
}

/// The kernel's word decides: a reset it says its stack sent is the peer's, named after the
/// reason, whatever the packets suggested; one with this host's address and no event is the
/// host firewall's.
#[test]
fn the_kernels_word_replaces_the_guess() {
    use crate::kernel::{KernelNote, Process, SentNote};
    let sent = |reason: &str, process: Option<Process>| KernelNote {
        sent: Some(SentNote {
            reason: Some(reason.to_string()),
            state: Some("TCP_ESTABLISHED".to_string()),
            process,
            owner: None,
            delay_us: 12,
        }),
        ..KernelNote::default()
    };
    // A refusal with a TTL that alone would point at a device.
    let refusal = [
        at(c(S, 100, 0, 0), 1.0),
        at(
            Step {
                ttl: 250,
                ..s(R | A, 0, 101, 0)
            },
            1.1,
        ),
    ];
    let flows = analyze(&refusal);
    let (flow, attributions) = &flows[0];
    let mut attribution = attributions[0].clone();
    apply_kernel(
        &mut attribution,
        flow,
        &flow.resets[0],
        sent("NO_SOCKET", None),
    );
    assert_eq!(
        (attribution.verdict, attribution.scenario),
        (Verdict::Peer, Scenario::Refused)
    );
    assert!(attribution.confidence >= 0.99);
    assert_eq!(attribution.evidence[0].signal, Signal::KernelSent);
    assert!(attribution.evidence[1..].iter().all(|e| !e.counted));
    assert!(attribution.device_hops.is_none());

    // An abort mid-stream, in the closing process's own call.
    let abort = with(exchange(), &[at(s(R | A, 1501, 201, 0), 60.0)]);
    let flows = analyze(&abort);
    let (flow, attributions) = &flows[0];
    let mut attribution = attributions[0].clone();
    let python = Process {
        pid: 2997,
        name: "python3".to_string(),
    };
    apply_kernel(
        &mut attribution,
        flow,
        &flow.resets[0],
        sent("TCP_ABORT_ON_CLOSE", Some(python)),
    );
    assert_eq!(attribution.scenario.as_str(), "abort_on_close");
    assert_eq!(
        attribution.explanation,
        "python3[2997] closed the socket with received data it had not read: TCP_ABORT_ON_CLOSE."
    );

    // No event for a RST with this host's address.
    let mut attribution = attributions[0].clone();
    let silent = KernelNote {
        not_sent_by_stack: true,
        ..KernelNote::default()
    };
    apply_kernel(&mut attribution, flow, &flow.resets[0], silent);
    assert_eq!(
        (attribution.verdict, attribution.scenario),
        (Verdict::Peer, Scenario::HostFirewall)
    );
    assert_eq!(attribution.evidence[0].signal, Signal::KernelNoEvent);
}
