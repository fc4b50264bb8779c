//! What `rstscope compare` adds to the report: where each reset was seen, what changed
//! between the two capture points per flow, packets lost between them, and the clocks.
//! Every field is absent from a one-capture report.

use serde::Serialize;

use super::Endpoint;

/// One capture's sighting of a reset (or of a packet).
#[derive(Debug, Clone, Serialize)]
pub struct Sighting {
    pub input: usize,
    pub frame: u64,
    /// On the first input's clock.
    pub ts: String,
    pub ttl: u8,
}

/// The two captures side by side (top level `comparison`).
#[derive(Debug, Clone, Serialize)]
pub struct ComparisonReport {
    /// Every time in the report is on this input's clock (the first one given).
    pub clock_of_input: usize,
    /// The second capture's clock minus the first's at the first matched packet, in seconds.
    pub clock_offset_s: f64,
    /// How fast the second clock ran against the first, in parts per million.
    pub clock_drift_ppm: f64,
    /// Packets matched across the captures (what the clocks were read from).
    pub matched_packets: u64,
    pub flows_matched: u64,
    /// Flows seen in one capture only, per input.
    pub flows_unmatched: [u64; 2],
    /// Which input sees the clients' packets first (the one nearer the clients), when the
    /// matched flows say so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nearer_clients: Option<usize>,
    /// Address translations between the points: an end as seen at the first input and at the
    /// second.
    pub nat: Vec<NatMapping>,
}

/// One address (and port) translated between the two capture points.
#[derive(Debug, Clone, Serialize)]
pub struct NatMapping {
    /// `client` or `server`: which end of its flow was translated.
    pub end: &'static str,
    pub first: Endpoint,
    pub second: Endpoint,
}

