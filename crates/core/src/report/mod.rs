//! The `rstscope.report/1` document: serde structs that mirror `docs/report-schema.md`, and
//! the renderers that turn one [`Report`] into bytes (`table`, `json`, `markdown`, `html`).
//!
//! Analysis types carry no serde; this module converts them once (`build`), so an internal
//! rename can never change the JSON contract, and every renderer reads the same values.

mod build;
mod community_id;
pub mod comparison;
pub mod diagnosis;
pub mod html;
pub mod jira;
pub mod json;
pub mod line;
pub mod markdown;
pub mod table;
pub mod ticket;
pub mod view;

use serde::Serialize;

pub use build::{Narrowing, ReportBuilder, Retain, flow_report, format_ts, warnings};
pub use diagnosis::DiagnosisGroup;

pub const SCHEMA: &str = "rstscope.report/1";

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub tool: Tool,
    /// The command that made the report: `rstscope` and its arguments, shell-quoted.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub command: String,
    /// True when every address in the report was anonymised (`--anonymize`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub anonymized: bool,
    pub inputs: Vec<InputReport>,
    pub summary: Summary,
    pub flows: Vec<FlowReport>,
    /// Problems that did not stop the run (cut-off files, evicted flows); empty when none.
    pub warnings: Vec<String>,
    /// `rstscope compare`: the two captures side by side; absent for one capture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<comparison::ComparisonReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

