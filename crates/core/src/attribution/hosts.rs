//! Capture-wide baselines per host: the TTLs a host's ordinary segments arrive with, the link
//! address they arrive from, its IP ID counter across flows, and the round trip to it; plus
//! the link addresses ARP and neighbour discovery announced, and (live) the capturing host's
//! own addresses. A refused SYN has no packets of its own to compare with, but the same host's
//! other connections in the capture do.
//!
//! For capture files the baselines are complete before any reset is judged (the pipeline holds
//! reset flows back until the input ends), so a verdict does not depend on the order in which
//! flows finished.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::decode::{Mac, Neighbour, Segment};
use crate::flow::{Flow, LinkSummary, TtlSummary};
use crate::time::Span;

/// How many hosts are remembered; beyond this, new hosts get no baseline (memory stays flat).
const MAX_HOSTS: usize = 100_000;

/// Steps of a host's IP ID from one sampled packet to the next (in any flow) that count as
/// one counter: Windows and older stacks use one counter for every packet they send.
const COUNTER_STEP: u16 = 4096;

/// A host's IPv4 identification values across all its flows, in capture order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct HostIpId {
    pub last: Option<u16>,
    /// Steps of 1..`COUNTER_STEP` from one sampled packet to the next.
    pub small_steps: u32,
    pub jumps: u32,
    /// Packets of more than one flow took part (a per-connection counter never does).
    pub across_flows: bool,
    /// The ports of the flow of the last packet.
    last_flow: u32,
}

impl HostIpId {
    fn note(&mut self, id: Option<u16>, flow: u32) {
        let Some(id) = id.filter(|&id| id != 0) else {
            return;
        };
        if let Some(last) = self.last {
            let step = id.wrapping_sub(last);
            if (1..COUNTER_STEP).contains(&step) {
                self.small_steps = self.small_steps.saturating_add(1);
                if flow != self.last_flow {
                    self.across_flows = true;
                }
            } else if step != 0 {
                self.jumps = self.jumps.saturating_add(1);
            }
        }
        self.last = Some(id);
        self.last_flow = flow;
    }

    /// True when the host's packets, across its connections, count up one counter.
    pub(crate) fn is_one_counter(&self) -> bool {
        self.across_flows
            && self.small_steps >= 3
            && self.small_steps > self.jumps.saturating_mul(4)
    }
}

/// What the capture shows about one host.
#[derive(Debug, Clone, Default)]
pub(crate) struct HostFacts {
    pub ttl: TtlSummary,
    pub link: LinkSummary,
    pub ip_id: HostIpId,
    /// The shortest round trip from the capture point to this host as a server and back.
    pub round_trip: Option<Span>,
    /// Ordinary (non-RST) segments sampled from the host.
    pub packets: u32,
    /// The TTLs of the RSTs carrying the host's address (for a host that sent nothing else).
    pub reset_ttl: TtlSummary,
    /// IPv6 flow labels: the host's ordinary segments with and without one, and its
    /// refusal-shaped RSTs (RST+ACK at sequence 0, the answer to a SYN) that carried one.
    pub labels: HostLabels,
}

/// How a host labels its IPv6 packets (RFC 6437), from every packet of it in the capture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct HostLabels {
    pub labelled: u32,
    pub unlabelled: u32,
    pub labelled_refusals: u32,
}

impl HostLabels {
    fn note(&mut self, segment: &Segment) {
        if !segment.src.is_ipv6() {
            return;
        }
        let labelled = segment.ip.flow_label != 0;
        if segment.flags.rst() {
            if labelled && is_refusal_shaped(segment.flags, segment.seq) {
                self.labelled_refusals = self.labelled_refusals.saturating_add(1);
            }
        } else if labelled {
            self.labelled = self.labelled.saturating_add(1);
        } else {
            self.unlabelled = self.unlabelled.saturating_add(1);
        }
    }

    /// True when the host labelled every ordinary packet (two or more) and answered at least
    /// one SYN with a labelled RST: its stack labels even the resets of its control path.
    pub(crate) fn labels_its_refusals(&self) -> bool {
        self.labelled >= 2 && self.unlabelled == 0 && self.labelled_refusals > 0
    }
}

/// The shape of a reset that answers a SYN (RFC 9293 §3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN>
/// <CTL=RST,ACK>), which every stack sends from its control path, with no socket.
pub(crate) fn is_refusal_shaped(flags: crate::tcp::Flags, seq: crate::tcp::SeqNum) -> bool {
    flags.rst() && flags.ack() && seq.0 == 0
}

