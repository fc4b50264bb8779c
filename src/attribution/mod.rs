//! Who really sent each reset, why, and what to do about it.
//!
//! [`attribute`] is a pure function of a finished flow and the capture-wide host baselines:
//! every signal in `signals` votes (positive for the path, negative for the peer), the sum
//! decides the verdict and its confidence, and `scenario` names what happened and writes the
//! explanation and advice. No I/O, no state.
//!
//! Confidence is an estimate of the probability that the verdict is right. It grows with the
//! weight of agreeing evidence: one strong signal alone gives about 0.7, two independent
//! strong signals 0.85 or more. `unknown` carries confidence 0: the evidence did not lean far
//! enough either way, and rstscope prefers saying so to guessing.

mod devices;
mod hosts;
mod scenario;
mod signals;

use std::fmt;

pub use hosts::HostBaselines;
pub use signals::{hops, initial_ttl};

use crate::flow::{Flow, Reset, Side};
use signals::Context;

/// Votes at or above this say the path sent the reset.
const PATH_THRESHOLD: i32 = 3;
/// Votes at or below this say the peer did.
const PEER_THRESHOLD: i32 = -1;

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
    /// A device in the path (IPS, WAF, proxy) rejected the traffic mid-stream.
    InPathReject,
    /// Forged resets raced the real traffic (an out-of-band injector).
    InjectedReset,
    /// A connection opened and reset without data: a health check or port probe.
    HealthCheck,
    /// A reset after both sides had closed with FIN: harmless.
    ResetAfterClose,
    /// A host answered segments of a connection it no longer had.
    NoSocket,
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
            Scenario::InPathReject => "in_path_reject",
            Scenario::InjectedReset => "injected_reset",
            Scenario::HealthCheck => "health_check",
            Scenario::ResetAfterClose => "reset_after_close",
            Scenario::NoSocket => "no_socket",
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

/// The signals rstscope weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    TtlMatch,
    TtlMismatch,
    TtlBaseline,
    CaptureHost,
    OffLink,
    TooFast,
    TimingConsistent,
    IpIdContinues,
    IpIdJump,
    IpIdZero,
    DfMismatch,
    DataAfterReset,
    TrafficAfterReset,
    ResetBurst,
    SeqExact,
    SeqOff,
    IdleGap,
    AnswersSyn,
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Signal::TtlMatch => "ttl_match",
            Signal::TtlMismatch => "ttl_mismatch",
            Signal::TtlBaseline => "ttl_no_baseline",
            Signal::CaptureHost => "capture_host",
            Signal::OffLink => "off_link_untouched_ttl",
            Signal::TooFast => "too_fast",
            Signal::TimingConsistent => "timing_consistent",
            Signal::IpIdContinues => "ip_id_continues",
            Signal::IpIdJump => "ip_id_jump",
            Signal::IpIdZero => "ip_id_zero",
            Signal::DfMismatch => "df_mismatch",
            Signal::DataAfterReset => "data_after_reset",
            Signal::TrafficAfterReset => "traffic_after_reset",
            Signal::ResetBurst => "reset_burst",
            Signal::SeqExact => "seq_exact",
            Signal::SeqOff => "seq_off",
            Signal::IdleGap => "idle_gap",
            Signal::AnswersSyn => "answers_syn",
        })
    }
}

/// One weighed piece of evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub signal: Signal,
    pub points_to: PointsTo,
    /// The vote: positive for the path, negative for the peer, 0 for context.
    pub weight: i32,
    pub detail: String,
}

impl Evidence {
    fn path(signal: Signal, weight: i32, detail: String) -> Evidence {
        Evidence {
            signal,
            points_to: PointsTo::Path,
            weight,
            detail,
        }
    }
    fn peer(signal: Signal, weight: i32, detail: String) -> Evidence {
        Evidence {
            signal,
            points_to: PointsTo::Peer,
            weight: -weight,
            detail,
        }
    }
    fn neutral(signal: Signal, detail: String) -> Evidence {
        Evidence {
            signal,
            points_to: PointsTo::Neither,
            weight: 0,
            detail,
        }
    }
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
}

/// Attributes every listed reset of a finished flow.
pub fn attribute(flow: &Flow, hosts: &HostBaselines) -> Vec<Attribution> {
    flow.resets
        .iter()
        .map(|reset| attribute_one(flow, reset, hosts))
        .collect()
}

fn attribute_one(flow: &Flow, reset: &Reset, hosts: &HostBaselines) -> Attribution {
    let sender = flow.side_of(reset.segment.src);
    let sender_side = match sender {
        Side::Client => &flow.client_side,
        Side::Server => &flow.server_side,
    };
    let ctx = Context {
        flow,
        reset,
        hosts,
        sender,
        sender_side,
    };
    let mut evidence = vec![signals::ttl(&ctx)];
    evidence.extend(
        [
            signals::capture_host(&ctx),
            signals::off_link(&ctx),
            signals::timing(&ctx),
            signals::ip_id(&ctx),
            signals::dont_fragment(&ctx),
            signals::race(&ctx),
            signals::burst(&ctx),
            signals::sequence(&ctx),
        ]
        .into_iter()
        .flatten(),
    );
    let votes: i32 = evidence.iter().map(|e| e.weight).sum();
    let facts = scenario::Facts::of(&ctx);
    evidence.extend(facts.context_evidence());
    let (verdict, scenario) = if votes >= PATH_THRESHOLD {
        facts.not_peer()
    } else if votes <= PEER_THRESHOLD {
        (Verdict::Peer, facts.peer())
    } else {
        (Verdict::Unknown, Scenario::Unknown)
    };
    let confidence = confidence(verdict, votes);
    // Strongest evidence first, so readers (and the table's "Why") see what decided it.
    evidence.sort_by_key(|e| -e.weight.abs());
    let text = scenario::Text::new(&ctx, &facts, &evidence);
    Attribution {
        verdict,
        confidence,
        scenario,
        explanation: text.explanation(verdict, scenario),
        advice: text.advice(verdict, scenario),
        evidence,
    }
}

/// Confidence from the weight of the votes (see the module documentation).
fn confidence(verdict: Verdict, votes: i32) -> f64 {
    let value = match verdict {
        Verdict::Unknown => 0.0,
        Verdict::Peer => 0.55 + 0.1 * f64::from(-votes),
        _ => 0.5 + 0.07 * f64::from(votes),
    };
    (value.clamp(0.0, 0.98) * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests;
