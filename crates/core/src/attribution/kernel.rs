//! A reset the capturing host's kernel spoke about: its word replaces the guess. A RST it says
//! its stack sent is the peer's (this host's) for certain, named after the kernel's reason; one
//! carrying this host's address that its stack did not send came from the host's own firewall
//! or a raw socket (still this host: the schema's `peer`); a RST that reset a local socket is
//! noted beside whatever the capture made of it.

use super::{Attribution, Evidence, PointsTo, Scenario, Signal, Situation, Verdict, model};
use crate::flow::{Flow, Reset, Side};
use crate::kernel::{KernelNote, KernelScenario, SentNote};

/// The likelihood ratio of the kernel's event: it saw its stack send this RST, so only a
/// device copying the 4-tuple to the microsecond could make the match wrong.
const KERNEL_SENT_RATIO: f64 = 1e-3;
/// No event for a RST with this host's address, tracing lossless: not a device on the path
/// (the address is this host's, the capture is on this host), not the TCP stack either.
const NO_EVENT_RATIO: f64 = 1e-3;

/// Rewrites `attribution` with what the kernel said of `reset`.
pub fn apply_kernel(attribution: &mut Attribution, flow: &Flow, reset: &Reset, note: KernelNote) {
    let port = reset.segment.src.port();
    let at_ns = reset.segment.at.ts.0;
    if let Some(sent) = &note.sent {
        let scenario = sent_scenario(sent, attribution.reckoning.situation);
        let detail = format!(
            "the kernel's tcp_send_reset fired {} {} the packet was captured{}{}",
            micros(sent.delay_us.abs()),
            if sent.delay_us >= 0 {
                "before"
            } else {
                "after"
            },
            sent.reason
                .as_deref()
                .map_or_else(String::new, |r| format!(", reason {r}")),
            sent.state
                .as_deref()
                .map_or_else(|| ", no socket".to_string(), |s| format!(", socket {s}"))
        );
        decide(
            attribution,
            scenario,
            KERNEL_SENT_RATIO,
            Signal::KernelSent,
            detail,
        );
        attribution.explanation = sent_explanation(sent, scenario, port, at_ns);
        attribution.advice = vec![sent_advice(scenario, port)];
    } else if note.not_sent_by_stack {
        decide(
            attribution,
            Scenario::HostFirewall,
            NO_EVENT_RATIO,
            Signal::KernelNoEvent,
            "the RST left with this host's address, and its TCP stack fired no tcp_send_reset while tracing lost nothing".to_string(),
        );
        attribution.explanation = "This host's own address sent the reset, but its TCP stack did not (no tcp_send_reset event while tracing lost nothing): this host's firewall (an nftables or iptables `reject with tcp reset` rule) or a program with a raw socket made it.".to_string();
        attribution.advice = vec![
            "Look for a reject rule on this host: `nft list ruleset | grep -i reset`, `iptables-save | grep -i tcp-reset`; and for programs with raw sockets: `ss -wp`.".to_string(),
        ];
    }
    if let Some(received) = &note.received {
        let side = match flow.side_of(reset.dst) {
            Side::Client => "the client's",
            Side::Server => "the server's",
        };
        attribution.evidence.push(Evidence {
            signal: Signal::KernelReceived,
            points_to: PointsTo::Neither,
            ratio: 1.0,
            counted: false,
            detail: format!(
                "it reset this host's socket {} ({side} end){}{}{}",
                reset.dst,
                received
                    .state
                    .as_deref()
                    .map_or_else(String::new, |s| format!(", which was in {s}")),
                received
                    .socket_cookie
                    .map_or_else(String::new, |c| format!(", socket cookie {c}")),
                received
                    .owner
                    .as_ref()
                    .map_or_else(String::new, |owner| format!(
                        ", owned by {owner} (as of {})",
                        before(owner.as_of_ns, at_ns)
                    )),
            ),
            group: None,
        });
    }
    attribution.kernel = Some(Box::new(note));
}