impl Tool {
    /// This build of rstscope.
    pub fn rstscope() -> Tool {
        Tool {
            name: "rstscope",
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// One capture file (or interface) read.
#[derive(Debug, Clone, Serialize)]
pub struct InputReport {
    pub path: String,
    pub link_type: String,
    /// Frames read, whether or not the filter kept them.
    pub packets: u64,
    pub first_ts: Option<String>,
    pub last_ts: Option<String>,
    pub truncated_packets: u64,
    pub undecodable_packets: u64,
    /// Frames that were not TCP (ARP, UDP, ICMP, IP fragments, ...).
    pub non_tcp_packets: u64,
    /// Frames the BPF filter rejected.
    pub filtered_packets: u64,
    /// TCP segments decoded (copies left out included).
    pub tcp_packets: u64,
    /// TCP packets left out because the same packet was just seen on another interface (a
    /// host forwarding traffic, captured on `any`).
    #[serde(skip_serializing_if = "is_zero")]
    pub copies_on_other_interfaces: u64,
    /// False when the file ended early (cut off or corrupt).
    pub complete: bool,
    /// Live capture only: packets the kernel dropped because they were not read fast enough.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped_by_kernel: Option<u64>,
    /// Live capture only: packets the interface or its driver dropped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped_by_interface: Option<u64>,
    /// Live capture only: the kernel's reset tracepoints, read beside the packets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel_tracing: Option<crate::kernel::KernelTracing>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub tcp_flows: u64,
    pub closed_fin: u64,
    pub closed_rst: u64,
    pub not_closed: u64,
    pub resets: u64,
    pub verdicts: VerdictCounts,
    /// Flows finished early because the flow table was full.
    pub evicted_flows: u64,
    /// Flows the report would list but left out to bound its memory (a long live capture keeps
    /// the most recent ones); they are counted above.
    #[serde(skip_serializing_if = "is_zero")]
    pub flows_not_listed: u64,
    /// Flows `--filter` did not select: analysed (their packets are part of every host's
    /// baseline) but not counted above and not listed.
    #[serde(skip_serializing_if = "is_zero")]
    pub flows_not_selected: u64,
    /// Flows counted above that `--verdict`, `--scenario`, `--host` or `--port` left out of the
    /// listing (and of the groups).
    #[serde(skip_serializing_if = "is_zero")]
    pub flows_narrowed_out: u64,
    /// The diagnosis: the listed flows' resets grouped by what a person would act on,
    /// heaviest first, follow-ups folded under the reset they follow.
    pub groups: Vec<DiagnosisGroup>,
}

/// How many resets got each verdict.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerdictCounts {
    pub peer: u64,
    pub firewall: u64,
    pub middlebox: u64,
    pub unknown: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Endpoint {
    pub ip: String,
    pub port: u16,
}

/// `ip:port`, with brackets around an IPv6 address.
impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.ip.contains(':') {
            write!(f, "[{}]:{}", self.ip, self.port)
        } else {
            write!(f, "{}:{}", self.ip, self.port)
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct PerSide {
    pub client: u64,
    pub server: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct FlowReport {
    pub id: u64,
    pub client: Endpoint,
    pub server: Endpoint,
    /// The Community ID (v1, seed 0) of the flow's addresses as reported (anonymised ones when
    /// anonymising), as Zeek, Suricata, Arkime and Elastic log it.
    pub community_id: String,
    /// Wireshark's `tcp.stream` of the flow's first segment, in input `tcp_stream_input`;
    /// absent when Wireshark does not dissect the flow as TCP (a tunnel it does not follow).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_stream: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_stream_input: Option<usize>,
    pub first_ts: String,
    pub last_ts: String,
    pub duration_s: f64,
    pub packets: PerSide,
    pub payload_bytes: PerSide,
    pub conn_state: String,
    pub history: String,
    pub close: &'static str,
    pub handshake_rtt_ms: Option<f64>,
    pub retransmissions: PerSide,
    pub zero_windows: PerSide,
    pub keepalives: PerSide,
    /// True when the flow was found inside a tunnel (GRE, VXLAN, Geneve, ...).
    pub tunneled: bool,
    pub resets: Vec<ResetReport>,
    /// RST segments beyond the per-flow cap that were counted but not listed.
    #[serde(skip_serializing_if = "is_zero")]
    pub resets_not_listed: u64,
    /// `compare`: what changed between the two capture points; absent for one capture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_changes: Option<comparison::PathChanges>,
    /// `compare`: packets that passed one point and never reached the other, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lost: Vec<comparison::LostPacket>,
    /// `compare`: lost packets beyond those listed.
    #[serde(skip_serializing_if = "is_zero")]
    pub lost_not_listed: u64,
    /// `compare`: the packets around each reset as both points saw them (at most 4 before
    /// and after each RST, 40 in all), for the two-point drawing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub seen_packets: Vec<comparison::TwoPointPacket>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Serialize)]
pub struct ResetReport {
    pub input: usize,
    pub frame: u64,
    /// Wireshark's `tcp.stream` of the RST in input `input` (absent as for the flow's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_stream: Option<u32>,
    pub ts: String,
    pub from: &'static str,
    pub src: Endpoint,
    pub dst: Endpoint,
    pub flags: String,
    pub seq: u32,
    /// `seq` as Wireshark shows `tcp.seq`: relative to the sender's base (its ISN).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq_relative: Option<u32>,
    pub ack: Option<u32>,
    /// `ack` relative to the other side's base, as Wireshark's `tcp.ack`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack_relative: Option<u32>,
    pub ttl: u8,
    pub ip_id: Option<u16>,
    /// Payload bytes the RST carried (RFC 9293 §3.5.3 allows a diagnostic text).
    pub len: u32,
    /// `valid`, `offloaded` (the sending host's own capture), `bad` (a receiver would drop
    /// it) or `unverified` (not all of it was captured).
    pub checksum: &'static str,
    /// Who really sent it: `peer`, `firewall`, `middlebox` or `unknown`.
    pub verdict: &'static str,
    /// Estimated probability that the verdict is right (0 for `unknown`).
    pub confidence: f64,
    pub scenario: &'static str,
    pub evidence: Vec<EvidenceReport>,
    pub reckoning: ReckoningReport,
    /// For a device's reset, its distance in hops from the capture point, when the RST's TTL
    /// fixes it (0: at the capture point); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_hops: Option<u8>,
    /// The silence before what the RST answered, in seconds (the gap an idle timeout is read
    /// from); absent when the capture does not show it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub silence_before_s: Option<f64>,
    /// The claimed sender's usual TTL the RST's was compared with; absent when none was seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_ttl: Option<SenderTtlReport>,
    /// The frame of the flow's earlier reset this one follows (a host's no-socket answers
    /// after a reset, the further RSTs of one volley); the diagnosis folds it under that one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_up_of: Option<u64>,
    /// The RST's time in nanoseconds since the epoch, for ordering (not in the JSON).
    #[serde(skip)]
    pub at_ns: i64,
    pub explanation: String,
    pub advice: Vec<String>,
    /// The flow's segments just before the RST (oldest first, up to 4) and just after it (up
    /// to 4), both directions: what the ladder diagrams draw.
    pub packets_before: Vec<PacketReport>,
    pub packets_after: Vec<PacketReport>,
    /// `compare`: every capture this same RST segment appears in; absent for one capture.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub seen: Vec<comparison::Sighting>,
    /// Live capture with kernel tracing: the capturing host's kernel sent this RST.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<KernelSentReport>,
    /// Live capture with kernel tracing: the RST reset one of the capturing host's sockets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel_receive: Option<KernelReceiveReport>,
}

/// `tcp:tcp_send_reset`, matched to the RST.
#[derive(Debug, Clone, Serialize)]
pub struct KernelSentReport {
    /// Always `tcp_send_reset`.
    pub event: &'static str,
    /// The kernel's `enum sk_rst_reason` name (`TCP_ABORT_ON_CLOSE`); null on a kernel
    /// without reasons (before 6.10).
    pub reason: Option<String>,
    /// The socket's state by the kernel's name; null when no socket had the connection.
    pub state: Option<String>,
    /// The process whose system call sent it, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<ProcessReport>,
    /// The socket's owner from a snapshot, when the event fired outside the owner's call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<OwnerReport>,
    /// The packet's capture time minus the event's, in milliseconds.
    pub delay_ms: f64,
}

/// A local socket's owner, from a snapshot of the host's sockets taken before the RST.
#[derive(Debug, Clone, Serialize)]
pub struct OwnerReport {
    pub uid: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    pub inode: u64,
    /// The process found holding the socket (root can look at every process's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<ProcessReport>,
    /// The snapshot's time.
    pub as_of: String,
}

/// `tcp:tcp_receive_reset`, matched to the RST.
#[derive(Debug, Clone, Serialize)]
pub struct KernelReceiveReport {
    /// Always `tcp_receive_reset`.
    pub event: &'static str,
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub socket_cookie: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<OwnerReport>,
    pub delay_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProcessReport {
    pub pid: i32,
    pub name: String,
}

/// The claimed sender's usual TTL, the number of its packets it was learnt from, and where:
/// `this_flow`, or `other_flows` (its other connections in the capture).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SenderTtlReport {
    pub usual: u8,
    pub packets: u64,
    pub learnt_from: &'static str,
}

/// A segment near a reset.
#[derive(Debug, Clone, Serialize)]
pub struct PacketReport {
    pub input: usize,
    pub frame: u64,
    pub ts: String,
    /// Milliseconds from the RST (negative before it).
    pub offset_ms: f64,
    /// `client` or `server`: whose address it carries.
    pub from: &'static str,
    pub flags: String,
    pub seq: u32,
    /// Relative to the sender's base as of the reset (Wireshark's `tcp.seq`), for a packet of
    /// the reset's input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq_relative: Option<u32>,
    pub ack: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack_relative: Option<u32>,
    pub len: u32,
    pub ttl: u8,
}

/// One weighed signal.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceReport {
    pub signal: String,
    /// `peer`, `path` or `neither`.
    pub points_to: &'static str,
    pub detail: String,
    /// The likelihood ratio: how much likelier this observation is when a device on the path
    /// sent the RST than when the peer did (above 1 points to the path, below 1 to the peer,
    /// 1 for context that does not vote).
    pub ratio: f64,
    /// False when a stronger signal reading the same bytes counted instead (or for context):
    /// the posterior is the prior's odds times the ratios of the counted signals.
    pub counted: bool,
}

/// How the verdict was reckoned: the prior for the reset's situation and the posterior after
/// the counted evidence, both as P(a device on the path sent it).
#[derive(Debug, Clone, Serialize)]
pub struct ReckoningReport {
    /// `answers_syn`, `answers_syn_ack`, `mid_stream`, `after_close`, `after_reset` or
    /// `reset_only`.
    pub situation: &'static str,
    pub prior_path: f64,
    pub posterior_path: f64,
}
