//! Capture-wide baselines per host: the TTLs a host's ordinary segments arrive with, and the
//! round trip to it. A refused SYN has no packets of its own to compare with, but the same
//! server's other connections in the capture do.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::decode::Segment;
use crate::flow::{Flow, TtlSummary};
use crate::time::Span;

/// How many hosts are remembered; beyond this, new hosts get no baseline (memory stays flat).
const MAX_HOSTS: usize = 100_000;

/// What the capture shows about each host so far.
#[derive(Debug, Default)]
pub struct HostBaselines {
    ttl: HashMap<IpAddr, TtlSummary, foldhash::fast::RandomState>,
    round_trip: HashMap<IpAddr, Span, foldhash::fast::RandomState>,
}

impl HostBaselines {
    /// Notes one segment's source TTL (RST segments are what gets judged, so they are left out).
    pub fn observe(&mut self, segment: &Segment) {
        if !segment.flags.rst() {
            self.observe_ttl(segment.src.ip(), segment.ip.ttl);
        }
    }

    /// Notes the TTL of an ordinary (non-RST) segment from `ip`.
    pub fn observe_ttl(&mut self, ip: IpAddr, ttl: u8) {
        if let Some(summary) = self.ttl.get_mut(&ip) {
            summary.note(ttl);
        } else if self.ttl.len() < MAX_HOSTS {
            let mut summary = TtlSummary::default();
            summary.note(ttl);
            self.ttl.insert(ip, summary);
        }
    }

    /// Notes the round trip to a finished flow's server, as its handshake showed it.
    pub fn observe_flow(&mut self, flow: &Flow) {
        if let Some(leg) = flow.handshake.server_leg() {
            self.observe_round_trip(flow.server().ip(), leg);
        }
    }

    /// Notes one round trip from the capture point to `ip` and back.
    pub fn observe_round_trip(&mut self, ip: IpAddr, leg: Span) {
        if let Some(best) = self.round_trip.get_mut(&ip) {
            *best = (*best).min(leg);
        } else if self.round_trip.len() < MAX_HOSTS {
            self.round_trip.insert(ip, leg);
        }
    }

    /// The TTLs of a host's ordinary segments anywhere in the capture.
    pub fn ttl(&self, ip: IpAddr) -> Option<&TtlSummary> {
        self.ttl.get(&ip)
    }

    /// The shortest round trip from the capture point to a server and back.
    pub fn round_trip(&self, ip: IpAddr) -> Option<Span> {
        self.round_trip.get(&ip).copied()
    }
}
