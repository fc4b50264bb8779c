//! Who really sent each reset, why, and what to do about it.
//!
//! [`attribute`] is a pure function of a finished flow and the capture-wide host baselines.
//! Each clue module (`ttl`, `link`, `timing`, `ip_id`, `race`, `signature`) reads one kind of
//! evidence and names what it saw; `model` holds what each kind of observation is worth, as a
//! likelihood ratio for "a device on the path sent it" against "the host that owns the address
//! did", and the prior for the situation the reset came in. Clues that read the same bytes
//! count once (the strongest of their group). The posterior decides the verdict: a device
//! when it is at least `PATH_AT_LEAST`, the peer at most `PEER_AT_MOST`, `unknown` between,
//! with the missing evidence named. `kind` tells a firewall from another middlebox by what the
//! device did, and names the scenario; `text` writes the explanation and advice. No I/O, no
//! state.
//!
//! Confidence is the probability that the verdict is right: for the peer, one minus the
//! posterior; for a device, the posterior times how sure the kind is.

mod context;
mod devices;
mod hosts;
mod ip_id;
mod kernel;
mod kind;
mod label;
mod link;
mod model;
mod race;
mod signature;
mod text;
mod timing;
mod ttl;

#[cfg(test)]
pub(crate) use ttl::initial_ttl;

#[cfg(test)]
mod tests;

use std::fmt;

pub(crate) use hosts::HostBaselines;
pub use kernel::apply_kernel;
pub(crate) use model::{Clue, Group, Situation};
pub(crate) use ttl::hops;

use crate::flow::{Flow, Reset};
use context::Context;
use model::{PATH_AT_LEAST, PEER_AT_MOST};

/// Who really sent a reset, relative to the address it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Peer,
    Firewall,
    Middlebox,
    Unknown,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Peer => "peer",
            Verdict::Firewall => "firewall",
            Verdict::Middlebox => "middlebox",
            Verdict::Unknown => "unknown",
        }
    }
}

/// What happened, as a short snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// The server host refused the connection (nothing listening).
    Refused,
    /// A firewall rejected the connection attempt in the server's name.
    FirewallReject,
    /// The server application aborted the connection (SO_LINGER 0, unread data, crash).
    PeerAbort,
    /// The client application aborted its own connection.
    LocalAbort,
    /// The server no longer knew the connection (restart, failover).
    StaleConnection,
    /// A stateful device forgot an idle connection and reset it.
    IdleTimeout,
    /// A stateful firewall no longer tracked the connection (flush, failover, policy change,
    /// or the connection had ended) and reset a segment of it.
    StateLoss,
    /// A device in the path (IPS, WAF, proxy) rejected the traffic mid-stream.
    InPathReject,
    /// Forged resets raced the real traffic (an out-of-band injector).
    InjectedReset,
    /// A connection opened and reset without data: a health check or port probe.
    HealthCheck,
    /// A reset while or after the connection closed with FIN: harmless.
    ResetAfterClose,
    /// A host answered segments of a connection it no longer (or never) had.
    NoSocket,
    /// The capturing host's own address sent it, but not its TCP stack (live capture with
    /// kernel tracing): the host's firewall or a raw socket.
    HostFirewall,
    /// The capturing host's kernel said it sent the reset, for this reason.
    Kernel(crate::kernel::KernelScenario),
    Unknown,
}

impl Scenario {
    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::Refused => "refused",
            Scenario::FirewallReject => "firewall_reject",
            Scenario::PeerAbort => "peer_abort",
            Scenario::LocalAbort => "local_abort",
            Scenario::StaleConnection => "stale_connection",
            Scenario::IdleTimeout => "idle_timeout",
            Scenario::StateLoss => "state_loss",
            Scenario::InPathReject => "in_path_reject",
            Scenario::InjectedReset => "injected_reset",
            Scenario::HealthCheck => "health_check",
            Scenario::ResetAfterClose => "reset_after_close",
            Scenario::NoSocket => "no_socket",
            Scenario::HostFirewall => "host_firewall",
            Scenario::Kernel(kind) => kind.as_str(),
            Scenario::Unknown => "unknown",
        }
    }
}

/// Which way one piece of evidence points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointsTo {
    Peer,
    Path,
    Neither,
}

impl PointsTo {
    pub fn as_str(self) -> &'static str {
        match self {
            PointsTo::Peer => "peer",
            PointsTo::Path => "path",
            PointsTo::Neither => "neither",
        }
    }
}

