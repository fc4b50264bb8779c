//! The bodies of the fuzz targets, shared by the libFuzzer binaries (`fuzz/fuzz_targets/*.rs`,
//! nightly flags) and by `tests/fuzz_regressions.rs` (stable, no libFuzzer), which replays the
//! corpus and every saved finding through the same code. Each body takes the fuzz input and
//! must return without panicking; only rstscope's public API is used.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

use rstscope_core::anonymization::{AnonymizeKey, Anonymizer};
use rstscope_core::fuzzing::{Captured, Decoded, decode, ip_header_offsets, rewrite_frame};
use rstscope_core::report::view::{TimeFormat, View};
use rstscope_core::report::{ReportBuilder, Retain, flow_report, line, markdown, table};
use rstscope_core::source::LinkType;
use rstscope_core::{
    AnalyzeOptions, AnalyzedFlow, Analyzer, AnalyzerConfig, Checksum, Flags, FlowConfig, FrameRef,
    InputStats, IpFacts, Mac, RunStats, Segment, SeqNum, Span, TcpOptions, Timestamp, analyze,
};

/// The DLT values `LinkType::from_dlt` knows; the decode target's first byte picks one.
pub const DLTS: [i32; 9] = [0, 1, 9, 10, 12, 101, 108, 113, 276];

/// `decode`: the first byte picks the link type, the rest is the frame. Decodes it whole and
/// cut, lists its IP headers, then rewrites its addresses as an anonymised export does and
/// decodes again: the rewrite may change addresses and checksums, never the segment.
pub fn decode_target(input: &[u8]) {
    let Some((&pick, frame)) = input.split_first() else {
        return;
    };
    let Some(link) = LinkType::from_dlt(DLTS[usize::from(pick) % DLTS.len()]) else {
        return;
    };
    let whole = decode(link, frame, Captured::Whole);
    let _ = decode(link, frame, Captured::Cut);
    for offset in ip_header_offsets(link, frame) {
        assert!(offset <= frame.len(), "IP header offset past the frame");
    }
    let mut copy = frame.to_vec();
    rewrite_frame(link, &mut copy, &mut flip_ip, &mut |mac| {
        mac.map(|b| b ^ 0x5a)
    });
    let again = decode(link, &copy, Captured::Whole);
    if let (Decoded::Segment(before), Decoded::Segment(after)) = (&whole, &again) {
        let shape = |s: &Segment| (s.src.port(), s.dst.port(), s.seq, s.ack, s.flags, s.len);
        assert_eq!(
            shape(before),
            shape(after),
            "the rewrite changed the segment"
        );
    }
}

fn flip_ip(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => IpAddr::V4(Ipv4Addr::from(u32::from(v4) ^ 0x0a0b_0c0d)),
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) ^ 0x0a0b_0c0d)),
    }
}

/// Bytes of one segment record of the `flow` target (see [`segment_of`]).
pub const RECORD: usize = 31;

/// `flow`: a 2-byte header picks the flow table's limits, whether addresses are anonymised
/// and how much is reported; then every [`RECORD`] bytes make one segment, fed through the
/// analyzer (flow table, host baselines, attribution) and the reports, as `analyze` does it. (Reports
/// cost most of the time, so half the inputs skip them and explore flows faster.)
pub fn flow_target(input: &[u8]) {
    let Some((header, records)) = input.split_at_checked(2) else {
        return;
    };
    let (config, mut anonymizer) = flow_setup(header[0], header[1]);
    let mut analyzer = Analyzer::new(AnalyzerConfig {
        flows: config,
        ..AnalyzerConfig::default()
    });
    let mut report =
        (header[1] & 1 != 0).then(|| ReportBuilder::new(Retain::All).listing_at_most(4));
    let mut ts = Timestamp(1_700_000_000_000_000_000);
    for (index, record) in records.chunks_exact(RECORD).enumerate() {
        let (mut segment, delta) = segment_of(record);
        if let Some(anonymizer) = &mut anonymizer {
            anonymizer.segment(&mut segment);
        }
        ts = ts.after(delta);
        let at = FrameRef {
            input: 0,
            frame: index as u64 + 1,
            ts,
        };
        analyzer
            .observe(&segment, at)
            .for_each(|flow| finish(flow, &mut report));
        if index % 8 == 7 {
            analyzer
                .expire(ts)
                .for_each(|flow| finish(flow, &mut report));
        }
    }
    analyzer.finish().for_each(|flow| finish(flow, &mut report));
    let stats = RunStats {
        inputs: vec![InputStats::default()],
        evicted_flows: analyzer.evicted_flows(),
        judged_early: 0,
        side_by_side: false,
    };
    if let Some(report) = report
        && header[1] & 2 != 0
    {
        render(&report.finish(&stats));
    }
}

