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
        if segment.flags.rst() {
            return;
        }
        let ip = segment.src.ip();
        if let Some(summary) = self.ttl.get_mut(&ip) {
            summary.note(segment.ip.ttl);
        } else if self.ttl.len() < MAX_HOSTS {
            let mut summary = TtlSummary::default();
            summary.note(segment.ip.ttl);
            self.ttl.insert(ip, summary);
        }
    }

    /// Notes the round trip to a finished flow's server, as its handshake showed it.
    pub fn observe_flow(&mut self, flow: &Flow) {
        let Some(leg) = flow.handshake.server_leg() else {
            return;
        };
        let ip = flow.server().ip();
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