/// What the capture shows about every host.
#[derive(Debug, Default)]
pub(crate) struct HostBaselines {
    hosts: HashMap<IpAddr, HostFacts, foldhash::fast::RandomState>,
    neighbours: HashMap<IpAddr, Mac, foldhash::fast::RandomState>,
    /// The capturing host's own addresses, when known (live capture: the interface's).
    own: Vec<IpAddr>,
    /// True once the capture showed it spans links: a packet seen both before and after a
    /// router, or records naming their interface (`any`). An untouched TTL then says only that
    /// a packet was sent on one of the links.
    spans_links: bool,
}

impl HostBaselines {
    /// Baselines for a capture made on a host with these addresses.
    pub(crate) fn with_own_addresses(own: Vec<IpAddr>) -> HostBaselines {
        HostBaselines {
            own,
            ..HostBaselines::default()
        }
    }

    fn facts_mut(&mut self, ip: IpAddr) -> Option<&mut HostFacts> {
        // One hash lookup per packet while there is room (every packet asks).
        if self.hosts.len() < MAX_HOSTS {
            Some(self.hosts.entry(ip).or_default())
        } else {
            self.hosts.get_mut(&ip)
        }
    }

    /// Notes one segment of a host. RST segments are what gets judged, so they are kept apart
    /// from the baselines (only their TTLs, for a host that sent nothing else).
    pub(crate) fn observe(&mut self, segment: &Segment) {
        let Some(facts) = self.facts_mut(segment.src.ip()) else {
            return;
        };
        facts.labels.note(segment);
        if segment.flags.rst() {
            facts.reset_ttl.note(segment.ip.ttl);
            return;
        }
        facts.ttl.note(segment.ip.ttl);
        facts.link.note(segment.link_src);
        let ports = u32::from(segment.src.port()) << 16 | u32::from(segment.dst.port());
        facts.ip_id.note(segment.ip.ip_id, ports);
        facts.packets = facts.packets.saturating_add(1);
    }

    /// Notes which link address an IP address announced (ARP, neighbour discovery).
    pub(crate) fn observe_neighbour(&mut self, neighbour: Neighbour) {
        if self.neighbours.len() < MAX_HOSTS || self.neighbours.contains_key(&neighbour.ip) {
            self.neighbours.insert(neighbour.ip, neighbour.mac);
        }
    }

    /// Notes the round trip to a finished flow's server, as its handshake showed it.
    pub(crate) fn observe_flow(&mut self, flow: &Flow) {
        let Some(leg) = flow.handshake.server_leg().filter(|leg| leg.0 > 0) else {
            return;
        };
        if let Some(facts) = self.facts_mut(flow.server().ip()) {
            facts.round_trip = Some(facts.round_trip.map_or(leg, |best| best.min(leg)));
        }
    }

    /// What the capture showed of a host, if anything.
    pub(crate) fn host(&self, ip: IpAddr) -> Option<&HostFacts> {
        self.hosts.get(&ip)
    }

    /// The TTLs of a host's ordinary segments anywhere in the capture.
    pub(crate) fn ttl(&self, ip: IpAddr) -> Option<&TtlSummary> {
        self.host(ip).map(|facts| &facts.ttl)
    }

    /// The shortest round trip from the capture point to a server and back.
    pub(crate) fn round_trip(&self, ip: IpAddr) -> Option<Span> {
        self.host(ip)?.round_trip
    }

    /// The link address ARP or neighbour discovery said this IP address uses.
    pub(crate) fn announced_mac(&self, ip: IpAddr) -> Option<Mac> {
        self.neighbours.get(&ip).copied()
    }

    /// The last IP ID sampled from a host so far (for the reset about to be recorded).
    pub(crate) fn last_ip_id(&self, ip: IpAddr) -> Option<u16> {
        self.host(ip)?.ip_id.last
    }

    /// Notes that the capture spans links (see `spans_links`).
    pub(crate) fn saw_several_links(&mut self) {
        self.spans_links = true;
    }

    /// True when the capture spans more than one link.
    pub(crate) fn spans_links(&self) -> bool {
        self.spans_links
    }

    /// True when `ip` is one of the capturing host's own addresses (live capture).
    pub(crate) fn is_own_address(&self, ip: IpAddr) -> bool {
        self.own.contains(&ip)
    }

    /// True when the capturing host's addresses are known (not guessed from TTLs).
    pub(crate) fn knows_own_addresses(&self) -> bool {
        !self.own.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_counter_across_flows_is_recognised() {
        let mut ids = HostIpId::default();
        for (id, port) in [(100, 1), (101, 2), (103, 1), (110, 3), (111, 2)] {
            ids.note(Some(id), port);
        }
        assert!(ids.is_one_counter());
        let mut per_flow = HostIpId::default();
        for (id, port) in [(100, 1), (9000, 2), (101, 1), (30000, 3), (9001, 2)] {
            per_flow.note(Some(id), port);
        }
        assert!(!per_flow.is_one_counter());
    }
}
