//! Attribution tests: each signal alone on a hand-built flow, then the engine's verdict,
//! scenario and advice on whole stories.

use std::net::SocketAddr;

use super::*;
use crate::decode::{IpFacts, Segment};
use crate::flow::{FlowConfig, FlowTable, FrameRef, Side};
use crate::testing::*;
use crate::time::Timestamp;

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

// ---- issue 11: failure classes seen on captures made elsewhere ------------------------------

fn mac(last: u8) -> Option<crate::decode::Mac> {
    Some(crate::decode::Mac([0x00, 0x00, 0x5e, 0x00, 0x53, last]))
}

fn from(segment: Segment, src: &str, dst: &str) -> Segment {
    Segment {
        src: src.parse().unwrap(),
        dst: dst.parse().unwrap(),
        ..segment
    }
}

#[test]
fn a_refusal_by_a_host_on_the_capture_link_is_the_hosts_own() {
    // 192.0.2.1 sits on the capturing host's own /24; its RST is untouched (TTL 255).
    let syn = from(segment(c(S, 100, 0, 0)), "192.0.2.10:40000", "192.0.2.1:80");
    let refusal = Segment {
        link_src: mac(1),
        ..from(
            segment(Step {
                ttl: 255,
                ip_id: Some(0),
                ..s(R | A, 0, 101, 0)
            }),
            "192.0.2.1:80",
            "192.0.2.10:40000",
        )
    };
    let a = only(&[(syn, 1000), (refusal, 1200)]);
    assert!(has(&a, Signal::OnLink), "{a:?}");
    assert_eq!((a.verdict, a.scenario), (Verdict::Peer, Scenario::Refused));
    assert!(a.confidence >= 0.95, "{a:?}");
}

#[test]
fn a_refusal_by_a_host_with_no_other_traffic_says_what_the_verdict_rests_on() {
    let a = only(&[at(c(S, 100, 0, 0), 1.0), at(s(R | A, 0, 101, 0), 21.0)]);
    assert!(has(&a, Signal::TtlBaseline), "{a:?}");
    assert_eq!((a.verdict, a.scenario), (Verdict::Peer, Scenario::Refused));
    assert!(
        a.explanation.contains("no evidence either way")
            && a.explanation
                .contains("no other packet of the claimed sender"),
        "{}",
        a.explanation
    );
}

#[test]
fn a_scanners_kernel_resetting_a_syn_ack_is_the_scanners_own() {
    // Raw probes carry random TTLs, so the scanner has no usual TTL; its kernel resets the
    // SYN-ACK a probe drew at its own default, 128.
    let mut segments = Vec::new();
    for (i, ttl) in [41u8, 53, 38, 59, 47].into_iter().enumerate() {
        let port = 1000 + i as u16;
        let probe = Step {
            ttl,
            ..c(S, 7000, 0, 0)
        };
        segments.push((other_port(segment(probe), 35503, port), 1000 * i as i64));
    }
    let syn_ack = other_port(segment(s(S | A, 900, 7001, 0)), 35503, 1002);
    let rst = Step {
        ttl: 128,
        ip_id: Some(4000),
        ..c(R, 7001, 0, 0)
    };
    segments.push((syn_ack, 2500));
    segments.push((other_port(segment(rst), 35503, 1002), 2600));
    let flows = analyze(&segments);
    let a = &flows
        .iter()
        .find(|(f, _)| f.server().port() == 1002)
        .unwrap()
        .1[0];
    assert!(has(a, Signal::TtlUnreliable), "{a:?}");
    assert_eq!((a.verdict, a.scenario), (Verdict::Peer, Scenario::NoSocket));
}

#[test]
fn a_host_that_sets_its_own_ttl_refusing_at_its_kernels_default_is_the_host() {
    // A BGP speaker on the link sends its sessions at TTL 1 from its own MAC; a SYN to a
    // closed port draws its kernel's RST at TTL 64, from the same MAC.
    let bgp = Segment {
        link_src: mac(2),
        ..from(
            segment(Step {
                ttl: 1,
                ..s(A | P, 900, 101, 19)
            }),
            "192.0.2.2:179",
            "192.0.2.10:40000",
        )
    };
    let syn = from(
        segment(c(S, 5000, 0, 0)),
        "192.0.2.10:40001",
        "192.0.2.2:80",
    );
    let refusal = Segment {
        link_src: mac(2),
        ..from(
            segment(Step {
                ttl: 64,
                ip_id: Some(0),
                ..s(R | A, 0, 5001, 0)
            }),
            "192.0.2.2:80",
            "192.0.2.10:40001",
        )
    };
    let flows = analyze(&[(bgp, 1000), (syn, 2000), (refusal, 2300)]);
    let a = &flows
        .iter()
        .find(|(f, _)| f.server().port() == 80)
        .unwrap()
        .1[0];
    assert!(has(a, Signal::LinkAddressMatch), "{a:?}");
    assert!(
        !a.evidence.iter().any(|e| e.counted && e.ratio > 3.0),
        "{a:?}"
    );
    assert_eq!((a.verdict, a.scenario), (Verdict::Peer, Scenario::Refused));
}

