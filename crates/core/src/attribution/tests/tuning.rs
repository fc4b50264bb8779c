//! Clues found on the lab generator's tuning seeds (`lab/gen`, seeds 1-199), each as the
//! smallest exchange that shows it.

use super::*;

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
