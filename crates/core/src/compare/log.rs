//! The packets of one capture, in the compact form matching needs: per connection (its two
//! ends, either way round), each segment's header facts, time and frame, in capture order.
//!
//! Bounded: at most `PER_CONNECTION` packets per 4-tuple and `IN_ALL` in all are kept; past
//! them packets are counted, not kept, and the comparison says it saw only part.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use crate::anonymize::{AnonymizeKey, Anonymizer};
use crate::capture::{CaptureError, FileSource};
use crate::decode::Segment;
use crate::flow::address_pair;
use crate::reading::{Content, Read, Reader};
use crate::tcp::Flags;
use crate::time::Timestamp;

/// Packets kept per 4-tuple.
const PER_CONNECTION: usize = 50_000;
/// Packets kept per capture (about 70 bytes each).
const IN_ALL: usize = 2_000_000;

/// One segment as matching sees it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pkt {
    pub ts: Timestamp,
    pub frame: u64,
    /// True when the sender is the lower of the connection's two ends (see `Ends`).
    pub from_lower: bool,
    pub flags: Flags,
    pub len: u32,
    pub seq: u32,
    pub ack: Option<u32>,
    pub ip_id: Option<u16>,
    pub ttl: u8,
    pub wnd: u16,
    pub mss: Option<u16>,
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
    pub timestamps: Option<(u32, u32)>,
}

/// A connection's two ends, the lower first, so both directions find the same entry.
pub(super) type Ends = (SocketAddr, SocketAddr);

/// One capture's packets by connection.
#[derive(Default)]
pub(super) struct PacketLog {
    pub by_ends: HashMap<Ends, Vec<Pkt>>,
    pub kept: usize,
    /// Packets counted but not kept (past the bounds).
    pub not_kept: u64,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    /// The last time each address sent or received a segment (kept or not).
    pub last_seen: HashMap<IpAddr, Timestamp>,
}

impl PacketLog {
    /// Reads `path` (anonymising addresses under `anonymize`, as the analysis does).
    pub(super) fn read(
        path: &Path,
        anonymize: Option<&AnonymizeKey>,
    ) -> Result<PacketLog, CaptureError> {
        let mut source = FileSource::open(path, None)?;
        let mut anonymizer = anonymize.map(Anonymizer::new);
        let mut reader = Reader::new(&mut source, 0, anonymizer.as_mut());
        let mut log = PacketLog::default();
        while let Some(read) = reader.next() {
            if let Read::Frame {
                at,
                content: Content::Segment(segment),
                ..
            } = read
            {
                log.first_ts.get_or_insert(at.ts);
                log.last_ts = Some(log.last_ts.map_or(at.ts, |last| last.max(at.ts)));
                log.keep(&segment, at.ts, at.frame);
            }
        }
        Ok(log)
    }

    fn keep(&mut self, segment: &Segment, ts: Timestamp, frame: u64) {
        for ip in [segment.src.ip(), segment.dst.ip()] {
            let last = self.last_seen.entry(ip).or_insert(ts);
            *last = (*last).max(ts);
        }
        let ends = address_pair(segment.src, segment.dst);
        if self.kept >= IN_ALL {
            self.not_kept += 1;
            return;
        }
        let packets = self.by_ends.entry(ends).or_default();
        if packets.len() >= PER_CONNECTION {
            self.not_kept += 1;
            return;
        }
        self.kept += 1;
        packets.push(Pkt {
            ts,
            frame,
            from_lower: segment.src == ends.0,
            flags: segment.flags,
            len: segment.len,
            seq: segment.seq.0,
            ack: segment.ack.map(|ack| ack.0),
            ip_id: segment.ip.ip_id,
            ttl: segment.ip.ttl,
            wnd: segment.wnd,
            mss: segment.options.mss,
            window_scale: segment.options.window_scale,
            sack_permitted: segment.options.sack_permitted,
            timestamps: segment.options.timestamps,
        });
    }

    /// Hands each flow (client, server, first and last time) its packets, moved out of the
    /// log: those between its two ends within its time (a 4-tuple may have carried several
    /// flows), each with whether the client sent it.
    pub(super) fn into_flows(
        mut self,
        flows: &[(SocketAddr, SocketAddr, Timestamp, Timestamp)],
    ) -> Vec<Vec<(Pkt, bool)>> {
        let mut by_ends: HashMap<Ends, Vec<usize>> = HashMap::new();
        for (index, (client, server, _, _)) in flows.iter().enumerate() {
            by_ends
                .entry(address_pair(*client, *server))
                .or_default()
                .push(index);
        }
        let mut out: Vec<Vec<(Pkt, bool)>> = vec![Vec::new(); flows.len()];
        for (ends, indices) in by_ends {
            let Some(packets) = self.by_ends.remove(&ends) else {
                continue;
            };
            for p in packets {
                let Some(&index) = indices.iter().find(|&&i| {
                    let (_, _, first, last) = flows[i];
                    p.ts >= first && p.ts <= last
                }) else {
                    continue;
                };
                let client_is_lower = flows[index].0 == ends.0;
                out[index].push((p, p.from_lower == client_is_lower));
            }
        }
        out
    }
}
