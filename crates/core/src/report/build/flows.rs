//! One finished flow in the report's form: its ends, counts and close, each reset with its
//! verdict, evidence and the packets around it.

use super::*;

pub(super) fn endpoint(addr: SocketAddr) -> Endpoint {
    Endpoint {
        ip: addr.ip().to_string(),
        port: addr.port(),
    }
}

pub(super) fn side_name(side: Side) -> &'static str {
    match side {
        Side::Client => "client",
        Side::Server => "server",
    }
}

/// Seconds with microsecond resolution, so JSON numbers stay short and exact enough.
pub(super) fn round_micros(secs: f64) -> f64 {
    (secs * 1e6).round() / 1e6
}

/// The report form of one finished flow.
pub fn flow_report(analyzed: &AnalyzedFlow) -> FlowReport {
    let flow = &analyzed.flow;
    let (client_bytes, server_bytes) = flow.payload_bytes();
    let per_side = |f: fn(&crate::flow::Endpoint) -> u64| PerSide {
        client: f(&flow.client_side),
        server: f(&flow.server_side),
    };
    FlowReport {
        id: flow.id,
        client: endpoint(flow.client()),
        server: endpoint(flow.server()),
        community_id: crate::report::community_id::community_id(flow.client(), flow.server()),
        tcp_stream: flow.wireshark.map(|w| w.first.stream),
        tcp_stream_input: flow.wireshark.map(|w| usize::from(w.first.input)),
        first_ts: format_ts(flow.first_ts),
        last_ts: format_ts(flow.last_ts),
        duration_s: round_micros(flow.last_ts.since(flow.first_ts).as_secs_f64()),
        packets: per_side(|side| u64::from(side.packets)),
        payload_bytes: PerSide {
            client: client_bytes,
            server: server_bytes,
        },
        conn_state: flow.conn_state().to_string(),
        history: flow.history().to_string(),
        close: match flow.close() {
            Close::Fin => "fin",
            Close::Rst => "rst",
            Close::None => "none",
        },
        handshake_rtt_ms: flow
            .handshake
            .rtt()
            .map(|rtt| (rtt.as_millis_f64() * 1000.0).round() / 1000.0),
        retransmissions: per_side(|side| u64::from(side.retransmissions)),
        zero_windows: per_side(|side| u64::from(side.zero_windows)),
        keepalives: per_side(|side| u64::from(side.keepalives)),
        tunneled: flow.tunneled,
        resets: mark_follow_ups(
            flow.resets
                .iter()
                .zip(&analyzed.attributions)
                .map(|(reset, attribution)| reset_report(flow, reset, attribution))
                .collect(),
        ),
        resets_not_listed: u64::from(flow.resets_not_listed),
        path_changes: None,
        lost: Vec::new(),
        lost_not_listed: 0,
        seen_packets: Vec::new(),
    }
}

/// Marks the resets that follow an earlier one of the flow: the further RSTs of a sender
/// already judged the same way (a volley, the many RSTs of one abort, a filter answering each
/// segment of a connection it dropped), and a host's answers from no socket after the first
/// reset. A device acting after a genuine reset says something of its own: it is not folded.
pub(super) fn mark_follow_ups(mut resets: Vec<ResetReport>) -> Vec<ResetReport> {
    let mut primaries: Vec<(u64, &'static str, &'static str)> = Vec::new();
    for reset in &mut resets {
        let same = primaries
            .iter()
            .find(|&&(_, verdict, from)| verdict == reset.verdict && from == reset.from)
            .or_else(|| primaries.iter().find(|p| p.1 == reset.verdict));
        let followed = match same {
            Some(&(frame, _, _)) => Some(frame),
            None if reset.verdict == "peer" => primaries.first().map(|p| p.0),
            None => None,
        };
        match followed {
            Some(frame) => reset.follow_up_of = Some(frame),
            None => primaries.push((reset.frame, reset.verdict, reset.from)),
        }
    }
    resets
}

fn process_report(process: &crate::kernel::Process) -> crate::report::ProcessReport {
    crate::report::ProcessReport {
        pid: process.pid,
        name: process.name.clone(),
    }
}

fn owner_report(owner: &crate::kernel::SocketOwner) -> crate::report::OwnerReport {
    crate::report::OwnerReport {
        uid: owner.uid,
        user: owner.user.clone(),
        inode: owner.inode,
        process: owner.process.as_ref().map(process_report),
        as_of: format_ts(crate::Timestamp(owner.as_of_ns)),
    }
}

