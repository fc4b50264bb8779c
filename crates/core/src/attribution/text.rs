//! The sentences a support engineer pastes into a ticket: what happened (with the numbers),
//! and what to do. They state only what the capture can show: a device's distance only when
//! its TTL fixes it, an idle timeout only as the silence it fits within.

use crate::time::Span;

use super::context::Context;
use super::devices;
use super::{Evidence, PointsTo, Scenario, Signal, Verdict};

/// The numbers the sentences quote.
pub(super) struct Text {
    sender: &'static str,
    address: String,
    port: u16,
    frame: u64,
    /// "1 hop from the capture point", or "at a distance the capture cannot tell".
    distance: String,
    silence: Option<Span>,
    alone: bool,
    /// A device that named itself in the RST (an F5 BIG-IP's reset cause), counted.
    named_device: Option<String>,
    /// The counted evidence, strongest first, with the way it points.
    reasons: Vec<(PointsTo, String)>,
    /// What evidence was missing, for `unknown`.
    missing: Vec<&'static str>,
    posterior: f64,
}

impl Text {
    pub(super) fn new(ctx: &Context<'_>, evidence: &[Evidence], posterior: f64) -> Text {
        let distance = match ctx.device_hops() {
            Some(0) => "at the capture point (its RST arrived with an untouched TTL)".to_string(),
            Some(1) => "1 hop from the capture point".to_string(),
            Some(n) => format!("{n} hops from the capture point"),
            None => "at a distance the capture cannot tell".to_string(),
        };
        let mut ranked: Vec<&Evidence> = evidence
            .iter()
            .filter(|e| e.points_to != PointsTo::Neither && e.counted)
            .collect();
        ranked.sort_by(|a, b| b.strength().total_cmp(&a.strength()));
        let has = |signal: Signal| evidence.iter().any(|e| e.signal == signal);
        let mut missing = Vec::new();
        if has(Signal::TtlBaseline) {
            missing.push("no other packet of the claimed sender to compare the RST's TTL with");
        }
        if has(Signal::TtlUnreliable) {
            missing.push("no usual TTL for the claimed sender");
        }
        if !has(Signal::TooFast) && !has(Signal::TimingConsistent) {
            missing.push("no round trip to compare the RST's timing with");
        }
        if ctx.reset.segment.ip_id.is_none() {
            missing.push("no IP ID (IPv6)");
        }
        Text {
            sender: ctx.sender_name(),
            address: ctx.reset.segment.src.to_string(),
            port: ctx.reset.segment.src.port(),
            frame: ctx.reset.segment.at.frame,
            distance,
            silence: ctx.silence().filter(|_| ctx.is_idle()),
            alone: ctx.is_alone(),
            named_device: evidence
                .iter()
                .find(|e| e.signal == Signal::DeviceSignature && e.counted)
                .map(|e| e.detail.clone()),
            reasons: ranked
                .iter()
                .map(|e| (e.points_to, e.detail.clone()))
                .collect(),
            missing,
            posterior,
        }
    }

    /// The two strongest reasons for the verdict (for `unknown`, the strongest each way).
    fn evidence_sentence(&self, verdict: Verdict) -> String {
        let named = self.named_device.as_deref();
        let toward = move |way: PointsTo| {
            self.reasons
                .iter()
                .filter(move |r| r.0 == way && Some(r.1.as_str()) != named)
        };
        let chosen: Vec<&str> = match verdict {
            Verdict::Peer => toward(PointsTo::Peer).take(2).collect::<Vec<_>>(),
            Verdict::Firewall | Verdict::Middlebox => toward(PointsTo::Path).take(2).collect(),
            Verdict::Unknown => toward(PointsTo::Path)
                .take(1)
                .chain(toward(PointsTo::Peer).take(1))
                .collect(),
        }
        .into_iter()
        .map(|r| r.1.as_str())
        .collect();
        if chosen.is_empty() {
            String::new()
        } else {
            let mut text = chosen.join("; ");
            if let Some(first) = text.get(..1) {
                text = first.to_uppercase() + text.get(1..).unwrap_or("");
            }
            format!(" {text}.")
        }
    }

