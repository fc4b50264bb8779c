//! From evidence to a story: which scenario fits the context of a reset, and the plain
//! sentences (explanation, advice) a support engineer can paste into a ticket.

use crate::flow::Side;
use crate::time::Span;

use super::devices;
use super::signals::{Context, initial_ttl};
use super::{Evidence, PointsTo, Scenario, Signal, Verdict};

/// Silence shorter than this before the segment a RST answers is not an idle period.
const IDLE_AT_LEAST: Span = Span(2_000_000_000);

/// The context facts that pick a scenario.
pub(super) struct Facts {
    sender: Side,
    answers_syn: bool,
    silence: Option<Span>,
    idle: bool,
    data_after: bool,
    no_socket_shape: bool,
    both_closed_before: bool,
    data_before: bool,
    earlier_resets: u32,
}

impl Facts {
    pub fn of(ctx: &Context<'_>) -> Facts {
        let reset = ctx.reset;
        let rst = &reset.segment;
        let trigger = reset.trigger.as_ref();
        let answers_syn = trigger.is_some_and(|t| t.flags.syn() && !t.flags.ack());
        let silence = reset.silence_before_trigger;
        let round_trip = ctx.round_trip_to_sender();
        let idle = silence.is_some_and(|gap| {
            gap >= IDLE_AT_LEAST && round_trip.is_none_or(|rtt| gap.0 >= rtt.0.saturating_mul(50))
        });
        Facts {
            sender: ctx.sender,
            answers_syn,
            silence,
            idle,
            data_after: reset.after.sender_data_segments > 0,
            no_socket_shape: rst.ack.is_none() && trigger.is_some_and(|t| t.ack == Some(rst.seq)),
            both_closed_before: reset.before.client_fin && reset.before.server_fin,
            data_before: reset.before.payload,
            earlier_resets: reset.earlier_resets_from_sender,
        }
    }

    /// Context worth listing with the evidence, though it does not vote on who sent the RST.
    pub fn context_evidence(&self) -> Vec<Evidence> {
        let mut out = Vec::new();
        if self.answers_syn {
            out.push(Evidence::neutral(
                Signal::AnswersSyn,
                "the RST answered a connection attempt (SYN)".to_string(),
            ));
        }
        if let Some(gap) = self.silence.filter(|_| self.idle) {
            out.push(Evidence::neutral(
                Signal::IdleGap,
                format!(
                    "the connection had been silent for {gap} before the segment the RST answers"
                ),
            ));
        }
        out
    }

    /// Which kind of device, and what it did, when the path sent the reset.
    pub fn not_peer(&self) -> (Verdict, Scenario) {
        if self.answers_syn {
            (Verdict::Firewall, Scenario::FirewallReject)
        } else if self.idle {
            (Verdict::Firewall, Scenario::IdleTimeout)
        } else if self.data_after {
            (Verdict::Middlebox, Scenario::InjectedReset)
        } else {
            (Verdict::Middlebox, Scenario::InPathReject)
        }
    }

    /// What the host did, when the host sent the reset.
    pub fn peer(&self) -> Scenario {
        if self.answers_syn {
            Scenario::Refused
        } else if self.both_closed_before {
            Scenario::ResetAfterClose
        } else if self.earlier_resets > 0 {
            Scenario::NoSocket
        } else if !self.data_before && self.sender == Side::Client {
            Scenario::HealthCheck
        } else if self.no_socket_shape {
            if self.sender == Side::Server && self.data_before {
                Scenario::StaleConnection
            } else {
                Scenario::NoSocket
            }
        } else if self.sender == Side::Server {
            Scenario::PeerAbort
        } else {
            Scenario::LocalAbort
        }
    }
}

/// The numbers the sentences quote.
pub(super) struct Text {
    sender: &'static str,
    address: String,
    port: u16,
    frame: u64,
    distance: String,
    silence: Option<Span>,
    reasons: Vec<String>,
}

impl Text {
    pub fn new(ctx: &Context<'_>, facts: &Facts, evidence: &[Evidence]) -> Text {
        let rst = &ctx.reset.segment;
        let hops = initial_ttl(rst.ttl) - rst.ttl;
        let distance = match hops {
            0 => "right next to the capture point (its RST arrived with an untouched TTL)"
                .to_string(),
            1 => "1 hop from the capture point".to_string(),
            n => format!("{n} hops from the capture point"),
        };
        let mut ranked: Vec<&Evidence> = evidence
            .iter()
            .filter(|e| e.points_to != PointsTo::Neither)
            .collect();
        ranked.sort_by_key(|e| -e.weight.abs());
        Text {
            sender: ctx.sender_name(),
            address: ctx.reset.segment.src.to_string(),
            port: ctx.reset.segment.src.port(),
            frame: rst.at.frame,
            distance,
            silence: facts.silence.filter(|_| facts.idle),
            reasons: ranked.iter().take(2).map(|e| e.detail.clone()).collect(),
        }
    }

    fn evidence_sentence(&self) -> String {
        if self.reasons.is_empty() {
            String::new()
        } else {
            let mut text = self.reasons.join("; ");
            if let Some(first) = text.get(..1) {
                text = first.to_uppercase() + text.get(1..).unwrap_or("");
            }
            format!(" {text}.")
        }
    }

