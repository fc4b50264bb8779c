//! Issue 11's failure classes, seen on captures made elsewhere: each as the smallest exchange
//! that shows it, with the verdict a reader should get.

use super::*;

// ---- issue 11: failure classes seen on captures made elsewhere ------------------------------

pub(super) fn mac(last: u8) -> Option<crate::decode::Mac> {
    Some(crate::decode::Mac([0x00, 0x00, 0x5e, 0x00, 0x53, last]))
}

pub(super) fn from(segment: Segment, src: &str, dst: &str) -> Segment {
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
            flow_label: 0,
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

/// The story of an IPv6 download seen at the server, with every segment labelled as Linux
/// labels them, and the client's RST (last) labelled `rst_label`.
fn labelled_v6(story: &[(Step, f64)], rst_label: u32) -> Vec<(Segment, i64)> {
    let client: SocketAddr = "[2001:db8:c::10]:51514".parse().unwrap();
    let server: SocketAddr = "[2001:db8:5::7]:443".parse().unwrap();
    story
        .iter()
        .map(|&(step, ms)| {
            let from_client = step.from == Side::Client;
            let seg = segment(Step {
                ttl: if from_client { 57 } else { 64 },
                ..step
            });
            let label = match (from_client, seg.flags.rst()) {
                (true, true) => rst_label,
                (true, false) => 0x7cc35,
                (false, _) => 0x2fecf,
            };
            let ip = IpFacts {
                ip_id: None,
                df: false,
                flow_label: label,
                ..seg.ip
            };
            let (src, dst) = if from_client {
                (client, server)
            } else {
                (server, client)
            };
            (
                Segment {
                    src,
                    dst,
                    ip,
                    ..seg
                },
                (ms * 1000.0) as i64,
            )
        })
        .collect()
}

#[test]
fn an_unlabelled_rst_from_a_sender_that_labels_its_packets_points_to_the_path() {
    let story = [
        (c(S, 100, 0, 0), 1.0),
        (s(S | A, 500, 101, 0), 1.1),
        (c(A, 101, 501, 0), 21.0),
        (c(A | P, 101, 501, 100), 22.0),
        (s(A | P, 501, 201, 1000), 22.5),
        (c(R, 201, 0, 0), 22.6),
    ];
    let forged = only(&labelled_v6(&story, 0));
    let label = forged
        .evidence
        .iter()
        .find(|e| e.signal == Signal::FlowLabelMissing)
        .unwrap_or_else(|| panic!("{forged:?}"));
    assert_eq!(label.points_to, PointsTo::Path);
    assert!(label.counted && label.ratio > 1.0, "{label:?}");
    // The same RST with the connection's label says nothing of the kind, and the verdict
    // leans the other way.
    let genuine = only(&labelled_v6(&story, 0x7cc35));
    assert!(!has(&genuine, Signal::FlowLabelMissing), "{genuine:?}");
    assert!(
        genuine.reckoning.posterior < forged.reckoning.posterior,
        "{genuine:?} {forged:?}"
    );
}

#[test]
fn an_unlabelled_rst_after_the_senders_own_fin_is_not_held_to_its_label() {
    // A BSD client closed with FIN; the server's late data gets a no-socket RST, which BSD
    // stacks send unlabelled (corpus/wild holds one).
    let story = [
        (c(S, 100, 0, 0), 1.0),
        (s(S | A, 500, 101, 0), 1.1),
        (c(A, 101, 501, 0), 21.0),
        (c(A | F, 101, 501, 0), 22.0),
        (s(A | P, 501, 102, 100), 22.5),
        (c(R, 102, 0, 0), 22.6),
    ];
    let a = only(&labelled_v6(&story, 0));
    assert!(!has(&a, Signal::FlowLabelMissing), "{a:?}");
    assert_ne!(a.verdict, Verdict::Middlebox, "{a:?}");
    assert_ne!(a.verdict, Verdict::Firewall, "{a:?}");
}

/// An IPv6 server that labels everything, refusals too (Linux), with one download and two
/// refused SYNs; the second refusal is labelled `second_label`.
fn labelled_refusals(second_label: u32) -> Vec<(Flow, Vec<Attribution>)> {
    let story = [
        (c(S, 100, 0, 0), 1.0),
        (s(S | A, 500, 101, 0), 1.1),
        (c(A, 101, 501, 0), 21.0),
        (c(A | P, 101, 501, 100), 22.0),
        (s(A | P, 501, 201, 1000), 22.5),
        (c(A | F, 201, 1501, 0), 23.0),
        (s(A | F, 1501, 202, 0), 23.1),
        (c(A, 202, 1502, 0), 23.2),
    ];
    let mut segments = labelled_v6(&story, 0);
    let server_ttl = segments[1].0.ip.ttl;
    for (port, label, ms) in [(40001, 0x3a1b2, 100.0), (40002, second_label, 200.0)] {
        let refused = [
            (other_port(segment(c(S, 9000, 0, 0)), port, 8443), ms),
            (
                other_port(segment(s(R | A, 0, 9001, 0)), port, 8443),
                ms + 0.1,
            ),
        ];
        for (seg, at_ms) in refused {
            let from_client = seg.src.ip() == client_addr().ip();
            let (src, dst) = if from_client {
                (
                    SocketAddr::new("2001:db8:c::10".parse().unwrap(), port),
                    SocketAddr::new("2001:db8:5::7".parse().unwrap(), 8443),
                )
            } else {
                (
                    SocketAddr::new("2001:db8:5::7".parse().unwrap(), 8443),
                    SocketAddr::new("2001:db8:c::10".parse().unwrap(), port),
                )
            };
            let ip = IpFacts {
                ip_id: None,
                df: false,
                ttl: if from_client { 57 } else { server_ttl },
                flow_label: if from_client { 0x11111 } else { label },
            };
            segments.push((
                Segment {
                    src,
                    dst,
                    ip,
                    ..seg
                },
                (at_ms * 1000.0) as i64,
            ));
        }
    }
    analyze(&segments)
}

#[test]
fn an_unlabelled_refusal_from_a_host_whose_refusals_are_labelled_points_to_the_path() {
    let refusal_to = |flows: &[(Flow, Vec<Attribution>)], port: u16| {
        flows
            .iter()
            .find(|(f, _)| f.client().port() == port)
            .map(|(_, a)| a[0].clone())
            .unwrap_or_else(|| panic!("no refusal to port {port}"))
    };
    let flows = labelled_refusals(0);
    let labelled = refusal_to(&flows, 40001);
    let unlabelled = refusal_to(&flows, 40002);
    assert!(!has(&labelled, Signal::FlowLabelMissing), "{labelled:?}");
    assert_eq!(labelled.verdict, Verdict::Peer, "{labelled:?}");
    let clue = unlabelled
        .evidence
        .iter()
        .find(|e| e.signal == Signal::FlowLabelMissing)
        .unwrap_or_else(|| panic!("{unlabelled:?}"));
    assert!(clue.counted && clue.ratio > 1.0, "{clue:?}");
    assert!(clue.detail.contains("1 of its refusals"), "{clue:?}");
    assert!(
        unlabelled.reckoning.posterior > labelled.reckoning.posterior * 4.0,
        "{unlabelled:?} {labelled:?}"
    );
    // Both refusals labelled: nothing to say.
    let both = labelled_refusals(0x3a1b3);
    assert!(!has(&refusal_to(&both, 40002), Signal::FlowLabelMissing));
}

#[test]
fn an_earlier_unlabelled_rst_does_not_excuse_the_next_one() {
    // A firewall that lost its state answers two segments of the client's with unlabelled
    // RSTs in its name: the first does not end the client's socket, so the second is held to
    // the client's label too.
    let story = [
        (c(S, 100, 0, 0), 1.0),
        (s(S | A, 500, 101, 0), 1.1),
        (c(A, 101, 501, 0), 21.0),
        (c(A | P, 101, 501, 100), 22.0),
        (s(A | P, 501, 201, 1000), 22.5),
        (c(R, 201, 0, 0), 22.6),
        (s(A | P, 1501, 201, 1000), 22.7),
        (c(R, 201, 0, 0), 22.8),
    ];
    let flows = analyze(&labelled_v6(&story, 0));
    let resets = &flows[0].1;
    assert_eq!(resets.len(), 2, "{resets:?}");
    for a in resets {
        assert!(has(a, Signal::FlowLabelMissing), "{a:?}");
    }
    // Labelled, the first RST is the client's own: the second, unlabelled, is excused (a
    // BSD stack answers from its control path once the socket is gone).
    let mut story_labelled_first = labelled_v6(&story, 0);
    let first_rst = story_labelled_first
        .iter()
        .position(|(seg, _)| seg.flags.rst())
        .unwrap();
    story_labelled_first[first_rst].0.ip.flow_label = 0x7cc35;
    let flows = analyze(&story_labelled_first);
    assert!(
        !has(&flows[0].1[1], Signal::FlowLabelMissing),
        "{:?}",
        flows[0].1[1]
    );
}