/// The header: byte 0 asks for small limits (bit 7: at most 1 + bits 0-2 flows, bits 3-5
/// resets per flow), so eviction and the reset cap happen, and anonymisation (bit 6); byte 1
/// for flow reports (bit 0), rendering them (bit 1) and a short idle timeout (bits 2-7).
fn flow_setup(limits: u8, options: u8) -> (FlowConfig, Option<Anonymizer>) {
    let mut config = FlowConfig::default();
    if limits & 0x80 != 0 {
        config.max_flows = usize::from(limits & 0x07) + 1;
        config.max_resets_per_flow = usize::from((limits >> 3) & 0x07);
    }
    if options >> 2 != 0 {
        config.idle_timeout = Span::from_millis(u64::from(options >> 2) * 500);
    }
    let anonymizer = (limits & 0x40 != 0).then(|| Anonymizer::new(&AnonymizeKey([7; 32])));
    (config, anonymizer)
}

/// Reports (when there is a report) a finished, attributed flow, as `analyze` does.
fn finish(analyzed: AnalyzedFlow, report: &mut Option<ReportBuilder>) {
    let Some(report) = report.as_mut() else {
        return;
    };
    let flow = &analyzed.flow;
    for (reset, attribution) in flow.resets.iter().zip(&analyzed.attributions) {
        let _ = line::reset_line(flow, reset, attribution, &View::default());
    }
    let flow_report = flow_report(&analyzed);
    if let Err(err) = serde_json::to_vec(&flow_report) {
        panic!("a flow report did not serialise: {err}");
    }
    report.add(flow_report);
}

/// Renders a report in every format (into memory).
fn render(report: &rstscope_core::report::Report) {
    let mut out = Vec::new();
    let style = table::TableStyle {
        terminal: true,
        colour: true,
        width: Some(100),
    };
    let all = View {
        all: true,
        wide: true,
        time: TimeFormat::Relative,
        origin_ns: Some(0),
    };
    let written = rstscope_core::report::json::write_report(report, &mut out)
        .and_then(|()| table::write_table(report, style, &View::default(), &mut out))
        .and_then(|()| table::write_table(report, style, &all, &mut out))
        .and_then(|()| markdown::write_markdown(report, &View::default(), &mut out))
        .and_then(|()| rstscope_core::report::jira::write_jira(report, &all, &mut out))
        .and_then(|()| rstscope_core::report::html::write_html(report, &View::default(), &mut out))
        .and_then(|()| rstscope_core::report::html::write_html(report, &all, &mut out));
    assert!(written.is_ok(), "rendering into memory failed: {written:?}");
}

const V4_HOSTS: [[u8; 4]; 4] = [[192, 0, 2, 1], [198, 51, 100, 7], [203, 0, 113, 9], [0; 4]];
const V6_HOSTS: [u128; 4] = [
    0x2001_0db8_0000_0000_0000_0000_0000_0001,
    0x2001_0db8_0005_0000_0000_0000_0000_0007,
    0xfe80_0000_0000_0000_0000_0000_0000_0001,
    0,
];
const PORTS: [u16; 4] = [443, 80, 51514, 0];

