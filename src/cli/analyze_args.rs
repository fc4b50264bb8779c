//! `rstscope analyze`'s options, as clap reads them, checked once into a `Config`: which
//! words are files and which a filter (`inputs`), and the rest.

use std::ffi::OsString;

use super::ranges::Bounded;
use super::*;

#[derive(Debug, Args)]
pub(super) struct AnalyzeArgs {
    /// Capture files to read, in order: pcap or pcapng, plain or compressed (gzip, zstd, xz,
    /// bzip2, lz4), `-` for standard input. The words after them that are no files and make a
    /// filter together are the filter, as in tcpdump: x.pcap port 443. With -r every word
    /// here is the filter.
    #[arg(value_name = "FILE", required_unless_present = "read")]
    pub(super) words: Vec<OsString>,

    /// Read this capture file (`-`: standard input), as tcpdump -r does; repeat for more.
    /// The words after the options are then a BPF filter: -r x.pcap tcp port 443.
    #[arg(short = 'r', long = "read", value_name = "FILE")]
    pub(super) read: Vec<PathBuf>,

    /// List only the flows with a frame that matches this BPF filter (tcpdump syntax, e.g.
    /// 'tcp port 443'); or give it as the words after the files.
    #[arg(short, long, value_name = "EXPR")]
    pub(super) filter: Option<String>,

    /// Output format. table: the diagnosis, then up to 40 resets and a summary, fitted to
    /// the terminal (100 columns in a pipe or file). json: one report (schema
    /// rstscope.report/1) with every flow. jsonl: one flow per line as each finishes, then
    /// one summary record. markdown: a ticket comment for GitHub or GitLab. jira: the same in
    /// Jira wiki markup (Jira, Confluence, ServiceNow). html: one self-contained page with
    /// ladder diagrams and a timeline (use -o report.html).
    #[arg(short = 'F', long, value_enum, default_value_t = Format::Table)]
    pub(super) format: Format,

    /// List every TCP flow, FIN-closed ones too, and in the table, Markdown, Jira and HTML
    /// every reset flow in full instead of a bounded selection after the diagnosis.
    #[arg(short, long)]
    pub(super) all: bool,

    /// Write the output to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub(super) output: Option<PathBuf>,

    /// No progress bar (it is shown only on a terminal, for inputs over 8 MB, or 64 KB
    /// compressed).
    #[arg(short, long)]
    pub(super) quiet: bool,

    /// Also write the packets of every flow that carried a reset (or of the --flow IDs), and
    /// the other packets of their hosts that the verdicts compared them with, to FILE: pcapng
    /// in which every packet's comment names its original file and frame, and every RST's
    /// its verdict, confidence and scenario (Wireshark: frame.comment). A name ending in
    /// .pcap writes classic pcap, without comments.
    #[arg(long, value_name = "FILE")]
    pub(super) export_pcap: Option<PathBuf>,

    /// The flow (by its id in the report) to export with --export-pcap: that flow and only
    /// the comparison packets its verdicts used, payloads blanked (see --keep-payload);
    /// repeat for more.
    #[arg(long = "flow", value_name = "ID", requires = "export_pcap")]
    pub(super) flow_ids: Vec<u64>,

    /// With --export-pcap: keep the packets' payload bytes. Without it, a --flow export
    /// replaces payloads with zeros (lengths and checksums kept consistent), so the
    /// attachment carries the TCP evidence and not the data.
    #[arg(long, requires = "export_pcap")]
    pub(super) keep_payload: bool,

    #[command(flatten)]
    pub(super) view: ViewArgs,

    #[command(flatten)]
    pub(super) narrow: NarrowArgs,

    #[command(flatten)]
    pub(super) anonymize: AnonymizeArgs,

    #[command(flatten)]
    pub(super) flows: FlowArgs,
}

/// Address anonymisation, shared by `analyze` and `capture`.
#[derive(Debug, Args)]
pub(super) struct AnonymizeArgs {
    /// Replace every IP address (and link-layer address) consistently in every output,
    /// prefix-preserving (Crypto-PAn), so subnets and hop structure stay readable; ports and
    /// TCP details stay. Without --anonymize-key a random key is made and printed to stderr.
    #[arg(long)]
    pub(super) anonymize: bool,

    /// The anonymisation key, 64 hex digits: the same key maps addresses the same way every
    /// time. Implies --anonymize.
    #[arg(long, value_name = "HEX")]
    pub(super) anonymize_key: Option<String>,
}

