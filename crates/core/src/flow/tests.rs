//! Flow tests: segments built directly (a template per side, one field changed with struct
//! update syntax), fed through the flow table; `conn_state` and `history` checked as tables.

use super::*;
use crate::testing::*;

/// Feeds the steps 1 ms apart (unless a step says when) and returns every flow.
fn run(steps: &[Step]) -> Vec<Flow> {
    run_with(FlowConfig::default(), steps)
}

fn run_with(config: FlowConfig, steps: &[Step]) -> Vec<Flow> {
    let mut table = FlowTable::new(config);
    let mut done = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let ms = if step.at_ms != 0 {
            step.at_ms
        } else {
            i as i64
        };
        let at = FrameRef {
            input: 0,
            frame: i as u64 + 1,
            ts: Timestamp(ms * 1_000_000),
        };
        table.observe(&segment(*step), at, &mut done);
    }
    table.finish_all(&mut |flow| done.push(flow));
    done
}

fn states(steps: &[Step]) -> Vec<(String, String)> {
    run(steps)
        .iter()
        .map(|f| (f.conn_state().to_string(), f.history().to_string()))
        .collect()
}

fn one(steps: &[Step]) -> (String, String) {
    let all = states(steps);
    assert_eq!(all.len(), 1, "expected one flow, got {all:?}");
    all[0].clone()
}

fn pair(state: &str, history: &str) -> (String, String) {
    (state.to_string(), history.to_string())
}

// ---- handshake fixtures -------------------------------------------------------------------

const SYN: Step = c(S, 100, 0, 0);
const SYN_ACK: Step = s(S | A, 500, 101, 0);
const ACK: Step = c(A, 101, 501, 0);

fn established() -> Vec<Step> {
    vec![SYN, SYN_ACK, ACK]
}

fn with(mut steps: Vec<Step>, more: &[Step]) -> Vec<Step> {
    steps.extend_from_slice(more);
    steps
}

// ---- conn_state table ---------------------------------------------------------------------

#[test]
fn attempts_and_rejections() {
    assert_eq!(one(&[SYN]), pair("S0", "S"));
    assert_eq!(one(&[SYN, s(R | A, 0, 101, 0)]), pair("REJ", "Sr"));
    assert_eq!(one(&[SYN, c(R, 101, 0, 0)]), pair("RSTOS0", "SR"));
    assert_eq!(one(&[c(S | F, 100, 0, 0)]), pair("SH", "Q"));
}

#[test]
fn established_flows() {
    assert_eq!(one(&established()), pair("S1", "ShA"));
    let sf = with(
        established(),
        &[
            c(A | P, 101, 501, 10),
            s(A | P, 501, 111, 20),
            c(F | A, 111, 521, 0),
            s(F | A, 521, 112, 0),
            c(A, 112, 522, 0),
        ],
    );
    assert_eq!(one(&sf), pair("SF", "ShADdFf"));
    let s2 = with(established(), &[c(F | A, 101, 501, 0)]);
    assert_eq!(one(&s2), pair("S2", "ShAF"));
    let s3 = with(established(), &[s(F | A, 501, 101, 0)]);
    assert_eq!(one(&s3), pair("S3", "ShAf"));
}

#[test]
fn resets_after_establishment() {
    let rsto = with(established(), &[c(R | A, 101, 501, 0)]);
    assert_eq!(one(&rsto), pair("RSTO", "ShAR"));
    let rstr = with(
        established(),
        &[c(A | P, 101, 501, 10), s(R | A, 501, 111, 0)],
    );
    assert_eq!(one(&rstr), pair("RSTR", "ShADr"));
}

#[test]
fn partial_flows_follow_zeek_orientation() {
    // A lone RST from a server port: flipped, the responder reset a connection never seen.
    assert_eq!(one(&[s(R | A, 500, 101, 0)]), pair("RSTRH", "^r"));
    // Mid-stream data from the server port first: flipped.
    assert_eq!(
        one(&[s(A | P, 501, 101, 10), c(A, 101, 511, 0)]),
        pair("OTH", "^dA")
    );
    // The server's FIN first, then the client's ACK: SHR.
    assert_eq!(
        one(&[s(F | A, 501, 101, 0), c(A, 101, 502, 0)]),
        pair("SHR", "^fA")
    );
}

// ---- flow lifetime ------------------------------------------------------------------------

#[test]
fn a_new_isn_after_a_close_starts_a_new_flow() {
    let mut steps = with(established(), &[c(R | A, 101, 501, 0)]);
    steps.push(c(S, 9000, 0, 0));
    assert_eq!(states(&steps), vec![pair("RSTO", "ShAR"), pair("S0", "S")]);
}