#[test]
fn an_f5_reset_cause_names_the_device() {
    let rst = Segment {
        rst_payload: Some(Box::from(
            &b"BIG-IP: [0x11c5672:3045] {peer} TCP RST from remote system"[..],
        )),
        len: 58,
        ..segment(Step {
            ttl: 243,
            ..s(R | A, 1501, 201, 0)
        })
    };
    let a = only(&with(exchange(), &[(rst, 60_000)]));
    assert!(has(&a, Signal::DeviceSignature), "{a:?}");
    assert_eq!(a.verdict, Verdict::Middlebox, "{a:?}");
    assert!(a.explanation.contains("BIG-IP"), "{}", a.explanation);
}

#[test]
fn a_windows_reset_continues_the_hosts_one_counter() {
    // The server numbers every packet from one counter; other connections moved it on, so
    // the RST's ID is far from this flow's last but right after the host's.
    let mut segments = exchange();
    for (i, id) in [20u16, 400, 800, 1200, 1600, 2900].into_iter().enumerate() {
        let other = Step {
            ip_id: Some(id),
            ..s(A | P, 7000 + 10 * i as u32, 300, 10)
        };
        segments.push((
            other_port(segment(other), 41000 + i as u16, 443),
            50_000 + i as i64,
        ));
    }
    let rst = Step {
        ip_id: Some(2905),
        ..s(R | A, 1501, 201, 0)
    };
    let mut flows_segments = segments.clone();
    flows_segments.push(at(rst, 60.0));
    let mut table = FlowTable::new(FlowConfig::default());
    let mut hosts = HostBaselines::default();
    let mut done = Vec::new();
    for (i, (segment, at_us)) in flows_segments.iter().enumerate() {
        let at = FrameRef {
            input: 0,
            frame: i as u64 + 1,
            ts: Timestamp(at_us * 1000),
        };
        let before = hosts.last_ip_id(segment.src.ip());
        table.observe(segment, at, &mut done);
        if segment.flags.rst() {
            if let Some(reset) = table.latest_reset_mut(segment, at) {
                reset.host_ip_id_before = before;
            }
        } else {
            hosts.observe(segment);
        }
    }
    table.finish_all(&mut |flow| done.push(flow));
    let flow = done.iter().find(|f| !f.resets.is_empty()).unwrap();
    let a = &attribute(flow, &hosts)[0];
    let continues = a
        .evidence
        .iter()
        .find(|e| e.signal == Signal::IpIdContinues)
        .unwrap_or_else(|| panic!("{a:?}"));
    assert!(continues.detail.contains("one counter"), "{continues:?}");
    assert_eq!(a.verdict, Verdict::Peer);
}

#[test]
fn an_ipv6_injector_copying_the_hop_limit_is_caught_by_the_race() {
    // Seen at the receiving server (its own hop limit 64, the client's 57): a RST in the
    // client's name with the client's own hop limit, and the real client goes on sending.
    let v6 = |seg: Segment| {
        let client: SocketAddr = "[2001:db8:c::10]:51514".parse().unwrap();
        let server: SocketAddr = "[2001:db8:5::7]:443".parse().unwrap();
        let ip = IpFacts {
            ip_id: None,
            df: false,
            ttl: if seg.src == client_addr() { 57 } else { 64 },
        };
        if seg.src == client_addr() {
            Segment {
                src: client,
                dst: server,
                ip,
                ..seg
            }
        } else {
            Segment {
                src: server,
                dst: client,
                ip,
                ..seg
            }
        }
    };
    let story = [
        (c(S, 100, 0, 0), 1.0),
        (s(S | A, 500, 101, 0), 1.1),
        (c(A, 101, 501, 0), 21.0),
        (c(A | P, 101, 501, 100), 22.0),
        (s(A, 501, 201, 0), 22.5),
        (c(R | A, 201, 501, 0), 23.0),
        (c(A | P, 201, 501, 80), 24.0),
    ];
    let segments: Vec<(Segment, i64)> = story
        .iter()
        .map(|&(step, ms)| (v6(segment(step)), (ms * 1000.0) as i64))
        .collect();
    let a = only(&segments);
    assert!(
        has(&a, Signal::DataAfterReset) && has(&a, Signal::TtlMatch),
        "{a:?}"
    );
    assert_eq!(
        (a.verdict, a.scenario),
        (Verdict::Middlebox, Scenario::InjectedReset),
        "{a:?}"
    );
}