/// The signals rstscope reports, by the names the JSON uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    TtlMatch,
    TtlMismatch,
    TtlBaseline,
    TtlUnreliable,
    CaptureHost,
    OnLink,
    OffLink,
    OwnAddress,
    LinkAddressMatch,
    LinkAddressMismatch,
    TooFast,
    TimingConsistent,
    IpIdContinues,
    IpIdJump,
    IpIdZero,
    DfMismatch,
    FlowLabelMissing,
    DataAfterReset,
    TrafficAfterReset,
    ResetBurst,
    SeqExact,
    SeqOff,
    NotForwarded,
    DeviceSignature,
    ResetText,
    MptcpReset,
    IdleGap,
    AnswersSyn,
    KernelSent,
    KernelNoEvent,
    KernelReceived,
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Signal::TtlMatch => "ttl_match",
            Signal::TtlMismatch => "ttl_mismatch",
            Signal::TtlBaseline => "ttl_no_baseline",
            Signal::TtlUnreliable => "ttl_unreliable",
            Signal::CaptureHost => "capture_host",
            Signal::OnLink => "on_link_untouched_ttl",
            Signal::OffLink => "off_link_untouched_ttl",
            Signal::OwnAddress => "own_address",
            Signal::LinkAddressMatch => "link_address_match",
            Signal::LinkAddressMismatch => "link_address_mismatch",
            Signal::TooFast => "too_fast",
            Signal::TimingConsistent => "timing_consistent",
            Signal::IpIdContinues => "ip_id_continues",
            Signal::IpIdJump => "ip_id_jump",
            Signal::IpIdZero => "ip_id_zero",
            Signal::DfMismatch => "df_mismatch",
            Signal::FlowLabelMissing => "flow_label_missing",
            Signal::DataAfterReset => "data_after_reset",
            Signal::TrafficAfterReset => "traffic_after_reset",
            Signal::ResetBurst => "reset_burst",
            Signal::SeqExact => "seq_exact",
            Signal::SeqOff => "seq_off",
            Signal::NotForwarded => "not_forwarded",
            Signal::DeviceSignature => "device_signature",
            Signal::ResetText => "reset_text",
            Signal::MptcpReset => "mptcp_reset",
            Signal::IdleGap => "idle_gap",
            Signal::AnswersSyn => "answers_syn",
            Signal::KernelSent => "kernel_sent",
            Signal::KernelNoEvent => "kernel_no_event",
            Signal::KernelReceived => "kernel_received",
        })
    }
}

/// What one clue module saw.
pub(crate) struct Finding {
    signal: Signal,
    /// The weighed observation; None for context that does not vote.
    clue: Option<Clue>,
    detail: String,
}

impl Finding {
    fn new(signal: Signal, clue: Clue, detail: String) -> Finding {
        Finding {
            signal,
            clue: Some(clue),
            detail,
        }
    }

    fn neutral(signal: Signal, detail: String) -> Finding {
        Finding {
            signal,
            clue: None,
            detail,
        }
    }
}

/// One weighed piece of evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub signal: Signal,
    pub points_to: PointsTo,
    /// P(this | a device on the path sent the RST) / P(this | the peer did); 1 for context.
    pub ratio: f64,
    /// False when a stronger clue of the same group (the same header bytes) counted instead,
    /// or when the evidence is context that does not vote.
    pub counted: bool,
    pub detail: String,
    group: Option<Group>,
}

impl Evidence {
    fn of(finding: Finding) -> Evidence {
        let row = finding.clue.map(model::row);
        let ratio = row.map_or(1.0, |row| row.ratio);
        Evidence {
            signal: finding.signal,
            points_to: if ratio > 1.0 {
                PointsTo::Path
            } else if ratio < 1.0 {
                PointsTo::Peer
            } else {
                PointsTo::Neither
            },
            ratio,
            counted: row.is_some(),
            detail: finding.detail,
            group: row.map(|row| row.group),
        }
    }

    /// How far the evidence moves the odds, either way.
    pub fn strength(&self) -> f64 {
        self.ratio.ln().abs()
    }
}

/// The arithmetic behind a verdict, for users who want to follow it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reckoning {
    pub situation: Situation,
    /// P(a device sent it) before the evidence.
    pub prior: f64,
    /// P(a device sent it) after the counted evidence.
    pub posterior: f64,
}