#[test]
fn a_retransmitted_syn_stays_in_its_flow_but_a_late_one_does_not() {
    let retransmit = [SYN, Step { at_ms: 1000, ..SYN }];
    assert_eq!(states(&retransmit), vec![pair("S0", "S")]);
    let late = [SYN, Step { at_ms: 7000, ..SYN }];
    assert_eq!(states(&late), vec![pair("S0", "S"), pair("S0", "S")]);
}

#[test]
fn segments_just_after_a_reset_join_its_flow_and_later_ones_do_not() {
    let rst = c(R | A, 101, 501, 0);
    let late_data = Step {
        at_ms: 4000,
        ..s(A | P, 501, 101, 10)
    };
    let flows = run(&with(established(), &[rst, late_data]));
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0].history(), "ShARd");
    let after = Step {
        at_ms: 20_000,
        ..s(A | P, 501, 101, 10)
    };
    assert_eq!(run(&with(established(), &[rst, after])).len(), 2);
}

#[test]
fn idle_flows_are_finished_and_a_later_segment_starts_another() {
    let config = FlowConfig {
        idle_timeout: Span::from_secs(60),
        ..FlowConfig::default()
    };
    let later = Step {
        at_ms: 61_000,
        ..c(A | P, 101, 501, 10)
    };
    let flows = run_with(config, &with(established(), &[later]));
    assert_eq!(flows.len(), 2);
    assert_eq!(flows[0].end, FlowEnd::Idle);
    assert_eq!(flows[1].conn_state(), "OTH");
}

#[test]
fn a_full_table_evicts_and_counts() {
    let config = FlowConfig {
        max_flows: 2,
        ..FlowConfig::default()
    };
    let mut table = FlowTable::new(config);
    let mut done = Vec::new();
    for port in 0..5u16 {
        let seg = Segment {
            src: SocketAddr::new(client_addr().ip(), 40000 + port),
            ..segment(SYN)
        };
        let at = FrameRef {
            input: 0,
            frame: u64::from(port) + 1,
            ts: Timestamp(i64::from(port)),
        };
        table.observe(&seg, at, &mut done);
        assert!(table.len() <= 2);
    }
    assert_eq!(table.evicted, 3);
    assert!(done.iter().all(|f| f.end == FlowEnd::Evicted));
}

// ---- resets and counters ------------------------------------------------------------------

#[test]
fn resets_keep_their_frame_and_the_segment_before_them() {
    let steps = with(
        established(),
        &[c(A | P, 101, 501, 10), s(R | A, 501, 111, 0)],
    );
    let flow = &run(&steps)[0];
    assert_eq!(flow.resets.len(), 1);
    let reset = &flow.resets[0];
    assert_eq!(reset.segment.at.frame, 5);
    assert_eq!(flow.side_of(reset.segment.src), Side::Server);
    assert_eq!(reset.previous.as_ref().map(|p| p.at.frame), Some(4));
    assert_eq!(flow.close(), Close::Rst);
}

#[test]
fn the_reset_list_is_capped_but_every_reset_is_counted() {
    let config = FlowConfig {
        max_resets_per_flow: 2,
        ..FlowConfig::default()
    };
    let resets: Vec<Step> = (0..5).map(|i| s(R | A, 501 + i * 100, 101, 0)).collect();
    let flows = run_with(config, &with(established(), &resets));
    assert_eq!(flows[0].resets.len(), 2);
    assert_eq!(flows[0].resets_not_listed, 3);
}

#[test]
fn handshake_rtt_and_retransmissions() {
    let steps = [
        Step { at_ms: 1, ..SYN },
        Step {
            at_ms: 21,
            ..SYN_ACK
        },
        Step { at_ms: 23, ..ACK },
        Step {
            at_ms: 30,
            ..c(A | P, 101, 501, 10)
        },
        Step {
            at_ms: 330,
            ..c(A | P, 101, 501, 10)
        },
    ];
    let flow = &run(&steps)[0];
    assert_eq!(flow.handshake.rtt(), Some(Span::from_millis(22)));
    assert_eq!(flow.client_side.retransmissions, 1);
    assert_eq!(flow.history(), "ShADT");
}

#[test]
fn payload_bytes_count_sequence_space_across_wraparound() {
    let syn = c(S, u32::MAX - 4, 0, 0);
    let syn_ack = s(S | A, 500, u32::MAX - 3, 0);
    let ack = c(A, u32::MAX - 3, 501, 0);
    let data = c(A | P, u32::MAX - 3, 501, 100);
    let flows = run(&[syn, syn_ack, ack, data]);
    assert_eq!(flows[0].payload_bytes().0, 100);
    assert_eq!(flows[0].conn_state(), "S1");
}