#[test]
fn an_ipv6_client_abort_seen_at_the_server_is_the_clients() {
    let v6 = |seg: Segment| {
        let client: SocketAddr = "[2001:db8:c::10]:51514".parse().unwrap();
        let server: SocketAddr = "[2001:db8:5::7]:443".parse().unwrap();
        let ip = IpFacts {
            ip_id: None,
            df: false,
            ..seg.ip
        };
        if seg.src == client_addr() {
            Segment {
                src: client,
                dst: server,
                ip,
                ..seg
            }
        } else {
            Segment {
                src: server,
                dst: client,
                ip,
                ..seg
            }
        }
    };
    // The server captures: its own hop limit 64 untouched, the client's 57.
    let flip = |step: Step| Step {
        ttl: if step.from == Side::Client { 57 } else { 64 },
        ..step
    };
    let story = [
        (c(S, 100, 0, 0), 1.0),
        (s(S | A, 500, 101, 0), 1.1),
        (c(A, 101, 501, 0), 21.0),
        (c(A | P, 101, 501, 100), 22.0),
        (s(A | P, 501, 201, 1000), 22.5),
        (c(R | A, 201, 1501, 0), 42.0),
    ];
    let segments: Vec<(Segment, i64)> = story
        .iter()
        .map(|&(step, ms)| (v6(segment(flip(step))), (ms * 1000.0) as i64))
        .collect();
    let a = only(&segments);
    assert_eq!(
        (a.verdict, a.scenario),
        (Verdict::Peer, Scenario::LocalAbort),
        "{a:?}"
    );
}

#[test]
fn a_firewall_that_lost_its_state_mid_transfer_is_a_stateful_filter() {
    // The server streams; a firewall nearer the client (TTL 62) no longer knows the flow
    // and resets the client's next acknowledgment in the server's name.
    let mut segments = exchange();
    segments.push(at(
        Step {
            ip_id: Some(13),
            ..s(A, 1501, 201, 1000)
        },
        46.0,
    ));
    segments.push(at(c(A, 201, 2501, 0), 47.0));
    segments.push(at(
        Step {
            ttl: 62,
            ip_id: Some(0),
            ..s(R, 2501, 0, 0)
        },
        47.2,
    ));
    let a = only(&segments);
    assert_eq!(
        (a.verdict, a.scenario),
        (Verdict::Firewall, Scenario::StateLoss),
        "{a:?}"
    );
}

#[test]
fn a_device_resetting_a_request_is_a_content_device() {
    let mut segments: Vec<(Segment, i64)> = exchange()[..3].to_vec();
    segments.push(at(c(A | P, 101, 501, 100), 23.0));
    segments.push(at(
        Step {
            ttl: 62,
            ip_id: Some(0),
            ..s(R, 501, 0, 0)
        },
        23.3,
    ));
    let a = only(&segments);
    assert_eq!(
        (a.verdict, a.scenario),
        (Verdict::Middlebox, Scenario::InPathReject),
        "{a:?}"
    );
}

#[test]
fn time_running_backwards_does_not_make_a_reset_too_fast() {
    let rst = Step {
        ip_id: Some(13),
        ..s(R | A, 1501, 201, 0)
    };
    // The RST's timestamp lies before what it answers.
    let mut segments = exchange();
    segments.push(at(c(A | P, 201, 1501, 10), 60.0));
    segments.push(at(rst, 50.0));
    let a = only(&segments);
    assert!(!has(&a, Signal::TooFast), "{a:?}");
    assert_eq!(a.verdict, Verdict::Peer, "{a:?}");
}

