//! The diagnosis: resets grouped by what a person would act on (who sent them, what happened,
//! how far away the device was, which servers and ports), each group with its count, first and
//! last time, one example, its explanation and advice, sorted by weight. Follow-up resets (a
//! host's no-socket answers, the further RSTs of one volley) are folded under the reset they
//! follow. Every format opens with it; JSON carries it as `summary.groups`.
//!
//! Memory is bounded whatever the capture: groups are few (verdict x scenario x sender x
//! distance), and each remembers at most `SERVERS_KEPT` servers and `PORTS_KEPT` ports.

use std::collections::HashMap;
use std::net::IpAddr;

use serde::Serialize;

use super::{FlowReport, ResetReport};

mod words;
pub use words::*;

/// Distinct servers and ports a group names; beyond these it counts them.
const SERVERS_KEPT: usize = 64;
const PORTS_KEPT: usize = 16;

/// One group of resets, as `summary.groups[]` gives it.
#[derive(Debug, Clone, Serialize)]
pub struct DiagnosisGroup {
    pub verdict: &'static str,
    pub scenario: &'static str,
    /// Whose address the resets carry: `client` or `server`.
    pub from: &'static str,
    /// The device's distance in hops from the capture point, when its TTL fixed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_hops: Option<u8>,
    /// The servers, in words: one address, a shared prefix ("198.51.100.0/24"), or "N servers".
    pub servers: String,
    pub server_count: u64,
    /// The server ports (at most 16 listed; `port_count` counts them all).
    pub ports: Vec<u16>,
    pub port_count: u64,
    /// Resets in the group, follow-ups not counted.
    pub resets: u64,
    /// Follow-up resets folded under them.
    pub follow_ups: u64,
    pub follow_ups_from: FollowUps,
    /// Follow-ups with the group's own verdict (the further RSTs of one volley); the others
    /// answered the group's resets (a host with no socket left).
    pub follow_ups_same_verdict: u64,
    pub flows: u64,
    pub first_ts: String,
    pub last_ts: String,
    pub example: Example,
    /// The silence before what the group's resets answered, in seconds, the shortest and the
    /// longest: what an idle timeout is read from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quiet_before_s: Option<QuietRange>,
    /// The mean confidence of the group's resets.
    pub confidence: f64,
    /// The example's explanation and first piece of advice.
    pub explanation: String,
    pub advice: String,
}

/// The shortest and longest silence before a group's resets, in seconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct QuietRange {
    pub min: f64,
    pub max: f64,
}

/// Follow-up resets by whose address they carry.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct FollowUps {
    pub client: u64,
    pub server: u64,
}

/// Where to look first: a flow and the frame of one of the group's resets.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Example {
    pub flow: u64,
    pub input: usize,
    pub frame: u64,
}