impl AnonymizeArgs {
    /// The key to anonymise with, if anonymising; a new random key is announced on stderr.
    pub(super) fn key(&self) -> anyhow::Result<Option<AnonymizeKey>> {
        if let Some(text) = &self.anonymize_key {
            let key = anonymization::parse_key(text).map_err(|why| anyhow::anyhow!("{why}"))?;
            return Ok(Some(AnonymizeKey(key)));
        }
        if !self.anonymize {
            return Ok(None);
        }
        let key = anonymization::random_key().map_err(|err| {
            anyhow::anyhow!(
                "cannot read a random key from /dev/urandom ({err}); give one with --anonymize-key HEX"
            )
        })?;
        let _ = writeln!(
            io::stderr(),
            "rstscope: anonymising with key {} (keep it: --anonymize-key with it maps the same addresses the same way)",
            anonymization::key_to_hex(&key)
        );
        Ok(Some(AnonymizeKey(key)))
    }
}

/// Flow-table limits, shared by `analyze` and `capture`.
#[derive(Debug, Args)]
pub(super) struct FlowArgs {
    /// Finish a flow after this many seconds without a segment. The default (3 hours) outlasts
    /// the 2-hour TCP keepalive default and the idle timeouts of common firewalls and load
    /// balancers, so the silence before an idle-timeout reset stays inside one flow.
    #[arg(long, value_name = "SECS", default_value_t = 10_800,
          value_parser = Bounded::<u64>::at_least(1, "second").parser())]
    pub(super) idle_timeout: u64,

    /// Keep at most this many live flows (about 1 KB each); beyond it the flow closest to
    /// expiring (the oldest idle one) is finished early and counted in the summary. Bounds
    /// memory on floods, scans and long captures.
    #[arg(long, value_name = "N", default_value_t = 250_000,
          value_parser = Bounded::<u64>::at_least(1, "flow").parser())]
    pub(super) max_flows: u64,

    /// Table, Markdown and HTML reports list at most this many flows, the most recently
    /// finished (all are counted in the summary; JSON lists every one), so a flood or a
    /// capture left running for days keeps a bounded report in memory.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub(super) report_flows: usize,
}

impl FlowArgs {
    pub(super) fn config(&self) -> FlowConfig {
        FlowConfig {
            idle_timeout: Span::from_secs(self.idle_timeout),
            max_flows: usize::try_from(self.max_flows).unwrap_or(usize::MAX),
            ..FlowConfig::default()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Format {
    Table,
    Json,
    Jsonl,
    Markdown,
    Jira,
    Html,
}

impl Format {
    /// Which flows the final report keeps.
    pub(super) fn retain(self, all: bool) -> Retain {
        match (self, all) {
            // Both JSON formats stream every flow as it finishes.
            (Format::Jsonl | Format::Json, _) => Retain::Nothing,
            (_, true) => Retain::All,
            (Format::Table | Format::Markdown | Format::Jira | Format::Html, false) => {
                Retain::WithResets
            }
        }
    }
}

/// A checked `analyze` command.
#[derive(Debug)]
pub(super) struct Config {
    pub(super) files: Vec<PathBuf>,
    pub(super) options: AnalyzeOptions,
    pub(super) format: Format,
    pub(super) retain: Retain,
    pub(super) output: Option<PathBuf>,
    pub(super) export: Option<PathBuf>,
    pub(super) export_ids: Vec<u64>,
    pub(super) keep_payload: bool,
    pub(super) quiet: bool,
    pub(super) report_flows: usize,
    pub(super) view: View,
    pub(super) color: ColorWhen,
    pub(super) narrowing: rstscope_core::report::Narrowing,
}

impl AnalyzeArgs {
    pub(super) fn into_config(self) -> anyhow::Result<Config> {
        let (files, filter) = super::inputs::files_and_filter(self.read, self.words, self.filter)?;
        let anonymize = self.anonymize.key()?;
        Ok(Config {
            view: self.view.view(self.all),
            color: self.view.color(),
            narrowing: self.narrow.narrowing(anonymize),
            options: AnalyzeOptions {
                filter,
                flows: self.flows.config(),
                anonymize,
                one_thread: false,
            },
            files,
            retain: self.format.retain(self.all),
            format: self.format,
            output: self.output,
            export: self.export_pcap,
            export_ids: self.flow_ids,
            keep_payload: self.keep_payload,
            quiet: self.quiet,
            report_flows: self.flows.report_flows,
        })
    }
}