#[test]
fn a_clients_reset_of_a_connection_an_ips_killed_is_not_a_health_check() {
    // At the server: the client's request never arrived; the server closes, and the client,
    // whose socket the IPS reset, answers the FIN from no socket.
    let handshake = &exchange()[..3];
    let a = only(&with(
        handshake.to_vec(),
        &[
            at(s(F | A, 501, 101, 0), 5000.0),
            at(c(R, 101, 0, 0), 5020.0),
        ],
    ));
    assert_eq!(
        (a.verdict, a.scenario),
        (Verdict::Peer, Scenario::NoSocket),
        "{a:?}"
    );
}

#[test]
fn a_servers_no_socket_answer_after_the_clients_reset_is_a_follow_up() {
    let mut segments = exchange();
    segments.push(at(c(R | A, 201, 1501, 0), 50.0));
    segments.push(at(c(A | P, 201, 1501, 10), 50.5));
    segments.push(at(
        Step {
            ip_id: Some(0),
            ..s(R, 1501, 0, 0)
        },
        70.0,
    ));
    let flows = analyze(&segments);
    let (_, attributions) = &flows[0];
    let server_reset = attributions.last().unwrap();
    assert_eq!(
        (server_reset.verdict, server_reset.scenario),
        (Verdict::Peer, Scenario::NoSocket),
        "{server_reset:?}"
    );
}

#[test]
fn another_initial_ttl_is_another_sender_at_an_unknown_distance() {
    let rst = Step {
        ttl: 250,
        ip_id: Some(0),
        ..s(R | A, 1501, 201, 0)
    };
    let a = only(&with(exchange(), &[at(rst, 60.0)]));
    let ttl = a
        .evidence
        .iter()
        .find(|e| e.signal == Signal::TtlMismatch)
        .unwrap();
    assert!(
        ttl.detail.contains("at a distance its TTL cannot tell"),
        "{ttl:?}"
    );
    assert!(
        !a.explanation.contains("hops from the capture point"),
        "{}",
        a.explanation
    );
}

#[test]
fn the_same_reset_captured_before_and_after_a_router_is_listed_once() {
    let rst = Step {
        ip_id: Some(13),
        ..s(R | A, 1501, 201, 0)
    };
    let later = Step { ttl: 56, ..rst };
    let flows = analyze(&with(exchange(), &[at(rst, 60.0), at(later, 60.01)]));
    assert_eq!(flows[0].0.resets.len(), 1);
    assert_eq!(flows[0].0.copies_dropped(), 1);
    assert_eq!(flows[0].1[0].verdict, Verdict::Peer);
}

// ---- clues found on the lab generator's tuning seeds ----------------------------------------

#[test]
fn a_volley_of_resets_past_what_the_server_sent_is_an_injection() {
    // Three RSTs back to back in the server's name, stepping a segment size past its SND.NXT:
    // a window-covering volley, whatever TTL and IP ID they copied.
    let volley = |seq: u32, id: u16, ms: f64| {
        at(
            Step {
                ip_id: Some(id),
                df: false,
                ..s(R, seq, 0, 0)
            },
            ms,
        )
    };
    let flows = analyze(&with(
        exchange(),
        &[
            at(c(A | P, 201, 1501, 10), 50.0),
            volley(1501, 13, 70.0),
            volley(2961, 14, 70.01),
            volley(4421, 15, 70.02),
        ],
    ));
    let (_, attributions) = &flows[0];
    for a in &attributions[1..] {
        assert_eq!(
            (a.verdict, a.scenario),
            (Verdict::Middlebox, Scenario::InjectedReset),
            "{a:?}"
        );
    }
}

#[test]
fn a_standby_at_the_servers_hop_count_is_not_blamed_on_the_path() {
    // The server's address moved to a host with another stack, as many routers away.
    let rst = Step {
        ttl: 121,
        ip_id: Some(0),
        ..s(R, 1501, 0, 0)
    };
    let a = only(&with(
        exchange(),
        &[at(c(A | P, 201, 1501, 10), 5000.0), at(rst, 5020.0)],
    ));
    assert!(
        a.evidence
            .iter()
            .any(|e| e.detail.contains("as many routers crossed")),
        "{a:?}"
    );
    assert_ne!(a.verdict, Verdict::Firewall, "{a:?}");
    assert_ne!(a.verdict, Verdict::Middlebox, "{a:?}");
}