/// What makes two resets one group.
type Key = (&'static str, &'static str, &'static str, Option<u8>);

/// A group being counted.
#[derive(Debug, Clone)]
struct Tally {
    servers: Vec<IpAddr>,
    more_servers: u64,
    ports: Vec<u16>,
    more_ports: u64,
    resets: u64,
    follow_ups: FollowUps,
    follow_ups_same_verdict: u64,
    flows: u64,
    first: (i64, String),
    last: (i64, String),
    example: Example,
    quiet: Option<(f64, f64)>,
    confidence_sum: f64,
    explanation: String,
    advice: String,
}

/// Resets grouped as flows finish.
#[derive(Debug, Clone, Default)]
pub struct Diagnosis {
    groups: HashMap<Key, Tally>,
    /// Every RST counted, follow-ups included.
    resets: u64,
}

impl Diagnosis {
    /// Counts a finished flow's resets; a follow-up counts in the group of the reset it follows.
    pub fn add(&mut self, flow: &FlowReport) {
        let server_ip: Option<IpAddr> = flow.server.ip.parse().ok();
        let mut keys: Vec<(u64, Key)> = Vec::new();
        for reset in &flow.resets {
            self.resets += 1;
            let followed = reset
                .follow_up_of
                .and_then(|frame| keys.iter().find(|(f, _)| *f == frame).map(|(_, k)| *k));
            match followed {
                Some(key) => {
                    if let Some(tally) = self.groups.get_mut(&key) {
                        match reset.from {
                            "client" => tally.follow_ups.client += 1,
                            _ => tally.follow_ups.server += 1,
                        }
                        if reset.verdict == key.0 {
                            tally.follow_ups_same_verdict += 1;
                        }
                    }
                }
                None => {
                    let key = (reset.verdict, reset.scenario, reset.from, reset.device_hops);
                    let new_flow = keys.iter().all(|(_, k)| *k != key);
                    self.count(key, flow, reset, server_ip, new_flow);
                    keys.push((reset.frame, key));
                }
            }
        }
        self.resets += flow.resets_not_listed;
    }

    fn count(
        &mut self,
        key: Key,
        flow: &FlowReport,
        reset: &ResetReport,
        server_ip: Option<IpAddr>,
        new_flow: bool,
    ) {
        let at = (reset.at_ns, reset.ts.clone());
        let tally = self.groups.entry(key).or_insert_with(|| Tally {
            servers: Vec::new(),
            more_servers: 0,
            ports: Vec::new(),
            more_ports: 0,
            resets: 0,
            follow_ups: FollowUps::default(),
            follow_ups_same_verdict: 0,
            flows: 0,
            first: at.clone(),
            last: at.clone(),
            example: Example {
                flow: flow.id,
                input: reset.input,
                frame: reset.frame,
            },
            quiet: None,
            confidence_sum: 0.0,
            explanation: reset.explanation.clone(),
            advice: reset.advice.first().cloned().unwrap_or_default(),
        });
        tally.resets += 1;
        tally.flows += u64::from(new_flow);
        if let Some(quiet) = reset.silence_before_s {
            tally.quiet = Some(match tally.quiet {
                None => (quiet, quiet),
                Some((min, max)) => (min.min(quiet), max.max(quiet)),
            });
        }
        tally.confidence_sum += reset.confidence;
        if at.0 < tally.first.0 {
            tally.first = at.clone();
            // The earliest reset is the example: where the trouble began.
            tally.example = Example {
                flow: flow.id,
                input: reset.input,
                frame: reset.frame,
            };
            tally.explanation = reset.explanation.clone();
            tally.advice = reset.advice.first().cloned().unwrap_or_default();
        }
        if at.0 > tally.last.0 {
            tally.last = at;
        }
        if let Some(ip) = server_ip
            && !tally.servers.contains(&ip)
        {
            if tally.servers.len() < SERVERS_KEPT {
                tally.servers.push(ip);
            } else {
                tally.more_servers += 1;
            }
        }
        let port = flow.server.port;
        if !tally.ports.contains(&port) {
            if tally.ports.len() < PORTS_KEPT {
                tally.ports.push(port);
            } else {
                tally.more_ports += 1;
            }
        }
    }

    /// Every RST seen, follow-ups and those beyond a flow's listing cap included.
    pub fn resets(&self) -> u64 {
        self.resets
    }

    /// The groups, heaviest first (most resets, then earliest).
    pub fn groups(&self) -> Vec<DiagnosisGroup> {
        let mut groups: Vec<DiagnosisGroup> = self
            .groups
            .iter()
            .map(|(&(verdict, scenario, from, device_hops), tally)| {
                let mut ports = tally.ports.clone();
                ports.sort_unstable();
                DiagnosisGroup {
                    verdict,
                    scenario,
                    from,
                    device_hops,
                    servers: servers_in_words(&tally.servers, tally.more_servers),
                    server_count: tally.servers.len() as u64 + tally.more_servers,
                    ports,
                    port_count: tally.ports.len() as u64 + tally.more_ports,
                    resets: tally.resets,
                    follow_ups: tally.follow_ups.client + tally.follow_ups.server,
                    follow_ups_from: tally.follow_ups,
                    follow_ups_same_verdict: tally.follow_ups_same_verdict,
                    flows: tally.flows,
                    first_ts: tally.first.1.clone(),
                    last_ts: tally.last.1.clone(),
                    example: tally.example,
                    quiet_before_s: tally.quiet.map(|(min, max)| QuietRange {
                        min: (min * 1000.0).round() / 1000.0,
                        max: (max * 1000.0).round() / 1000.0,
                    }),
                    confidence: (tally.confidence_sum / tally.resets.max(1) as f64 * 100.0).round()
                        / 100.0,
                    explanation: tally.explanation.clone(),
                    advice: tally.advice.clone(),
                }
            })
            .collect();
        // By weight: the group's own resets (a volley's further RSTs with them), then the
        // resets that answered them, then the earliest.
        groups.sort_by(|a, b| {
            b.weight()
                .cmp(&a.weight())
                .then(b.follow_ups.cmp(&a.follow_ups))
                .then(a.first_ts.cmp(&b.first_ts))
        });
        groups
    }
}

impl DiagnosisGroup {
    /// The resets the group's sender sent: its own and its volleys' further ones.
    pub fn weight(&self) -> u64 {
        self.resets + self.follow_ups_same_verdict
    }

    /// True when `reset` (a primary one, not a follow-up) is of this group.
    pub fn holds(&self, reset: &ResetReport) -> bool {
        self.verdict == reset.verdict
            && self.scenario == reset.scenario
            && self.from == reset.from
            && self.device_hops == reset.device_hops
    }

    /// The silence before the resets, in words, when it is what the scenario is about (an
    /// idle timeout, lost state): "after 350 s idle", "after 300 to 360 s idle".
    pub fn idle_in_words(&self) -> Option<String> {
        if !matches!(self.scenario, "idle_timeout" | "state_loss") {
            return None;
        }
        let quiet = self.quiet_before_s?;
        let secs = |s: f64| {
            if s >= 10.0 {
                format!("{s:.0}")
            } else {
                format!("{s:.1}")
            }
        };
        if quiet.max < 1.0 {
            return None;
        }
        let (low, high) = (secs(quiet.min), secs(quiet.max));
        Some(if low == high {
            format!("after {low} s idle")
        } else {
            format!("after {low} to {high} s idle")
        })
    }
}

/// The index of the group of a flow's reset: a follow-up's is that of the reset it follows.
pub fn group_of(
    groups: &[DiagnosisGroup],
    flow: &FlowReport,
    reset: &ResetReport,
) -> Option<usize> {
    let mut reset = reset;
    // Follow-ups point at a primary (never at another follow-up), but stay bounded anyway.
    for _ in 0..4 {
        let Some(frame) = reset.follow_up_of else {
            break;
        };
        match flow.resets.iter().find(|r| r.frame == frame) {
            Some(primary) => reset = primary,
            None => break,
        }
    }
    groups.iter().position(|g| g.holds(reset))
}

/// The index of the group of a flow's first reset (what the flow is listed under).
pub fn group_of_flow(groups: &[DiagnosisGroup], flow: &FlowReport) -> Option<usize> {
    let first = flow.resets.iter().find(|r| r.follow_up_of.is_none())?;
    group_of(groups, flow, first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_collapse_into_a_prefix_or_a_count() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        assert_eq!(servers_in_words(&[ip("198.51.100.7")], 0), "198.51.100.7");
        assert_eq!(
            servers_in_words(&[ip("198.51.100.7"), ip("198.51.100.9")], 0),
            "198.51.100.0/24 (2 servers)"
        );
        assert_eq!(
            servers_in_words(&[ip("198.51.100.7"), ip("203.0.113.9")], 0),
            "2 servers"
        );
        assert_eq!(
            servers_in_words(&[ip("2001:db8:5::7"), ip("2001:db8:5::9")], 0),
            "2001:db8:5::/64 (2 servers)"
        );
    }

    #[test]
    fn counts_read_right() {
        assert_eq!(count(1, "hop"), "1 hop");
        assert_eq!(count(2, "packet"), "2 packets");
    }
}