    /// One or two sentences with the numbers.
    pub(super) fn explanation(&self, verdict: Verdict, scenario: Scenario) -> String {
        let (who, addr) = (self.sender, &self.address);
        let distance = &self.distance;
        let headline = match scenario {
            Scenario::Refused if self.alone => format!(
                "The {who} {addr} refused a connection attempt the capture did not hold (the RST's shape, seq 0 with an ACK, is a refusal's)."
            ),
            Scenario::Refused => format!(
                "The {who} {addr} refused the connection: nothing accepted connections on port {} (or the host's own firewall refused them).",
                self.port
            ),
            Scenario::FirewallReject => format!(
                "A firewall {distance} rejected the connection attempt in the {who}'s name; the {who} itself never answered."
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
                "A stateful device {distance} dropped this connection during {} of silence and reset it in the {who}'s name when traffic resumed; its idle timeout is at most that long.",
                self.silence
                    .map_or_else(|| "a period".to_string(), |s| s.to_string())
            ),
            Scenario::StateLoss => format!(
                "A stateful firewall {distance} no longer tracked this connection (its state expired, was flushed or failed over, or a policy change dropped it) and reset a segment of it in the {who}'s name."
            ),
            Scenario::InPathReject => format!(
                "A device in the path {distance} (an IPS, WAF, proxy or load balancer) rejected the traffic in the {who}'s name; the {who} did not reset the connection."
            ),
            // An injector picks its own TTL, so no distance is claimed from it.
            Scenario::InjectedReset => format!(
                "A forged reset raced the real traffic: a device beside the path injected it in the {who}'s name while the real {who} kept sending."
            ),
            Scenario::HealthCheck => format!(
                "The client {addr} completed the handshake and reset the connection without sending data: a health check or port probe."
            ),
            Scenario::ResetAfterClose => format!(
                "The connection was closing with FIN; the {who} {addr} then closed its side with a reset (an abortive close, or data arriving after it closed)."
            ),
            Scenario::NoSocket if self.alone => format!(
                "The capture holds nothing else of this connection: the {who} {addr} answered a segment the capture did not hold, for a connection it did not have."
            ),
            Scenario::NoSocket => format!(
                "The {who} {addr} no longer had (or never had) this connection and answered a segment of it with a reset."
            ),
            // Named only from the kernel's word, which writes its own explanation.
            Scenario::HostFirewall => format!(
                "This host's firewall or a raw socket sent this reset with the {who}'s address {addr}."
            ),
            Scenario::Kernel(kind) => format!(
                "The {who}'s kernel sent this reset because {}.",
                kind.meaning()
            ),
            Scenario::Unknown => format!(
                "The capture does not show clearly whether the {who} {addr} or a device on the path sent this reset (the evidence puts a device at {:.0}%).",
                self.posterior * 100.0
            ),
        };
        let mut text = match (&self.named_device, verdict) {
            (Some(named), Verdict::Firewall | Verdict::Middlebox) => {
                let mut named = named.clone();
                if let Some(first) = named.get(..1) {
                    named = first.to_uppercase() + named.get(1..).unwrap_or("");
                }
                // The device's own words say more than the generic sentence would (a BIG-IP
                // passing on a server's reset says "from remote system").
                format!(
                    "{named}, in the {who}'s name; its reset-cause text tells why (the device's logs say more)."
                )
            }
            _ => headline,
        };
        text.push_str(&self.evidence_sentence(verdict));
        let for_verdict = match verdict {
            Verdict::Peer => Some(PointsTo::Peer),
            Verdict::Firewall | Verdict::Middlebox => Some(PointsTo::Path),
            Verdict::Unknown => None,
        };
        if let Some(way) = for_verdict
            && !self.reasons.iter().any(|r| r.0 == way)
        {
            text.push_str(&format!(
                " The capture holds no evidence either way ({}): the verdict rests on how often resets like this come from {} ({:.0}% of them from a device on the path).",
                if self.missing.is_empty() {
                    "nothing that tells".to_string()
                } else {
                    self.missing.join("; ")
                },
                if way == PointsTo::Peer {
                    "the host itself"
                } else {
                    "a device"
                },
                self.posterior * 100.0
            ));
        }
        if verdict == Verdict::Unknown && !self.missing.is_empty() {
            text.push_str(&format!(" Missing: {}.", self.missing.join("; ")));
        }
        text
    }