/// The conclusion about one reset.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribution {
    pub verdict: Verdict,
    pub confidence: f64,
    pub scenario: Scenario,
    pub evidence: Vec<Evidence>,
    pub explanation: String,
    pub advice: Vec<String>,
    pub reckoning: Reckoning,
    /// For a device's reset, its distance in hops from the capture point when its TTL fixes
    /// it (0: at the capture point).
    pub device_hops: Option<u8>,
    /// The claimed sender's usual TTL the RST was compared with, when it had one.
    pub sender_ttl: Option<SenderTtl>,
    /// What the capturing host's kernel said of the RST (live capture with tracing).
    pub kernel: Option<Box<crate::kernel::KernelNote>>,
}

/// The claimed sender's usual TTL, and where it was learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderTtl {
    pub usual: u8,
    /// Learnt from the sender's other flows (this flow had no packet of it but RSTs).
    pub from_other_flows: bool,
    pub packets: u32,
}

/// Attributes every listed reset of a finished flow.
pub(crate) fn attribute(flow: &Flow, hosts: &HostBaselines) -> Vec<Attribution> {
    flow.resets
        .iter()
        .map(|reset| attribute_one(flow, reset, hosts))
        .collect()
}

fn attribute_one(flow: &Flow, reset: &Reset, hosts: &HostBaselines) -> Attribution {
    let ctx = Context::new(flow, reset, hosts);
    let findings = [
        Some(ttl::clue(&ctx)),
        link::clue(&ctx),
        link::forwarding(&ctx),
        timing::clue(&ctx),
        ip_id::clue(&ctx),
        ip_id::dont_fragment(&ctx),
        label::clue(&ctx),
        label::host_clue(&ctx),
        race::clue(&ctx),
        race::burst(&ctx),
        race::sequence(&ctx),
        signature::clue(&ctx),
    ];
    let mut evidence: Vec<Evidence> = findings.into_iter().flatten().map(Evidence::of).collect();
    count_strongest_per_group(&mut evidence);
    evidence.extend(context_evidence(&ctx).into_iter().map(Evidence::of));
    let prior = ctx.prior();
    let posterior = model::posterior(
        prior,
        evidence.iter().filter(|e| e.counted).map(|e| e.ratio),
    );
    let (verdict, scenario, confidence) = if posterior >= PATH_AT_LEAST {
        let story = kind::path_story(&ctx, &evidence);
        (story.verdict, story.scenario, posterior * story.certainty)
    } else if posterior <= PEER_AT_MOST {
        (Verdict::Peer, kind::peer_scenario(&ctx), 1.0 - posterior)
    } else {
        (Verdict::Unknown, Scenario::Unknown, 0.0)
    };
    // What moved the verdict first, so readers (and the table's "Why") see what decided it.
    evidence.sort_by(|a, b| {
        b.counted
            .cmp(&a.counted)
            .then(b.strength().total_cmp(&a.strength()))
    });
    let text = text::Text::new(&ctx, &evidence, posterior);
    Attribution {
        verdict,
        // Truncated, not rounded: a confidence is never shown higher than it is.
        confidence: (confidence.clamp(0.0, 0.99) * 100.0).floor() / 100.0,
        scenario,
        explanation: text.explanation(verdict, scenario),
        advice: text.advice(scenario),
        evidence,
        reckoning: Reckoning {
            situation: ctx.situation(),
            prior,
            posterior,
        },
        device_hops: matches!(verdict, Verdict::Firewall | Verdict::Middlebox)
            .then(|| ctx.device_hops())
            .flatten(),
        sender_ttl: ctx.baseline().and_then(|b| {
            b.ttl.usual().map(|usual| SenderTtl {
                usual,
                from_other_flows: !b.in_flow,
                packets: b.packets,
            })
        }),
        kernel: None,
    }
}

/// Within each group only the strongest clue counts: they read the same bytes.
fn count_strongest_per_group(evidence: &mut [Evidence]) {
    for i in 0..evidence.len() {
        let Some(group) = evidence[i].group else {
            continue;
        };
        let stronger = evidence.iter().enumerate().any(|(j, other)| {
            other.group == Some(group)
                && (other.strength() > evidence[i].strength()
                    || (other.strength() == evidence[i].strength() && j < i))
        });
        if stronger {
            evidence[i].counted = false;
        }
    }
}

/// Context worth listing with the evidence, though it does not vote on who sent the RST.
fn context_evidence(ctx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    if ctx.situation() == Situation::AnswersSyn {
        out.push(Finding::neutral(
            Signal::AnswersSyn,
            "the RST answered a connection attempt (SYN)".to_string(),
        ));
    }
    if let Some(gap) = ctx.silence().filter(|_| ctx.is_idle()) {
        out.push(Finding::neutral(
            Signal::IdleGap,
            format!("the connection had been silent for {gap} before the segment the RST answers"),
        ));
    }
    out
}
