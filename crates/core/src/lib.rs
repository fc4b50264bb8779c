//! rstscope-core: who really reset this TCP connection, and why?
//!
//! The stages, data moving one way (`docs/architecture.md` draws them):
//!
//! ```text
//! source (file, live) → Reader (decode, anonymise, count) → Analyzer (flows, baselines,
//! attribution) → AnalyzedFlow → report (ReportBuilder) → renderers (table, JSON, ...)
//! ```
//!
//! The API is small: open a [`source`], read it with a [`Reader`], feed an [`Analyzer`] (or
//! let [`analyze`] do both for capture files), build a [`report::Report`] from the flows, and
//! render it. Everything else is private to the crate.
//!
//! ```no_run
//! use rstscope_core::{AnalyzeOptions, analyze, report::{ReportBuilder, Retain, flow_report}};
//!
//! let mut builder = ReportBuilder::new(Retain::WithResets);
//! let stats = analyze(&["trace.pcap".into()], &AnalyzeOptions::default(), &mut |flow| {
//!     builder.add(flow_report(&flow));
//! })?;
//! let report = builder.finish(&stats);
//! println!("{} flows, {} resets", report.summary.tcp_flows, report.summary.resets);
//! # Ok::<(), rstscope_core::source::CaptureError>(())
//! ```

mod analyzer;
mod anonymize;
mod attribution;
mod capture;
mod compare;
mod decode;
mod export;
mod flow;
pub mod kernel;
mod link;
mod pipeline;
mod reading;
pub mod report;
pub mod savefile;
mod tcp;
mod time;
pub mod wire;

pub use analyzer::{AnalyzedFlow, Analyzer, AnalyzerConfig, FinishAll, Finished};
pub use attribution::{Attribution, Evidence, Scenario, Signal, Verdict, apply_kernel};
pub use compare::compare;
pub use decode::{Checksum, IpFacts, Mac, Neighbour, Segment, TcpOptions};
pub use flow::{Close, Flow, FlowConfig, FrameRef, Reset};
pub use pipeline::{AnalyzeOptions, RunStats, analyze, analyze_with_progress, check_inputs};
pub use reading::{Content, InputStats, Read, Reader};
pub use tcp::{Flags, SeqNum};
pub use time::{Span, Timestamp};

/// Where frames come from: capture files and live interfaces, through libpcap.
pub mod source {
    pub use crate::capture::compression::compression_of;
    pub use crate::capture::live::interfaces;
    pub use crate::capture::{
        CaptureError, Drops, FileSource, Frame, LinkType, LiveOptions, LiveSource, NextFrame,
        Source, check_filter,
    };
}

/// `--anonymize`: Crypto-PAn keys, the anonymiser, and the names inputs get.
pub mod anonymization {
    pub use crate::anonymize::cryptopan::{key_to_hex, parse_key, random_key};
    pub use crate::anonymize::{AnonymizeKey, Anonymizer, input_name};
}

/// `--export-pcap`: the evidence for a ticket, small.
pub mod evidence {
    pub use crate::export::{ExportOptions, Exported, FlowSelection, export_pcap};
}

/// Entry points for the fuzz targets (`fuzz/`, built with `--cfg fuzzing`, and replayed by the
/// binary's tests with feature `testing`): the decoder and the frame rewriter, below the API.
#[cfg(any(fuzzing, feature = "testing"))]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::anonymize::rewrite::rewrite_frame;
    pub use crate::decode::{Captured, Decoded, decode, ip_header_offsets};
}

/// Segment builders for unit tests, here and in the binary's (feature `testing`).
#[cfg(any(test, feature = "testing"))]
#[doc(hidden)]
pub mod testing;