/// The scenario of a RST the kernel sent: NO_SOCKET is a refusal when it answered a SYN.
fn sent_scenario(sent: &SentNote, situation: Situation) -> Scenario {
    match sent.reason.as_deref() {
        Some("NO_SOCKET") if situation == Situation::AnswersSyn => Scenario::Refused,
        Some("NO_SOCKET") => Scenario::NoSocket,
        Some(reason) => Scenario::Kernel(KernelScenario::of_reason(reason)),
        None => Scenario::Kernel(KernelScenario::Other),
    }
}

fn sent_explanation(sent: &SentNote, scenario: Scenario, port: u16, at_ns: i64) -> String {
    let reason = sent.reason.as_deref().unwrap_or("no reason on this kernel");
    match (scenario, &sent.process) {
        (Scenario::Refused, _) => format!(
            "This host's kernel refused the connection: no socket listened on port {port} ({reason})."
        ),
        (Scenario::NoSocket, _) => format!(
            "This host's kernel had no socket for this connection (closed, timed out or never there) and answered a segment of it with a reset ({reason})."
        ),
        (Scenario::Kernel(KernelScenario::AbortOnClose), Some(process)) => {
            format!("{process} closed the socket with received data it had not read: {reason}.")
        }
        (Scenario::Kernel(KernelScenario::AbortiveClose), Some(process)) => format!(
            "{process} aborted the connection (close() with SO_LINGER {{1, 0}}, or an abortive shutdown): {reason}."
        ),
        (Scenario::Kernel(kind), process) => {
            let by = match (process, &sent.owner) {
                (Some(p), _) => format!(", in a system call of {p}"),
                (None, Some(owner)) => format!(
                    ", on a socket of {owner} (as of {})",
                    before(owner.as_of_ns, at_ns)
                ),
                (None, None) => String::new(),
            };
            format!(
                "This host's kernel sent the reset because {}{by}: {reason}.",
                kind.meaning()
            )
        }
        _ => format!("This host's kernel sent the reset: {reason}."),
    }
}

fn sent_advice(scenario: Scenario, port: u16) -> String {
    match scenario {
        Scenario::Refused => format!(
            "Start the service on port {port} (or point the client at the port it listens on); `ss -ltnp` lists what listens."
        ),
        Scenario::NoSocket => "Harmless by itself: the connection had already ended on this host; look at what ended it first.".to_string(),
        Scenario::Kernel(kind) => kind.advice().to_string(),
        _ => String::new(),
    }
}

/// Makes the kernel's clue the deciding one: the other evidence stays listed, not counted.
fn decide(
    attribution: &mut Attribution,
    scenario: Scenario,
    ratio: f64,
    signal: Signal,
    detail: String,
) {
    for evidence in &mut attribution.evidence {
        evidence.counted = false;
    }
    attribution.evidence.insert(
        0,
        Evidence {
            signal,
            points_to: PointsTo::Peer,
            ratio,
            counted: true,
            detail,
            group: None,
        },
    );
    let posterior = model::posterior(attribution.reckoning.prior, [ratio]);
    attribution.reckoning.posterior = posterior;
    attribution.verdict = Verdict::Peer;
    attribution.scenario = scenario;
    attribution.confidence = ((1.0 - posterior).clamp(0.0, 0.99) * 100.0).floor() / 100.0;
    attribution.device_hops = None;
}

fn micros(us: i64) -> String {
    if us.abs() >= 1000 {
        format!("{:.1} ms", us as f64 / 1000.0)
    } else {
        format!("{us} µs")
    }
}

/// How long before the RST a snapshot was taken, in words.
fn before(as_of_ns: i64, at_ns: i64) -> String {
    let secs = (at_ns - as_of_ns) as f64 / 1e9;
    if secs >= 0.0 {
        format!("the socket snapshot {secs:.1} s before the reset")
    } else {
        format!("the socket snapshot {:.1} s after the reset", -secs)
    }
}