#[test]
fn a_reset_with_a_ttl_the_address_answers_with_elsewhere_is_the_addresss() {
    // Another backend answers for the address in another flow with TTL 121; this flow's RST
    // carries it too.
    let mut segments = exchange();
    for i in 0..3u32 {
        let other = Step {
            ttl: 121,
            ..s(A | P, 9000 + i, 300, 10)
        };
        segments.push((
            other_port(segment(other), 42000, 443),
            46_000 + i64::from(i),
        ));
    }
    let rst = Step {
        ttl: 121,
        ip_id: Some(0),
        ..s(R, 1501, 0, 0)
    };
    segments.push(at(c(A | P, 201, 1501, 10), 5000.0));
    segments.push(at(rst, 5020.0));
    let flows = analyze(&segments);
    let a = &flows
        .iter()
        .find(|(f, _)| f.client().port() == 51514)
        .unwrap()
        .1[0];
    assert!(
        a.evidence.iter().any(|e| e
            .detail
            .contains("another machine answers for this address")),
        "{a:?}"
    );
    assert_eq!(a.verdict, Verdict::Peer, "{a:?}");
}

#[test]
fn refusals_from_one_address_at_two_distances_blame_the_nearer() {
    // Nothing but refusals from the server: port 8443's come from 1 hop, port 8444's from 3.
    let mut segments = Vec::new();
    for (i, (port, ttl)) in [(8443u16, 63u8), (8444, 61), (8443, 63)]
        .into_iter()
        .enumerate()
    {
        let t = 1000 * i as i64;
        let syn = other_port(segment(c(S, 100, 0, 0)), 40000 + i as u16, port);
        let rst = Step {
            ttl,
            ip_id: Some(0),
            ..s(R | A, 0, 101, 0)
        };
        segments.push((syn, t));
        segments.push((other_port(segment(rst), 40000 + i as u16, port), t + 20_000));
    }
    let flows = analyze(&segments);
    for (flow, attributions) in &flows {
        let a = &attributions[0];
        if flow.server().port() == 8443 {
            assert!(has(a, Signal::TtlMismatch), "{a:?}");
            assert!(a.reckoning.posterior > 0.8, "{a:?}");
        } else {
            assert_eq!(a.verdict, Verdict::Peer, "{a:?}");
        }
    }
}

#[test]
fn a_reset_the_capturing_router_made_is_told_from_the_ones_it_forwarded() {
    // A router captures on both its links: each server packet twice, one TTL apart; its own
    // reject of the client's request, in the server's name, once, with the router's TTL.
    let mut segments = Vec::new();
    for (step, ms) in [
        (c(S, 100, 0, 0), 1.0),
        (s(S | A, 500, 101, 0), 21.0),
        (c(A, 101, 501, 0), 22.0),
        (s(A | P, 501, 101, 100), 23.0),
    ] {
        let seg = segment(step);
        segments.push((seg.clone(), (ms * 1000.0) as i64));
        let mut copy = seg;
        copy.ip.ttl -= 1;
        segments.push((copy, (ms * 1000.0) as i64 + 5));
    }
    segments.push(at(c(A | P, 101, 601, 20), 30.0));
    let reject = Step {
        ttl: 64,
        ip_id: Some(0),
        ..s(R, 601, 0, 0)
    };
    segments.push(at(reject, 30.1));
    let a = only(&segments);
    assert!(has(&a, Signal::NotForwarded), "{a:?}");
    assert!(a.reckoning.posterior > 0.8, "{a:?}");
}

#[test]
fn a_reset_carrying_the_capturing_interfaces_address_is_the_hosts_own() {
    // Live capture knows the interface's addresses: its own RST is its own, whatever TTL.
    let mut table = FlowTable::new(FlowConfig::default());
    let mut hosts = HostBaselines::with_own_addresses(vec![client_addr().ip()]);
    let mut done = Vec::new();
    for (i, (segment, at_us)) in with(exchange(), &[at(c(R | A, 201, 1501, 0), 60.0)])
        .iter()
        .enumerate()
    {
        hosts.observe(segment);
        let at = FrameRef {
            input: 0,
            frame: i as u64 + 1,
            ts: Timestamp(at_us * 1000),
        };
        table.observe(segment, at, &mut done);
    }
    table.finish_all(&mut |flow| done.push(flow));
    let a = &attribute(&done[0], &hosts)[0];
    assert!(has(a, Signal::OwnAddress), "{a:?}");
    assert_eq!(
        (a.verdict, a.scenario),
        (Verdict::Peer, Scenario::LocalAbort)
    );
}
