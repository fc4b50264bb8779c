//! `--export-pcap FILE`: the evidence for a ticket, small. While the analysis runs, the flows
//! worth exporting (those that carried a reset, or those chosen with `--flow ID`) are noted by
//! their address pair and time span; then the inputs are read a second time and only those
//! flows' frames are written, unchanged (or with addresses rewritten under `--anonymize`), in
//! the inputs' own link type. `rstscope analyze` on the export gives the same verdicts: with
//! the reset flows go a few other flows of each host whose address a reset carried, so the
//! host's usual TTL and round trip (what a verdict compares the reset with) are in the file
//! too.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use pcap::{Capture, Linktype, Packet, PacketHeader, Precision};

use crate::anonymize::{AnonymizeKey, Anonymizer};
use crate::capture::{CaptureError, FileSource, NextFrame, Source, pcap_error_text};
use crate::decode::{Captured, Decoded, decode};
use crate::flow::Flow;
use crate::time::Timestamp;

/// Which flows to export: by id when ids were given, else those with resets.
#[derive(Debug, Clone, Default)]
pub struct FlowSelection {
    ids: BTreeSet<u64>,
    /// Per address pair (lower address first), the time spans of the chosen flows.
    spans: HashMap<(SocketAddr, SocketAddr), Vec<(Timestamp, Timestamp)>>,
    flows: u64,
    /// Addresses that RST segments of chosen flows carried.
    reset_senders: HashSet<IpAddr>,
    /// Per address, the first few unchosen flows that carried its packets.
    context: HashMap<IpAddr, Vec<Span>>,
}

/// A flow by its address pair and time span.
type Span = ((SocketAddr, SocketAddr), (Timestamp, Timestamp));

/// Other flows kept per host for context, and the hosts remembered at most.
const CONTEXT_FLOWS_PER_HOST: usize = 2;
const CONTEXT_HOSTS: usize = 100_000;

/// What an export wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Exported {
    pub flows: u64,
    pub frames: u64,
}

impl FlowSelection {
    /// Flows with these ids, or (none given) every flow that carried a RST.
    pub fn new(ids: &[u64]) -> FlowSelection {
        FlowSelection {
            ids: ids.iter().copied().collect(),
            ..FlowSelection::default()
        }
    }

    /// Notes a finished flow if it is one to export. A flow `--filter` did not select is only
    /// ever context for a chosen one.
    pub fn consider(&mut self, flow: &Flow) {
        let chosen = if !flow.selected {
            false
        } else if self.ids.is_empty() {
            !flow.resets.is_empty() || flow.resets_not_listed > 0
        } else {
            self.ids.contains(&flow.id)
        };
        let span = (
            pair(flow.client(), flow.server()),
            (flow.first_ts, flow.last_ts),
        );
        if chosen {
            self.flows += 1;
            self.add(span);
            for reset in &flow.resets {
                self.reset_senders.insert(reset.segment.src.ip());
            }
            return;
        }
        for (addr, sent) in [
            (flow.client().ip(), flow.client_side.packets),
            (flow.server().ip(), flow.server_side.packets),
        ] {
            if sent == 0
                || (self.context.len() >= CONTEXT_HOSTS && !self.context.contains_key(&addr))
            {
                continue;
            }
            let kept = self.context.entry(addr).or_default();
            if kept.len() < CONTEXT_FLOWS_PER_HOST {
                kept.push(span);
            }
        }
    }

    /// Adds the context flows of every address a chosen reset carried; call once all flows
    /// have been considered.
    pub fn with_context(mut self) -> FlowSelection {
        let senders: Vec<IpAddr> = self.reset_senders.iter().copied().collect();
        for addr in senders {
            for span in self.context.remove(&addr).unwrap_or_default() {
                self.add(span);
            }
        }
        self.context.clear();
        self
    }

    fn add(&mut self, (pair, span): Span) {
        let spans = self.spans.entry(pair).or_default();
        if !spans.contains(&span) {
            spans.push(span);
        }
    }

    /// Ids asked for that no flow had.
    pub fn missing_ids(&self, flows_seen: u64) -> Vec<u64> {
        self.ids
            .iter()
            .copied()
            .filter(|&id| id == 0 || id > flows_seen)
            .collect()
    }

    fn holds(&self, a: SocketAddr, b: SocketAddr, ts: Timestamp) -> bool {
        self.spans
            .get(&pair(a, b))
            .is_some_and(|spans| spans.iter().any(|&(from, to)| from <= ts && ts <= to))
    }
}

fn pair(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b { (a, b) } else { (b, a) }
}

/// Reads `paths` again and writes every frame of the selected flows to `out` (`--filter`
/// chose the flows; their frames go whole). All inputs must share one link type.
pub fn export_pcap(
    paths: &[PathBuf],
    selection: &FlowSelection,
    anonymize: Option<AnonymizeKey>,
    out: &Path,
) -> Result<Exported, CaptureError> {
    for path in paths {
        FileSource::check_rereadable(path)?;
    }
    let mut sources = paths
        .iter()
        .map(|path| FileSource::open(path, None))
        .collect::<Result<Vec<_>, _>>()?;
    let Some(dlt) = sources.first().map(FileSource::dlt) else {
        return Ok(Exported::default());
    };
    if let Some(other) = sources.iter().find(|source| source.dlt() != dlt) {
        return Err(CaptureError::CannotWrite {
            path: out.display().to_string(),
            detail: format!(
                "{} has another link type than {}, and one pcap file holds one; export each file on its own",
                other.name(),
                sources[0].name()
            ),
        });
    }
    let cannot_write = |err: pcap::Error| CaptureError::CannotWrite {
        path: out.display().to_string(),
        detail: pcap_error_text(&err),
    };
    let dead =
        Capture::dead_with_precision(Linktype(dlt), Precision::Nano).map_err(cannot_write)?;
    let mut file = dead.savefile(out).map_err(cannot_write)?;
    let mut anonymizer = anonymize.as_ref().map(Anonymizer::new);
    let mut exported = Exported {
        flows: selection.flows,
        frames: 0,
    };
    let mut rewritten = Vec::new();
    for source in &mut sources {
        let link_type = source.link_type();
        loop {
            let frame = match source.next_frame() {
                NextFrame::Frame(frame) => frame,
                NextFrame::Idle(_) => continue,
                // A cut-off input was reported by the analysis; what came before it is here.
                NextFrame::End | NextFrame::Broken(_) => break,
            };
            let Decoded::Segment(mut segment) = decode(
                link_type,
                frame.data,
                Captured::of(frame.data.len(), frame.wire_len),
            ) else {
                continue;
            };
            if let Some(anonymizer) = &mut anonymizer {
                anonymizer.segment(&mut segment);
            }
            if !selection.holds(segment.src, segment.dst, frame.ts) {
                continue;
            }
            let data = match &mut anonymizer {
                Some(anonymizer) => {
                    rewritten.clear();
                    rewritten.extend_from_slice(frame.data);
                    anonymizer.frame(link_type, &mut rewritten);
                    &rewritten[..]
                }
                None => frame.data,
            };
            let (secs, nanos) = frame.ts.split();
            // With nanosecond precision, libpcap reads tv_usec as nanoseconds.
            let header = PacketHeader {
                ts: libc::timeval {
                    tv_sec: secs,
                    tv_usec: i64::from(nanos),
                },
                caplen: u32::try_from(data.len()).unwrap_or(u32::MAX),
                len: frame.wire_len,
            };
            file.write(&Packet::new(&header, data));
            exported.frames += 1;
        }
    }
    file.flush().map_err(cannot_write)?;
    Ok(exported)
}
