//! Each reset judged from two points: a RST seen at the point its claimed sender's packets
//! pass first left that sender; one that only the far point saw, while the near point was
//! capturing the flow, was made between the points. Where the near point did not cover the
//! flow at the time, the one-capture verdict stands and says so.

use crate::report::{EvidenceReport, ResetReport};

/// Where the claimed sender's packets are seen first, and whether that point covered the
/// flow when the reset passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Coverage {
    /// The RST was seen at the point nearer its claimed sender.
    SeenNearSender,
    /// The nearer point was capturing the flow then and did not see it.
    MissedNearSender,
    /// The nearer point did not cover the flow at the time (or which point is nearer is not
    /// known): nothing certain.
    NotCovered,
    /// The nearer point missed this many of the sender's packets that the far point saw
    /// (drops, a filter), so its silence about the RST proves nothing.
    NearMissedPackets(u32),
    /// The nearer point saw nothing of the sender from then on: the path may have moved to
    /// another host with its address (a failover), which two points cannot tell from a
    /// device between them.
    NearOffPath,
    /// The nearer capture had more packets than the comparison keeps: not finding the RST
    /// among the kept ones proves nothing.
    NearBeyondBounds,
}

/// What a judgement needs to say where things were seen, in words.
pub(super) struct Sighted<'a> {
    pub coverage: Coverage,
    /// The input nearer the claimed sender, and the names of both inputs.
    pub near_input: Option<usize>,
    pub names: [&'a str; 2],
    /// Frames of this RST at each input.
    pub frames: [Option<u64>; 2],
}

/// Replaces a one-capture judgement with the two-capture one (or says why it stands).
pub(super) fn judge(reset: &mut ResetReport, sighted: &Sighted<'_>) {
    let sender = reset.from;
    let at = |input: usize| match sighted.frames[input] {
        Some(frame) => format!("{} (frame {frame})", sighted.names[input]),
        None => sighted.names[input].to_string(),
    };
    match (sighted.coverage, sighted.near_input) {
        (Coverage::SeenNearSender, Some(near)) => {
            let detail = format!(
                "seen at {}, the capture point nearer the {sender}, on its way out: the {sender} sent it",
                at(near)
            );
            decide(
                reset,
                "peer",
                peer_scenario(reset),
                1e-3,
                "seen_leaving_sender",
                &detail,
            );
            reset.explanation = format!(
                "Seen leaving the {sender}: the same RST is in {} and in {}, and {} sees the {sender}'s packets first. {}",
                at(0),
                at(1),
                sighted.names[near],
                reset.explanation
            );
        }
        (Coverage::MissedNearSender, Some(near)) => {
            let far = 1 - near;
            let detail = format!(
                "{} never saw it, though it saw the {sender}'s packets of this flow first and was capturing then; it reached {}",
                sighted.names[near],
                at(far)
            );
            let (verdict, scenario) = device_kind(reset);
            decide(reset, verdict, scenario, 1e3, "never_left_sender", &detail);
            reset.explanation = format!(
                "Never left the {sender}: it reached {} but not {}, which sees the {sender}'s packets first and was capturing the flow then, so a device between the two capture points made it. {}",
                at(far),
                sighted.names[near],
                reset.explanation
            );
        }
        (Coverage::NearMissedPackets(missed), Some(near)) => {
            let why = format!(
                "{} missed {missed} of the {sender}'s packets of this flow that the other capture saw (drops or a filter), so its silence about this RST proves nothing",
                sighted.names[near]
            );
            one_capture(reset, "near_capture_incomplete", &why);
        }
        (Coverage::NearOffPath, Some(near)) => {
            let why = format!(
                "{} saw nothing more of the {sender} from the time this RST would have passed it: the path may have moved to another host with the {sender}'s address (a failover), which two capture points cannot tell from a device between them",
                sighted.names[near]
            );
            one_capture(reset, "near_capture_off_path", &why);
        }
        (Coverage::NearBeyondBounds, Some(near)) => {
            let why = format!(
                "{} holds more packets than the comparison matches, and this RST may be among those it did not",
                sighted.names[near]
            );
            one_capture(reset, "near_capture_incomplete", &why);
        }
        _ => one_capture(
            reset,
            "not_covered",
            "the other capture did not cover this flow at the time (or which capture is nearer the sender is not known)",
        ),
    }
}

/// Keeps the one-capture verdict, saying why the other capture could not settle it.
fn one_capture(reset: &mut ResetReport, signal: &str, why: &str) {
    reset.evidence.insert(
        0,
        EvidenceReport {
            signal: signal.to_string(),
            points_to: "neither",
            detail: format!("{why}: this is the one-capture verdict"),
            ratio: 1.0,
            counted: false,
        },
    );
    reset.explanation = format!(
        "Only one capture could judge this reset: {why}. {}",
        reset.explanation
    );
}

/// Sets the verdict from the two-capture clue `signal` (likelihood ratio `ratio` for the
/// path), which outweighs every one-capture clue: those stay listed, not counted.
fn decide(
    reset: &mut ResetReport,
    verdict: &'static str,
    scenario: &'static str,
    ratio: f64,
    signal: &str,
    detail: &str,
) {
    for evidence in &mut reset.evidence {
        evidence.counted = false;
    }
    let points_to = if ratio < 1.0 { "peer" } else { "path" };
    reset.evidence.insert(
        0,
        EvidenceReport {
            signal: signal.to_string(),
            points_to,
            detail: detail.to_string(),
            ratio,
            counted: true,
        },
    );
    let prior = reset.reckoning.prior_path.clamp(1e-6, 1.0 - 1e-6);
    let odds = prior / (1.0 - prior) * ratio;
    let posterior = odds / (1.0 + odds);
    reset.reckoning.posterior_path = round3(posterior);
    reset.confidence = round3(if verdict == "peer" {
        1.0 - posterior
    } else {
        posterior
    });
    reset.verdict = verdict;
    reset.scenario = scenario;
    if verdict == "peer" {
        reset.device_hops = None;
    }
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// The scenario of a reset its claimed sender made: the one-capture one when it named the
/// sender too, else what the reset answered.
fn peer_scenario(reset: &ResetReport) -> &'static str {
    if reset.verdict == "peer" {
        return reset.scenario;
    }
    match (reset.reckoning.situation, reset.from) {
        ("answers_syn", _) => "refused",
        ("after_close", _) => "reset_after_close",
        (_, "client") => "local_abort",
        _ => "peer_abort",
    }
}

/// Which kind of device made a reset its claimed sender never sent: the one-capture verdict
/// when it named a device; else a firewall for a refused attempt or after a long silence (a
/// stateful filter's answer), an in-path device otherwise.
fn device_kind(reset: &ResetReport) -> (&'static str, &'static str) {
    if matches!(reset.verdict, "firewall" | "middlebox") {
        return (reset.verdict, reset.scenario);
    }
    if reset.reckoning.situation == "answers_syn" {
        return ("firewall", "firewall_reject");
    }
    if reset
        .silence_before_s
        .is_some_and(|secs| secs >= IDLE_SILENCE_S)
    {
        return ("firewall", "idle_timeout");
    }
    ("middlebox", "in_path_reject")
}

/// A silence this long before a reset its sender never sent reads as a device's idle
/// timeout: longer than any round trip or application think time a connection in use
/// shows, far shorter than any device's idle timeout (minutes to hours).
const IDLE_SILENCE_S: f64 = 5.0;