/// What a flow's packets showed changed between the two points (absent fields: unchanged or
/// not seen).
#[derive(Debug, Clone, Default, Serialize)]
pub struct PathChanges {
    /// How many hops lie between the points: the fall in TTL of the packets that passed the
    /// first point first, and of those that passed the second first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hops: Option<u8>,
    /// The client's and the server's address at the second input, when translated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_at_second: Option<Endpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_at_second: Option<Endpoint>,
    /// Sequence numbers at the second input minus those at the first, per sender (a device
    /// that randomises ISNs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_seq_offset: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_seq_offset: Option<i64>,
    /// The MSS a SYN carried at the point it passed first and at the other, when they differ
    /// (MSS clamping).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mss_clamped: Vec<MssChange>,
    /// TCP options a SYN lost between the points.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options_stripped: Vec<String>,
    /// Matched packets whose window field differs between the points.
    #[serde(skip_serializing_if = "is_zero")]
    pub window_rewritten: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A SYN's MSS before and after the device that clamped it.
#[derive(Debug, Clone, Serialize)]
pub struct MssChange {
    /// `client` or `server`: whose SYN.
    pub from: &'static str,
    pub before: u16,
    pub after: u16,
}

/// One packet near a reset as the two points saw it (`flows[].seen_packets`).
#[derive(Debug, Clone, Serialize)]
pub struct TwoPointPacket {
    /// On the first input's clock, at the first point that saw it.
    pub ts: String,
    pub from: &'static str,
    pub flags: String,
    /// As the first input saw it (the second's, when only the second did).
    pub seq: u32,
    pub len: u32,
    /// Its frame in each input; null where that capture never saw it.
    pub frames: [Option<u64>; 2],
}

/// A packet that passed one capture point and never reached the other.
#[derive(Debug, Clone, Serialize)]
pub struct LostPacket {
    /// Where it was seen.
    pub input: usize,
    pub frame: u64,
    /// On the first input's clock.
    pub ts: String,
    pub from: &'static str,
    pub flags: String,
    pub seq: u32,
    pub len: u32,
}

/// The comparison in a paragraph for people: what was matched, the clocks, which point is
/// nearer the clients, and the address translations. None for a one-capture report.
pub fn comparison_paragraph(report: &super::Report) -> Option<String> {
    let comparison = report.comparison.as_ref()?;
    let names = input_names(report);
    let name = |index: usize| names.get(index).cloned().unwrap_or_default();
    let (first, second) = (name(0), name(1));
    let mut text = format!(
        "Compared {first} with {second}: {} flow{} matched, {} only in {first}, {} only in {second}; {} packet{} seen at both.",
        comparison.flows_matched,
        plural(comparison.flows_matched),
        comparison.flows_unmatched[0],
        comparison.flows_unmatched[1],
        comparison.matched_packets,
        plural(comparison.matched_packets),
    );
    if comparison.matched_packets > 0 {
        text.push_str(&format!(
            " {second}'s clock is {:+.6} s from {first}'s, drifting {:+.1} ppm; every time here is on {first}'s clock.",
            comparison.clock_offset_s, comparison.clock_drift_ppm
        ));
    }
    if let Some(near) = comparison.nearer_clients {
        text.push_str(&format!(" {} sees the clients' packets first.", name(near)));
    }
    if let Some(mapping) = comparison.nat.first() {
        text.push_str(&format!(
            " Addresses are translated between the points: the {} {} is {} at {second}",
            mapping.end, mapping.first, mapping.second
        ));
        match comparison.nat.len() - 1 {
            0 => text.push('.'),
            more => text.push_str(&format!(" ({more} more mapping{}).", plural(more as u64))),
        }
    }
    Some(text)
}

/// What changed between the two points for one flow, in a sentence; None when nothing did
/// (or for a one-capture report).
pub fn path_in_words(flow: &super::FlowReport, second: &str) -> Option<String> {
    let changes = flow.path_changes.as_ref();
    let mut parts = Vec::new();
    if let Some(changes) = changes {
        if let Some(hops) = changes.hops {
            parts.push(format!(
                "{hops} hop{} between the points",
                plural(u64::from(hops))
            ));
        }
        if let Some(client) = &changes.client_at_second {
            parts.push(format!(
                "the client {} is {client} at {second}",
                flow.client
            ));
        }
        if let Some(server) = &changes.server_at_second {
            parts.push(format!(
                "the server {} is {server} at {second}",
                flow.server
            ));
        }
        for (who, offset) in [
            ("client", changes.client_seq_offset),
            ("server", changes.server_seq_offset),
        ] {
            if let Some(offset) = offset {
                parts.push(format!(
                    "the {who}'s sequence numbers are moved by {offset:+}"
                ));
            }
        }
        for mss in &changes.mss_clamped {
            parts.push(format!(
                "the {}'s SYN MSS {} is clamped to {}",
                mss.from, mss.before, mss.after
            ));
        }
        if !changes.options_stripped.is_empty() {
            parts.push(format!(
                "TCP options stripped: {}",
                changes.options_stripped.join(", ")
            ));
        }
        if changes.window_rewritten > 0 {
            parts.push(format!(
                "the window is rewritten on {} packet{}",
                changes.window_rewritten,
                plural(changes.window_rewritten)
            ));
        }
    }
    let lost = flow.lost.len() as u64 + flow.lost_not_listed;
    if let Some(first) = flow.lost.first() {
        parts.push(format!(
            "{lost} packet{} passed one point and never reached the other (the first: the {}'s {} seq {}, frame {} of input {})",
            plural(lost),
            first.from,
            first.flags,
            first.seq,
            first.frame,
            first.input + 1
        ));
    }
    if parts.is_empty() {
        return changes
            .map(|_| "Between the capture points: nothing changed, nothing was lost.".to_string());
    }
    Some(format!("Between the capture points: {}.", parts.join("; ")))
}

/// The report's two inputs as a comparison's sentences name them (see `short_names`).
pub fn input_names(report: &super::Report) -> [String; 2] {
    let path = |index: usize| {
        report
            .inputs
            .get(index)
            .map_or("", |input| input.path.as_str())
    };
    short_names([path(0), path(1)])
}

/// The inputs as explanations name them: their file names, or the whole paths when those are
/// the same (`client/trace.pcap`, `server/trace.pcap`).
pub(crate) fn short_names(paths: [&str; 2]) -> [String; 2] {
    let file = |path: &str| {
        std::path::Path::new(path).file_name().map_or_else(
            || path.to_string(),
            |name| name.to_string_lossy().into_owned(),
        )
    };
    let short = [file(paths[0]), file(paths[1])];
    if short[0] == short[1] {
        [paths[0].to_string(), paths[1].to_string()]
    } else {
        short
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}