/// Per-flow state is counted in bytes: a live flow is one allocation of this size (its ring
/// of recent segments inline), plus its resets when it has any.
#[test]
fn a_live_flow_stays_small() {
    let flow = std::mem::size_of::<Flow>();
    let endpoint = std::mem::size_of::<Endpoint>();
    // 100,000 live flows in 64 MiB (issue 6) leave about 670 bytes each, table and heap
    // entries (about 40) included; 24 of these are Wireshark's numbering (issue 16).
    assert!(flow <= 600, "Flow grew to {flow} bytes");
    assert!(endpoint <= 128, "Endpoint grew to {endpoint} bytes");
}

#[test]
fn a_flows_addresses_come_back_exactly_after_packing() {
    use std::net::SocketAddr;
    let pairs = [
        ("192.0.2.10:51514", "198.51.100.7:443"),
        ("[2001:db8::10]:50000", "[2001:db8::20]:8443"),
        // IPv4-mapped IPv6 addresses stay IPv6.
        ("[::ffff:192.0.2.1]:1", "[::ffff:198.51.100.2]:65535"),
        ("0.0.0.0:0", "255.255.255.255:65535"),
    ];
    for (client, server) in pairs {
        let (client, server): (SocketAddr, SocketAddr) =
            (client.parse().unwrap(), server.parse().unwrap());
        let mut ends = super::Ends::new(client, server);
        assert_eq!((ends.client(), ends.server()), (client, server));
        ends.swap();
        assert_eq!((ends.client(), ends.server()), (server, client));
    }
}

#[test]
fn a_flow_knows_its_ends_without_unpacking_them() {
    use std::net::SocketAddr;
    let v4 = |s: &str| -> SocketAddr { s.parse().unwrap() };
    let ends = super::Ends::new(v4("192.0.2.10:51514"), v4("198.51.100.7:443"));
    assert!(ends.is_client(v4("192.0.2.10:51514")));
    assert!(!ends.is_client(v4("198.51.100.7:443")));
    assert!(
        !ends.is_client(v4("[::ffff:192.0.2.10]:51514")),
        "the IPv6 form is another address"
    );
    assert!(ends.joins(v4("192.0.2.10:51514"), v4("198.51.100.7:443")));
    assert!(ends.joins(v4("198.51.100.7:443"), v4("192.0.2.10:51514")));
    assert!(!ends.joins(v4("192.0.2.10:51515"), v4("198.51.100.7:443")));
    assert!(!ends.joins(v4("192.0.2.10:51514"), v4("192.0.2.10:51514")));
}

// ---- Wireshark's tcp.stream ---------------------------------------------------------------

/// Each flow's first stream, in the order the flows finished.
fn streams(config: FlowConfig, steps: &[Step]) -> Vec<u32> {
    run_with(config, steps)
        .iter()
        .map(|flow| flow.wireshark.map_or(u32::MAX, |w| w.first.stream))
        .collect()
}

#[test]
fn a_flow_split_by_the_idle_timeout_keeps_wiresharks_stream() {
    let config = FlowConfig {
        idle_timeout: Span::from_secs(60),
        ..FlowConfig::default()
    };
    let late = Step {
        at_ms: 120_000,
        ..c(A | P, 101, 501, 10)
    };
    // Wireshark never times a conversation out: the late segment is still stream 0.
    assert_eq!(streams(config, &with(established(), &[late])), [0, 0]);
}

#[test]
fn a_new_isn_on_the_same_ports_is_the_next_stream() {
    let again = c(S, 9000, 0, 0);
    let closed = with(
        established(),
        &[
            c(F | A, 101, 501, 0),
            s(F | A, 501, 102, 0),
            c(A, 102, 502, 0),
        ],
    );
    assert_eq!(
        streams(FlowConfig::default(), &with(closed, &[again])),
        [0, 1]
    );
}

#[test]
fn a_reset_carries_its_stream_and_the_bases() {
    let flows = run(&with(established(), &[s(R | A, 501, 101, 0)]));
    let reset = &flows[0].resets[0];
    let wireshark = reset.wireshark.unwrap();
    assert_eq!(wireshark.at().stream, 0);
    assert_eq!(wireshark.relative(Side::Server, reset.segment.seq), Some(1));
    assert_eq!(
        wireshark.relative(Side::Client, reset.segment.ack.unwrap()),
        Some(1)
    );
}