/// The report form of one reset.
pub(in crate::report) fn reset_report(
    flow: &Flow,
    reset: &Reset,
    attribution: &Attribution,
) -> ResetReport {
    let segment = &reset.segment;
    let sender = flow.side_of(segment.src);
    let wireshark = reset.wireshark.as_ref();
    ResetReport {
        input: segment.at.input,
        frame: segment.at.frame,
        tcp_stream: wireshark.map(|w| w.at().stream),
        ts: format_ts(segment.at.ts),
        from: side_name(sender),
        src: endpoint(segment.src),
        dst: endpoint(reset.dst),
        flags: segment.flags.to_string(),
        seq: segment.seq.0,
        seq_relative: wireshark.and_then(|w| w.relative(sender, segment.seq)),
        ack: segment.ack.map(|ack| ack.0),
        ack_relative: segment
            .ack
            .and_then(|ack| wireshark?.relative(sender.peer(), ack)),
        ttl: segment.ttl,
        ip_id: segment.ip_id,
        len: segment.len,
        checksum: match segment.checksum {
            Checksum::Valid => "valid",
            Checksum::Offloaded => "offloaded",
            Checksum::Bad => "bad",
            Checksum::Unverified => "unverified",
        },
        verdict: attribution.verdict.as_str(),
        confidence: attribution.confidence,
        scenario: attribution.scenario.as_str(),
        evidence: attribution
            .evidence
            .iter()
            .map(|e| EvidenceReport {
                signal: e.signal.to_string(),
                points_to: e.points_to.as_str(),
                detail: e.detail.clone(),
                ratio: round_to(e.ratio, 3),
                counted: e.counted,
            })
            .collect(),
        reckoning: ReckoningReport {
            situation: attribution.reckoning.situation.as_str(),
            prior_path: round_to(attribution.reckoning.prior, 3),
            posterior_path: round_to(attribution.reckoning.posterior, 4),
        },
        device_hops: attribution.device_hops,
        silence_before_s: reset
            .silence_before_trigger
            .filter(|gap| gap.0 > 0)
            .map(|gap| round_to(gap.as_secs_f64(), 6)),
        sender_ttl: attribution
            .sender_ttl
            .map(|t| crate::report::SenderTtlReport {
                usual: t.usual,
                packets: u64::from(t.packets),
                learnt_from: if t.from_other_flows {
                    "other_flows"
                } else {
                    "this_flow"
                },
            }),
        follow_up_of: None,
        at_ns: segment.at.ts.0,
        explanation: attribution.explanation.clone(),
        advice: attribution.advice.clone(),
        packets_before: reset
            .packets_before
            .iter()
            .map(|note| packet_report(flow, note, reset))
            .collect(),
        packets_after: reset
            .packets_after
            .iter()
            .map(|note| packet_report(flow, note, reset))
            .collect(),
        seen: Vec::new(),
        kernel: attribution
            .kernel
            .as_ref()
            .and_then(|k| k.sent.as_ref())
            .map(|sent| crate::report::KernelSentReport {
                event: "tcp_send_reset",
                reason: sent.reason.clone(),
                state: sent.state.clone(),
                process: sent.process.as_ref().map(process_report),
                owner: sent.owner.as_ref().map(owner_report),
                delay_ms: round_to(sent.delay_us as f64 / 1000.0, 3),
            }),
        kernel_receive: attribution
            .kernel
            .as_ref()
            .and_then(|k| k.received.as_ref())
            .map(|received| crate::report::KernelReceiveReport {
                event: "tcp_receive_reset",
                state: received.state.clone(),
                socket_cookie: received.socket_cookie,
                owner: received.owner.as_ref().map(owner_report),
                delay_ms: round_to(received.delay_us as f64 / 1000.0, 3),
            }),
    }
}

/// `value` rounded to `digits` decimals, for numbers people read.
pub(super) fn round_to(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

/// One segment near a reset, timed relative to it, its sequence numbers relative to the bases
/// of the reset's Wireshark conversation when it is of the same input.
pub(super) fn packet_report(flow: &Flow, note: &SegmentNote, reset: &Reset) -> PacketReport {
    let reset_ts = reset.segment.at.ts;
    let sender = flow.side_of(note.src);
    let wireshark = reset
        .wireshark
        .as_ref()
        .filter(|w| usize::from(w.at().input) == note.at.input);
    let relative = |side: Side, seq: SeqNum| wireshark.and_then(|w| w.relative(side, seq));
    PacketReport {
        input: note.at.input,
        frame: note.at.frame,
        ts: format_ts(note.at.ts),
        // Microsecond resolution, so the JSON shows -8035.004, not -8035.004000000001.
        offset_ms: (note.at.ts.since(reset_ts).0 as f64 / 1000.0).round() / 1000.0,
        from: side_name(sender),
        flags: note.flags.to_string(),
        seq: note.seq.0,
        seq_relative: relative(sender, note.seq),
        ack: note.ack.map(|ack| ack.0),
        ack_relative: note.ack.and_then(|ack| relative(sender.peer(), ack)),
        len: note.len,
        ttl: note.ttl,
    }
}
