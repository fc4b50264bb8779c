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