/// One segment and the frame time since the previous one, from a [`RECORD`]-byte record:
///
/// | bytes | meaning |
/// | --- | --- |
/// | 0 | src host (bits 0-1), dst host (2-3), src port (4-5), dst port (6-7), from 4 each |
/// | 1 | TCP flags |
/// | 2 | IPv6 (bit 0), checksum (1-2), tunneled (3), interface (4-5, 0 = none), DF (6), options captured (7) |
/// | 3 | MSS (bit 0), window scale (1), SACK permitted (2), timestamps (3), scale value (4-7) |
/// | 4-5 | time step, i16 LE: value >> 2 in units of 1 µs, 1 ms, 1 s or 10^6 s (low 2 bits) |
/// | 6-9, 10-13 | SEG.SEQ, SEG.ACK (used when ACK is set), LE |
/// | 14-15, 16-17 | SEG.WND, SEG.LEN, LE |
/// | 18, 19-20 | TTL, IPv4 identification |
/// | 21-22, 23-26, 27-30 | MSS, TSval, TSecr |
pub fn segment_of(r: &[u8]) -> (Segment, Span) {
    let b = |at: usize| r.get(at).copied().unwrap_or(0);
    let u16_at = |at: usize| u16::from_le_bytes([b(at), b(at + 1)]);
    let u32_at = |at: usize| u32::from_le_bytes([b(at), b(at + 1), b(at + 2), b(at + 3)]);
    let bits = |byte: u8, shift: u32| usize::from((byte >> shift) & 3);
    let v6 = b(2) & 1 != 0;
    let host = |i: usize| match v6 {
        false => IpAddr::V4(Ipv4Addr::from(V4_HOSTS[i])),
        true => IpAddr::V6(Ipv6Addr::from(V6_HOSTS[i])),
    };
    let flags = Flags(b(1));
    let step = u16_at(4) as i16;
    let unit =
        [1_000, 1_000_000, 1_000_000_000, 1_000_000_000_000_000][usize::from(step as u16 & 3)];
    let segment = Segment {
        src: SocketAddr::new(host(bits(b(0), 0)), PORTS[bits(b(0), 4)]),
        dst: SocketAddr::new(host(bits(b(0), 2)), PORTS[bits(b(0), 6)]),
        seq: SeqNum(u32_at(6)),
        ack: flags.ack().then_some(SeqNum(u32_at(10))),
        flags,
        wnd: u16_at(14),
        len: u32::from(u16_at(16)),
        ip: IpFacts {
            ttl: b(18),
            ip_id: (!v6).then_some(u16_at(19)),
            df: !v6 && b(2) & 0x40 != 0,
            flow_label: if v6 {
                u32::from(u16_at(19)) & 0xfffff
            } else {
                0
            },
        },
        options: options_of(b(2), b(3), u16_at(21), (u32_at(23), u32_at(27))),
        checksum: [
            Checksum::Valid,
            Checksum::Offloaded,
            Checksum::Bad,
            Checksum::Unverified,
        ][bits(b(2), 1)],
        tunneled: b(2) & 0x08 != 0,
        in_wireshark: true,
        interface: match bits(b(2), 4) {
            0 => None,
            n => Some(n as u32),
        },
        link_src: (b(2) & 0x01 != 0).then_some(Mac([2, 0, 0, 0, 0, b(0)])),
        rst_payload: (flags.rst() && u16_at(16) & 1 != 0)
            .then(|| Box::from(&b"BIG-IP: [0x11c5672:3045] {peer} TCP RST"[..])),
        selected: true,
    };
    (segment, Span(i64::from(step >> 2) * unit))
}

fn options_of(misc: u8, which: u8, mss: u16, timestamps: (u32, u32)) -> TcpOptions {
    if misc & 0x80 == 0 {
        return TcpOptions::default();
    }
    TcpOptions {
        captured: true,
        mss: (which & 1 != 0).then_some(mss),
        window_scale: (which & 2 != 0).then_some(which >> 4),
        sack_permitted: which & 4 != 0,
        timestamps: (which & 8 != 0).then_some(timestamps),
        mptcp_reset: (which & 0x10 != 0).then_some((which >> 5, misc & 0x07)),
    }
}

/// `capture_file`: the input is a capture file, written to `path` (removed again after) and
/// analysed with the default options; every finished flow is reported and the report rendered.
pub fn capture_file_target(input: &[u8], path: &Path) {
    if std::fs::write(path, input).is_err() {
        return;
    }
    let mut report = ReportBuilder::new(Retain::All).listing_at_most(4);
    let outcome = analyze(
        &[path.to_path_buf()],
        &AnalyzeOptions::default(),
        &mut |analyzed| {
            let flow_report = flow_report(&analyzed);
            if let Err(err) = serde_json::to_vec(&flow_report) {
                panic!("a flow report did not serialise: {err}");
            }
            report.add(flow_report);
        },
    );
    // Gone again before the next input, so no run leaves files behind (but a crashing one).
    let _ = std::fs::remove_file(path);
    if let Ok(stats) = outcome {
        render(&report.finish(&stats));
    }
}
