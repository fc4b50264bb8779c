//! `--export-pcap FILE`: the evidence for a ticket, small. While the analysis runs, the flows
//! worth exporting (those that carried a reset, or those chosen with `--flow ID`) are noted by
//! their address pair and time span, with each RST's verdict; then the inputs are read a
//! second time and only those flows' frames are written (addresses rewritten under
//! `--anonymize`). The default file is pcapng (`pcapng`), every packet commented with its
//! original file, frame number and flow id, every RST with its verdict, confidence and
//! scenario, so Wireshark shows them as `frame.comment`; a name ending in `.pcap` gives
//! classic pcap without comments, in the inputs' link type.
//!
//! `rstscope analyze` on the export gives the same verdicts: with the reset flows go a few
//! other flows of each host whose address a reset carried, so the host's usual TTL and round
//! trip (what a verdict compares the reset with) are in the file too. With `--flow`, only the
//! comparison packets go: the claimed sender's own first segments in those other flows, what
//! its baseline learns from, and payloads are blanked unless `--keep-payload`.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::io::BufWriter;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use crate::analyzer::AnalyzedFlow;
use crate::anonymize::{AnonymizeKey, Anonymizer, rewrite};
use crate::capture::{CaptureError, FileSource, Source};
use crate::flow::address_pair;
use crate::reading::{Content, Read, Reader};
use crate::savefile::{Precision, SaveFile};
use crate::time::Timestamp;

/// Which flows to export: by id when ids were given, else those with resets.
#[derive(Debug, Clone, Default)]
pub struct FlowSelection {
    ids: BTreeSet<u64>,
    /// Per address pair (lower address first), the chosen flows and their context.
    spans: HashMap<(SocketAddr, SocketAddr), Vec<Kept>>,
    flows: u64,
    /// Addresses that RST segments of chosen flows carried.
    reset_senders: HashSet<IpAddr>,
    /// Per address, the first few unchosen flows that carried its packets.
    context: HashMap<IpAddr, Vec<Span>>,
    /// Each chosen RST's judgement, by (input, frame).
    verdicts: HashMap<(usize, u64), String>,
}

/// A flow by its address pair, time span and id.
type Span = ((SocketAddr, SocketAddr), Kept);

/// A flow whose frames go into the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Kept {
    from: Timestamp,
    to: Timestamp,
    id: u64,
    /// A flow with resets (or chosen by id); else another flow of a reset's claimed sender.
    chosen: bool,
    /// For a `--flow` export's comparison flow: only the segments these addresses sent, at
    /// most `HOST_SAMPLES` of each. Every frame when both are None.
    only_from: [Option<IpAddr>; 2],
}

impl Kept {
    fn takes_every_frame(&self) -> bool {
        self.only_from == [None, None]
    }

    fn takes_from(&self, ip: IpAddr) -> bool {
        self.takes_every_frame() || self.only_from.contains(&Some(ip))
    }
}