    /// One or two sentences with the numbers.
    pub fn explanation(&self, verdict: Verdict, scenario: Scenario) -> String {
        let (who, addr) = (self.sender, &self.address);
        let headline = match scenario {
            Scenario::Refused => format!(
                "The {who} {addr} refused the connection: nothing accepted connections on port {} (or the host's own firewall refused them).",
                self.port
            ),
            Scenario::FirewallReject => format!(
                "A firewall {} rejected the connection attempt in the {who}'s name; the {who} itself never answered.",
                self.distance
            ),
            Scenario::PeerAbort => format!(
                "The server application at {addr} aborted the connection (closed it with unread data or SO_LINGER 0, or crashed)."
            ),
            Scenario::LocalAbort => {
                format!("The client application at {addr} aborted its own connection.")
            }
            Scenario::StaleConnection => format!(
                "The server {addr} no longer knew this connection (restart, failover or lost state) and answered with a reset."
            ),
            Scenario::IdleTimeout => format!(
                "A stateful device {} forgot this connection after {} of silence and reset it in the {who}'s name when traffic resumed.",
                self.distance,
                self.silence
                    .map_or_else(|| "a period".to_string(), |s| s.to_string())
            ),
            Scenario::InPathReject => format!(
                "A device in the path {} (an IPS, WAF or proxy) rejected the traffic in the {who}'s name; the {who} did not reset the connection.",
                self.distance
            ),
            // An injector picks its own TTL, so no distance is claimed from it.
            Scenario::InjectedReset => format!(
                "A forged reset raced the real traffic: a device beside the path injected it in the {who}'s name while the real {who} kept sending."
            ),
            Scenario::HealthCheck => format!(
                "The client {addr} opened the connection and reset it without sending data: a health check or port probe."
            ),
            Scenario::ResetAfterClose => {
                "Both sides had already closed with FIN; this reset only tore down what was left."
                    .to_string()
            }
            Scenario::NoSocket => format!(
                "The {who} {addr} no longer had this connection and answered a late segment with a reset."
            ),
            Scenario::Unknown => format!(
                "The capture does not show clearly whether the {who} {addr} or a device on the path sent this reset."
            ),
        };
        let _ = verdict;
        headline + &self.evidence_sentence()
    }

    /// Concrete next steps.
    pub fn advice(&self, verdict: Verdict, scenario: Scenario) -> Vec<String> {
        let (who, addr, frame) = (self.sender, &self.address, self.frame);
        let _ = verdict;
        match scenario {
            Scenario::Refused => vec![
                format!("Check that the service runs and listens on {addr} (`ss -ltn` on the server)."),
                format!("If it should be reachable, check the server host's own firewall for port {}.", self.port),
            ],
            Scenario::FirewallReject => vec![
                format!(
                    "Check the rules of the firewall {} for traffic to {addr}: it rejects it with a TCP reset (nftables/iptables `reject with tcp reset`, an ACL).",
                    self.distance
                ),
                format!("The {who} never saw the attempt: its logs will not show it."),
            ],
            Scenario::PeerAbort => vec![
                format!("Look in the server application's logs around frame {frame} for an error, crash or forced close."),
                "Make the server read the whole request before closing (closing with unread data makes Linux send RST instead of FIN), and retry idempotent requests on ECONNRESET.".to_string(),
            ],
            Scenario::LocalAbort => vec![format!(
                "The client application reset its own connection (SO_LINGER 0, or close with unread data) at frame {frame}: check why it closed."
            )],
            Scenario::StaleConnection => vec![
                format!("Check the server {addr} for a restart or failover before frame {frame}."),
                "Reconnect and retry on ECONNRESET, and validate or evict pooled connections that sat idle.".to_string(),
            ],
            Scenario::IdleTimeout => self.idle_advice(),
            Scenario::InPathReject => vec![
                format!(
                    "Check the logs of IPS, WAF or proxy devices {} for a block at frame {frame}; the request never reached the {who}.",
                    self.distance
                ),
                format!("If the block is wrong, ask for an exception for {addr}."),
            ],
            Scenario::InjectedReset => vec![
                format!("The real {who} kept sending after the reset: it was forged by a device beside the path (content filtering, censorship or an IDS)."),
                "Encrypt the traffic (TLS, a VPN) so content-based injection cannot trigger, and report the path to the network's operator.".to_string(),
            ],
            Scenario::HealthCheck => vec!["No action needed if the client is a load balancer or monitoring probe.".to_string()],
            Scenario::ResetAfterClose => vec!["No action needed.".to_string()],
            Scenario::NoSocket => vec!["Harmless by itself: look at the first reset of this flow, which ended the connection.".to_string()],
            Scenario::Unknown => vec![format!(
                "Capture at the {who}'s end too and compare the two views of frame {frame}: a RST the {who} never sent was forged on the path."
            )],
        }
    }

    fn idle_advice(&self) -> Vec<String> {
        let silence_s = self.silence.map_or(0.0, |s| s.as_secs_f64());
        let matched = devices::expired_by(silence_s);
        let limit = matched
            .first()
            .map_or(silence_s, |d| f64::from(d.idle_timeout_s))
            .floor()
            .max(1.0);
        let limit = limit as u64;
        let mut advice = vec![
            format!(
                "Send TCP keepalives more often than every {limit} s: SO_KEEPALIVE with TCP_KEEPIDLE below {limit} s (the Linux default of 7200 s is far too long; Java 11+: ExtendedSocketOptions.TCP_KEEPIDLE; Node: socket.setKeepAlive(true, ms))."
            ),
            format!(
                "Evict pooled connections idle for more than {limit} s (OkHttp: ConnectionPool(maxIdle, {limit}, SECONDS); Apache HttpClient: evictIdleConnections), or validate them before reuse."
            ),
        ];
        advice.push(match matched.first() {
            Some(device) => format!(
                "The silence exceeded the {} s default idle timeout of {}: check that device, {}.",
                device.idle_timeout_s, device.name, self.distance
            ),
            None => format!(
                "The silence was shorter than every common device default (the shortest, {} s): the device {} has a short configured idle timeout; check it.",
                devices::DEVICES.first().map_or(240, |d| d.idle_timeout_s),
                self.distance
            ),
        });
        advice
    }
}