    /// Concrete next steps.
    pub(super) fn advice(&self, scenario: Scenario) -> Vec<String> {
        let (who, addr, frame, distance) = (self.sender, &self.address, self.frame, &self.distance);
        match scenario {
            Scenario::Refused => vec![
                format!("Check that the service runs and listens on {addr} (`ss -ltn` on the server)."),
                format!("If it should be reachable, check the server host's own firewall for port {}.", self.port),
            ],
            Scenario::FirewallReject => vec![
                format!(
                    "Check the rules of the firewall {distance} for traffic to {addr}: it rejects it with a TCP reset (nftables/iptables `reject with tcp reset`, an ACL)."
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
            Scenario::StateLoss => vec![
                format!(
                    "Check the stateful firewalls {distance} for a state-table flush, a failover or a rule change just before frame {frame} (their logs: 'TCP out of state', 'first packet isn't SYN', conntrack INVALID drops)."
                ),
                "Reconnect and retry on ECONNRESET; if failovers are expected, enable state synchronisation between the firewall pair.".to_string(),
            ],
            Scenario::InPathReject => vec![
                format!(
                    "Check the logs of IPS, WAF, proxy or load-balancer devices {distance} for a block at frame {frame}; the request never reached the {who}."
                ),
                format!("If the block is wrong, ask for an exception for {addr}."),
            ],
            Scenario::InjectedReset => vec![
                format!("The real {who} kept sending after the reset: it was forged by a device beside the path (content filtering, censorship or an IDS)."),
                "Encrypt the traffic (TLS, a VPN) so content-based injection cannot trigger, and report the path to the network's operator.".to_string(),
            ],
            Scenario::HealthCheck => vec!["No action needed if the client is a load balancer or monitoring probe.".to_string()],
            Scenario::ResetAfterClose => vec!["No action needed: the connection had already closed.".to_string()],
            Scenario::NoSocket => vec!["Harmless by itself: look at the reset or close that ended the connection first.".to_string()],
            Scenario::HostFirewall => vec!["Look for a reject rule on this host (`nft list ruleset`, `iptables-save`).".to_string()],
            Scenario::Kernel(kind) => vec![kind.advice().to_string()],
            Scenario::Unknown => vec![format!(
                "Capture at the {who}'s end too and compare the two views of frame {frame} (`rstscope compare`): a RST the {who} never sent was forged on the path."
            )],
        }
    }

    fn idle_advice(&self) -> Vec<String> {
        let silence_s = self.silence.map_or(0.0, |s| s.as_secs_f64());
        let keepalive = (silence_s / 2.0).floor().max(1.0) as u64;
        let bound = silence_s.floor().max(1.0) as u64;
        let mut advice = vec![
            format!(
                "The device forgot the connection within the {bound} s of silence, so its idle timeout is at most {bound} s: send TCP keepalives well below that, every {keepalive} s or less (SO_KEEPALIVE with TCP_KEEPIDLE={keepalive}; the Linux default of 7200 s is far too long; Java 11+: ExtendedSocketOptions.TCP_KEEPIDLE; Node: socket.setKeepAlive(true, ms))."
            ),
            format!(
                "Evict pooled connections idle for more than {keepalive} s (OkHttp: ConnectionPool(maxIdle, {keepalive}, SECONDS); Apache HttpClient: evictIdleConnections), or validate them before reuse."
            ),
        ];
        let matched = devices::expired_by(silence_s);
        advice.push(if matched.is_empty() {
            format!(
                "The silence was shorter than every common device default (the shortest, {} s): the device {} has a configured idle timeout of at most {bound} s; check it.",
                devices::DEVICES.first().map_or(240, |d| d.idle_timeout_s),
                self.distance
            )
        } else {
            let names: Vec<String> = matched
                .iter()
                .map(|d| format!("{} ({} s)", d.name, d.idle_timeout_s))
                .collect();
            format!(
                "Default idle timeouts that fit within the silence, any of which may be the one: {}; check the device {}.",
                names.join(", "),
                self.distance
            )
        });
        advice
    }
}