/// Segments of a sender kept from each comparison flow: as many as teach its baseline.
const HOST_SAMPLES: u32 = 16;

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
    pub fn consider(&mut self, analyzed: &AnalyzedFlow) {
        self.consider_from(None, analyzed);
    }

    /// `consider` for a flow of input `input` that was analysed on its own (`compare`), so its
    /// frames know only their own file.
    pub fn consider_in(&mut self, input: usize, analyzed: &AnalyzedFlow) {
        self.consider_from(Some(input), analyzed);
    }

    /// Replaces the comment of the RST at `frame` of `input` (a verdict revised afterwards).
    pub fn judged(&mut self, input: usize, frame: u64, text: String) {
        self.verdicts.insert((input, frame), text);
    }

    fn consider_from(&mut self, input: Option<usize>, analyzed: &AnalyzedFlow) {
        let flow = &analyzed.flow;
        let chosen = if !flow.selected {
            false
        } else if self.ids.is_empty() {
            !flow.resets.is_empty() || flow.resets_not_listed > 0
        } else {
            self.ids.contains(&flow.id)
        };
        let span = (
            address_pair(flow.client(), flow.server()),
            Kept {
                from: flow.first_ts,
                to: flow.last_ts,
                id: flow.id,
                chosen,
                only_from: [None, None],
            },
        );
        if chosen {
            self.flows += 1;
            self.add(span);
            for (reset, attribution) in flow.resets.iter().zip(&analyzed.attributions) {
                self.reset_senders.insert(reset.segment.src.ip());
                let at = reset.segment.at;
                self.verdicts.insert(
                    (input.unwrap_or(at.input), at.frame),
                    format!(
                        "RST verdict {} (confidence {:.2}), scenario {}",
                        attribution.verdict.as_str(),
                        attribution.confidence,
                        attribution.scenario.as_str()
                    ),
                );
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
    /// have been considered. With `--flow` ids only the sender's own first segments of them
    /// (its comparison packets) go.
    pub fn with_context(mut self) -> FlowSelection {
        let senders: Vec<IpAddr> = self.reset_senders.iter().copied().collect();
        let only_sender = !self.ids.is_empty();
        for addr in senders {
            for (pair, mut kept) in self.context.remove(&addr).unwrap_or_default() {
                if only_sender {
                    kept.only_from = [Some(addr), None];
                }
                self.add((pair, kept));
            }
        }
        self.context.clear();
        self
    }

    fn add(&mut self, (pair, kept): Span) {
        let spans = self.spans.entry(pair).or_default();
        let Some(existing) = spans.iter_mut().find(|k| k.id == kept.id) else {
            spans.push(kept);
            return;
        };
        // A flow chosen and context is chosen, all of it; context of both its ends gives
        // both ends' segments.
        existing.chosen |= kept.chosen;
        if existing.chosen || existing.takes_every_frame() || kept.takes_every_frame() {
            existing.only_from = [None, None];
        } else if let Some(ip) = kept.only_from[0]
            && !existing.only_from.contains(&Some(ip))
        {
            existing.only_from[1] = Some(ip);
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

    /// The flow a segment belongs to when it is one to export.
    fn holding(&self, src: SocketAddr, dst: SocketAddr, ts: Timestamp) -> Option<Kept> {
        self.spans.get(&address_pair(src, dst)).and_then(|spans| {
            spans
                .iter()
                .find(|k| k.from <= ts && ts <= k.to)
                .filter(|k| k.takes_from(src.ip()))
                .copied()
        })
    }
}

/// How to write an export.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub anonymize: Option<AnonymizeKey>,
    /// Zero every TCP payload (lengths kept, checksums corrected).
    pub blank_payloads: bool,
    /// Each input's name as the comments give it (what the report calls it).
    pub input_names: Vec<String>,
}

/// Reads `paths` again and writes every frame of the selected flows to `out`: pcapng with
/// comments, or classic pcap when the name ends in `.pcap` (then every input must share one
/// link type).
pub fn export_pcap(
    paths: &[PathBuf],
    selection: &FlowSelection,
    options: &ExportOptions,
    out: &Path,
) -> Result<Exported, CaptureError> {
    for path in paths {
        FileSource::check_rereadable(path, "--export-pcap")?;
    }
    let mut sources = paths
        .iter()
        .map(|path| FileSource::open(path, None))
        .collect::<Result<Vec<_>, _>>()?;
    let mut sink = if is_classic_pcap(out) {
        classic_sink(&sources, out)?
    } else {
        pcapng_sink(out)?
    };
    // One anonymiser for the segments the reader decodes, one for the frames rewritten here:
    // the same key maps every address the same way in both.
    let mut segment_anonymizer = options.anonymize.as_ref().map(Anonymizer::new);
    let mut anonymizer = options.anonymize.as_ref().map(Anonymizer::new);
    let mut exported = Exported {
        flows: selection.flows,
        frames: 0,
    };
    let mut rewritten = Vec::new();
    // Segments kept so far per (flow, sender) of comparison flows.
    let mut samples: HashMap<(u64, IpAddr), u32> = HashMap::new();
    for (input, source) in sources.iter_mut().enumerate() {
        let link_type = source.link_type();
        let dlt = source.dlt();
        let name = options
            .input_names
            .get(input)
            .cloned()
            .unwrap_or_else(|| format!("input {}", input + 1));
        let interface = sink.interface(dlt, &name).map_err(|e| io_failed(out, &e))?;
        // A cut-off input was reported by the analysis; what came before it is here.
        let mut reader = Reader::new(source, input, segment_anonymizer.as_mut());
        while let Some(read) = reader.next() {
            let Read::Frame {
                frame,
                content: Content::Segment(segment),
                ..
            } = read
            else {
                continue;
            };
            let Some(kept) = selection.holding(segment.src, segment.dst, frame.ts) else {
                continue;
            };
            if !kept.takes_every_frame() {
                let taken = samples.entry((kept.id, segment.src.ip())).or_default();
                if *taken >= HOST_SAMPLES {
                    continue;
                }
                *taken += 1;
            }
            let data = if anonymizer.is_some() || options.blank_payloads {
                rewritten.clear();
                rewritten.extend_from_slice(frame.data);
                match &mut anonymizer {
                    // Anonymising blanks payloads too: they carry names of their own.
                    Some(anonymizer) => anonymizer.frame(link_type, &mut rewritten),
                    None => rewrite::blank_frame_payload(link_type, &mut rewritten),
                }
                &rewritten[..]
            } else {
                frame.data
            };
            let mut comment = format!("rstscope: {name} frame {}, flow {}", frame.number, kept.id);
            if !kept.chosen {
                comment.push_str(" (another flow of a RST's claimed sender, for comparison)");
            }
            if let Some(verdict) = selection.verdicts.get(&(input, frame.number)) {
                comment.push_str("; ");
                comment.push_str(verdict);
            }
            sink.packet(interface, frame.ts, data, frame.wire_len, Some(&comment))
                .map_err(|e| io_failed(out, &e))?;
            exported.frames += 1;
        }
    }
    sink.flush().map_err(|e| io_failed(out, &e))?;
    Ok(exported)
}

/// True when the export's name asks for classic pcap.
pub(crate) fn is_classic_pcap(out: &Path) -> bool {
    out.extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("pcap"))
}

/// The file exported frames go to.
type Sink = SaveFile<BufWriter<File>>;

/// A classic pcap file in the inputs' one link type, with libpcap's defaults for a file it
/// makes (snap length 65,535, nanosecond times).
fn classic_sink(sources: &[FileSource], out: &Path) -> Result<Sink, CaptureError> {
    let dlt = sources.first().map_or(1, FileSource::dlt);
    if let Some(other) = sources.iter().find(|source| source.dlt() != dlt) {
        return Err(CaptureError::CannotWrite {
            path: out.display().to_string(),
            detail: format!(
                "{} has another link type than {}, and a pcap file holds one; name the export .pcapng, or export each file on its own",
                other.name(),
                sources[0].name()
            ),
        });
    }
    let file = File::create(out).map_err(|e| io_failed(out, &e))?;
    SaveFile::pcap(BufWriter::new(file), dlt, 65_535, Precision::Nano)
        .map_err(|e| io_failed(out, &e))
}

/// A pcapng file that names rstscope as its writer.
fn pcapng_sink(out: &Path) -> Result<Sink, CaptureError> {
    let application = format!("rstscope {}", env!("CARGO_PKG_VERSION"));
    let file = File::create(out).map_err(|e| io_failed(out, &e))?;
    SaveFile::pcapng(BufWriter::new(file), &application).map_err(|e| io_failed(out, &e))
}

fn io_failed(out: &Path, err: &std::io::Error) -> CaptureError {
    CaptureError::CannotWrite {
        path: out.display().to_string(),
        detail: err.to_string(),
    }
}
