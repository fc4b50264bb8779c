//! The command line: clap's types, checked once into a `Config`, then the run itself.
//!
//! Nothing below this module sees clap. `run` returns what `main` needs to finish: the
//! warnings to print and whether the input was complete.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

use progress::Progress;
use rstscope_core::FlowConfig;
use rstscope_core::Span;
use rstscope_core::anonymization::{self, AnonymizeKey, Anonymizer};
use rstscope_core::evidence::{ExportOptions, FlowSelection, export_pcap};
use rstscope_core::report::view::View;
use rstscope_core::report::{ReportBuilder, Retain, flow_report, html, jira, markdown, table};
use rstscope_core::source::FileSource;
use rstscope_core::{AnalyzeOptions, AnalyzedFlow, RunStats, analyze_with_progress, check_inputs};
use stream::FlowStream;
use view_args::{NarrowArgs, ViewArgs, table_style};

const ABOUT: &str = "Who really reset this TCP connection, and why?";

const LONG_ABOUT: &str = "\
rstscope reads packet captures, rebuilds every TCP flow in both directions, tells connections \
closed by FIN from those closed by RST, and lists every reset with the facts needed to tell who \
sent it: the frame number, time, direction, sequence numbers, TTL and IP ID.

Flow states and histories use Zeek's conn_state and history codes, so anyone who knows Zeek's \
conn.log can read them.";

const EXIT_STATUS: &str = "\
EXIT STATUS:
    0  the report was written
    1  an error stopped the run (missing or unreadable file, not a capture, bad filter, ...)
    2  the command line was wrong
    3  the report was written, but an input was cut off or corrupt partway (see the warning)";

#[derive(Debug, Parser)]
#[command(name = "rstscope", version, about = ABOUT, long_about = LONG_ABOUT,
          after_long_help = EXIT_STATUS, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

mod capture;
mod progress;
mod stream;
mod view_args;

#[derive(Debug, Subcommand)]
enum Command {
    /// Analyse capture files (pcap or pcapng) and report every TCP flow that ended in a reset.
    #[command(
        long_about = "Analyse capture files (pcap or pcapng) and report every TCP flow that \
ended in a reset.

Files are read in the order given, as one continuous capture, so the parts of a rotated \
capture (tcpdump -C or -G) continue each other's flows. Frame numbers count from 1 in each \
file, as Wireshark numbers them, so 'frame.number == 42' finds the same packet.

By default a table lists the flows that carried a RST segment, followed by a summary of \
what was read and skipped and how flows closed.",
        after_long_help = "EXAMPLES:
    rstscope analyze trace.pcap
    rstscope analyze --all --filter 'tcp port 443' trace.pcapng
    rstscope analyze --format json -o report.json rotated0.pcap rotated1.pcap
    rstscope analyze --format jsonl big.pcap | jq 'select(.close == \"rst\")'

EXIT STATUS:
    0  the report was written
    1  an error stopped the run (missing or unreadable file, not a capture, bad filter, ...)
    2  the command line was wrong
    3  the report was written, but an input was cut off or corrupt partway (see the warning)"
    )]
    Analyze(AnalyzeArgs),
    /// Capture live on an interface and explain every reset as it happens.
    #[command(after_long_help = "EXAMPLES:
    sudo rstscope capture eth0 'tcp port 443'
    sudo rstscope capture any tcp port 5432 --duration 10m -w evidence.pcap
    sudo rstscope capture eth0 --format jsonl > flows.jsonl

Stop with Ctrl-C (or SIGTERM, --duration, --count, --resets): finished and still-open flows
are analysed and the report is printed. A second Ctrl-C exits at once.
Without root, grant the binary the right once: sudo setcap cap_net_raw,cap_net_admin=eip rstscope")]
    Capture(capture::CaptureArgs),
    /// List the interfaces rstscope can capture on, like tcpdump -D.
    Interfaces,
}

#[derive(Debug, Args)]
struct AnalyzeArgs {
    /// Capture files to read, in order (pcap or pcapng, any link type rstscope decodes).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,

    /// Only analyse frames that match this BPF filter (tcpdump syntax, e.g. 'tcp port 443').
    #[arg(short, long, value_name = "EXPR")]
    filter: Option<String>,

    /// Output format. table: the diagnosis, then up to 40 resets and a summary, fitted to
    /// the terminal (100 columns in a pipe or file). json: one report (schema
    /// rstscope.report/1) with every flow. jsonl: one flow per line as each finishes, then
    /// one summary record. markdown: a ticket comment for GitHub or GitLab. jira: the same in
    /// Jira wiki markup (Jira, Confluence, ServiceNow). html: one self-contained page with
    /// ladder diagrams and a timeline (use -o report.html).
    #[arg(short = 'F', long, value_enum, default_value_t = Format::Table)]
    format: Format,

    /// List every TCP flow, FIN-closed ones too, and in the table, Markdown, Jira and HTML
    /// every reset flow in full instead of a bounded selection after the diagnosis.
    #[arg(short, long)]
    all: bool,

    /// Write the output to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    /// No progress bar (it is shown only on a terminal, for inputs over 8 MB).
    #[arg(short, long)]
    quiet: bool,

    /// Also write the packets of every flow that carried a reset (or of the --flow IDs), and
    /// the other packets of their hosts that the verdicts compared them with, to FILE: pcapng
    /// in which every packet's comment names its original file and frame, and every RST's
    /// its verdict, confidence and scenario (Wireshark: frame.comment). A name ending in
    /// .pcap writes classic pcap, without comments.
    #[arg(long, value_name = "FILE")]
    export_pcap: Option<PathBuf>,

    /// The flow (by its id in the report) to export with --export-pcap: that flow and only
    /// the comparison packets its verdicts used, payloads blanked (see --keep-payload);
    /// repeat for more.
    #[arg(long = "flow", value_name = "ID", requires = "export_pcap")]
    flow_ids: Vec<u64>,

    /// With --export-pcap: keep the packets' payload bytes. Without it, a --flow export
    /// replaces payloads with zeros (lengths and checksums kept consistent), so the
    /// attachment carries the TCP evidence and not the data.
    #[arg(long, requires = "export_pcap")]
    keep_payload: bool,

    #[command(flatten)]
    view: ViewArgs,

    #[command(flatten)]
    narrow: NarrowArgs,

    #[command(flatten)]
    anonymize: AnonymizeArgs,

    #[command(flatten)]
    flows: FlowArgs,
}

/// Address anonymisation, shared by `analyze` and `capture`.
#[derive(Debug, Args)]
pub(super) struct AnonymizeArgs {
    /// Replace every IP address (and link-layer address) consistently in every output,
    /// prefix-preserving (Crypto-PAn), so subnets and hop structure stay readable; ports and
    /// TCP details stay. Without --anonymize-key a random key is made and printed to stderr.
    #[arg(long)]
    anonymize: bool,

    /// The anonymisation key, 64 hex digits: the same key maps addresses the same way every
    /// time. Implies --anonymize.
    #[arg(long, value_name = "HEX")]
    anonymize_key: Option<String>,
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
struct FlowArgs {
    /// Finish a flow after this many seconds without a segment. The default (3 hours) outlasts
    /// the 2-hour TCP keepalive default and the idle timeouts of common firewalls and load
    /// balancers, so the silence before an idle-timeout reset stays inside one flow.
    #[arg(long, value_name = "SECS", default_value_t = 10_800,
          value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout: u64,

    /// Keep at most this many live flows (about 1 KB each); beyond it the flow closest to
    /// expiring (the oldest idle one) is finished early and counted in the summary. Bounds
    /// memory on floods, scans and long captures.
    #[arg(long, value_name = "N", default_value_t = 250_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    max_flows: u64,

    /// Table, Markdown and HTML reports list at most this many flows, the most recently
    /// finished (all are counted in the summary; JSON lists every one), so a flood or a
    /// capture left running for days keeps a bounded report in memory.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    report_flows: usize,
}

impl FlowArgs {
    fn config(&self) -> FlowConfig {
        FlowConfig {
            idle_timeout: Span::from_secs(self.idle_timeout),
            max_flows: usize::try_from(self.max_flows).unwrap_or(usize::MAX),
            ..FlowConfig::default()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Table,
    Json,
    Jsonl,
    Markdown,
    Jira,
    Html,
}

impl Format {
    /// Which flows the final report keeps.
    fn retain(self, all: bool) -> Retain {
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
struct Config {
    files: Vec<PathBuf>,
    options: AnalyzeOptions,
    format: Format,
    retain: Retain,
    output: Option<PathBuf>,
    export: Option<PathBuf>,
    export_ids: Vec<u64>,
    keep_payload: bool,
    quiet: bool,
    report_flows: usize,
    view: View,
    narrowing: rstscope_core::report::Narrowing,
}

impl AnalyzeArgs {
    fn into_config(self) -> anyhow::Result<Config> {
        let anonymize = self.anonymize.key()?;
        Ok(Config {
            view: self.view.view(self.all),
            narrowing: self.narrow.narrowing(anonymize),
            options: AnalyzeOptions {
                filter: self.filter,
                flows: self.flows.config(),
                anonymize,
                one_thread: false,
            },
            files: self.files,
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

/// What a successful run leaves for `main` to say.
#[derive(Debug, Default)]
pub struct Outcome {
    pub warnings: Vec<String>,
    /// True when every input was read to its end.
    pub complete: bool,
}

/// Parses the command line and runs it.
pub fn run() -> anyhow::Result<Outcome> {
    match Cli::parse().command {
        Command::Analyze(args) => run_analyze(args.into_config()?),
        Command::Capture(args) => capture::run_capture(args),
        Command::Interfaces => capture::run_interfaces(),
    }
}

fn run_analyze(config: Config) -> anyhow::Result<Outcome> {
    check_inputs(&config.files, &config.options)?;
    if config.export.is_some() {
        for path in &config.files {
            FileSource::check_rereadable(path)?;
        }
    }
    let terminal = config.output.is_none() && io::stdout().is_terminal();
    let mut out = Output::open(config.output.as_deref())?;
    let command = command_line(config.options.anonymize, &config.files);
    let anonymized = config.options.anonymize.is_some();
    let mut stream = FlowStream::start(config.format, &command, anonymized, &mut out.writer)
        .map_err(|err| out.failed(err))?;
    let mut builder = ReportBuilder::new(config.retain)
        .listing_at_most(config.report_flows)
        .made_by(command, anonymized)
        .narrowed_to(config.narrowing.clone());
    let mut write_error: Option<io::Error> = None;
    let mut selection = FlowSelection::new(&config.export_ids);
    let mut flows_total = 0;
    let mut on_flow = |flow: AnalyzedFlow| {
        flows_total += 1;
        if config.export.is_some() {
            selection.consider(&flow);
        }
        if !flow.flow.selected {
            builder.skip_unselected();
            return;
        }
        let report = flow_report(&flow);
        if write_error.is_none()
            && builder.admits(&report)
            && let Err(err) = stream.flow(&report, &mut out.writer)
        {
            write_error = Some(err);
        }
        builder.add(report);
    };
    let mut progress =
        Progress::for_inputs(&config.files, config.quiet, io::stderr().is_terminal());
    let stats = analyze_with_progress(
        &config.files,
        &config.options,
        &mut on_flow,
        &mut |input, frames, bytes| {
            if let Some(progress) = &mut progress {
                progress.tick(input, frames, bytes);
            }
        },
    )?;
    if let Some(progress) = &mut progress {
        progress.finish();
    }
    if let Some(err) = write_error {
        return Err(out.failed(err));
    }
    let mut outcome = finish_output(
        config.format,
        builder,
        stream,
        &stats,
        Look {
            terminal,
            view: config.view,
        },
        &mut out,
    )?;
    if let Some(path) = &config.export {
        outcome.warnings.extend(write_export(
            &config,
            selection.with_context(),
            flows_total,
            path,
        )?);
    }
    Ok(outcome)
}

/// `--export-pcap`: the second read of the inputs; returns warnings (ids that matched no flow).
fn write_export(
    config: &Config,
    selection: FlowSelection,
    flows_seen: u64,
    path: &Path,
) -> anyhow::Result<Vec<String>> {
    let missing = selection.missing_ids(flows_seen);
    if !missing.is_empty() && missing.len() == config.export_ids.len() {
        anyhow::bail!(
            "--flow {}: no such flow (this capture has flows 1 to {flows_seen}); take the ids from the report",
            missing
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let anonymized = config.options.anonymize.is_some();
    let options = ExportOptions {
        anonymize: config.options.anonymize,
        blank_payloads: !config.export_ids.is_empty() && !config.keep_payload,
        input_names: config
            .files
            .iter()
            .enumerate()
            .map(|(index, path)| {
                let path = path.display().to_string();
                if anonymized {
                    rstscope_core::anonymization::input_name(index, &path)
                } else {
                    rstscope_core::report::view::display_path(&path)
                }
            })
            .collect(),
    };
    let exported = export_pcap(&config.files, &selection, &options, path)?;
    let _ = writeln!(
        io::stderr(),
        "rstscope: exported {} frames to {} ({} with resets or chosen, and other flows of the hosts that sent their resets)",
        exported.frames,
        path.display(),
        if exported.flows == 1 {
            "1 flow".to_string()
        } else {
            format!("{} flows", exported.flows)
        }
    );
    Ok(missing
        .iter()
        .map(|id| format!("--flow {id}: no such flow, nothing exported for it"))
        .collect())
}

/// Options whose value names a file the report writes.
const OUTPUT_OPTIONS: [&str; 4] = ["-o", "--output", "--export-pcap", "-w"];

/// The command line as a user could type it again: `rstscope` and the arguments,
/// shell-quoted, the anonymisation key left out. When anonymising, addresses are anonymised,
/// the inputs named as the report names them (`input1.pcap`) and output files `output.EXT`.
pub(super) fn command_line(anonymize: Option<AnonymizeKey>, inputs: &[PathBuf]) -> String {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    let mut words = vec!["rstscope".to_string()];
    let mut next_is: Option<&str> = None;
    for arg in &args {
        let word = match next_is.take() {
            Some("key") => "KEY".to_string(),
            Some(_) if anonymize.is_some() => output_name(arg),
            _ if arg == "--anonymize-key" => {
                next_is = Some("key");
                arg.clone()
            }
            _ if arg.starts_with("--anonymize-key=") => "--anonymize-key=KEY".to_string(),
            _ if OUTPUT_OPTIONS.contains(&arg.as_str()) => {
                next_is = Some("output");
                arg.clone()
            }
            _ if anonymize.is_some() => match arg.split_once('=') {
                Some((option, value)) if OUTPUT_OPTIONS.contains(&option) => {
                    format!("{option}={}", output_name(value))
                }
                _ => match inputs.iter().position(|p| p.as_os_str() == arg.as_str()) {
                    Some(index) => rstscope_core::anonymization::input_name(index, arg),
                    None => arg.clone(),
                },
            },
            _ => arg.clone(),
        };
        words.push(shell_quote(&word));
    }
    let line = words.join(" ");
    match anonymize {
        Some(key) => Anonymizer::new(&key).text(&line),
        None => line,
    }
}

/// An output file's name in an anonymised command line: `output.html`.
fn output_name(path: &str) -> String {
    match Path::new(path).extension() {
        Some(ext) => format!("output.{}", ext.to_string_lossy()),
        None => "output".to_string(),
    }
}

/// A word as a POSIX shell reads it back.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// How the people-facing formats are to look.
#[derive(Debug, Clone, Copy)]
struct Look {
    /// The report goes to a terminal.
    terminal: bool,
    view: View,
}

/// Writes the final report in `format` (or, for the streamed JSON formats, what remains of
/// it) and says how the run went.
fn finish_output(
    format: Format,
    builder: ReportBuilder,
    stream: FlowStream,
    stats: &RunStats,
    look: Look,
    out: &mut Output,
) -> anyhow::Result<Outcome> {
    let report = builder.finish(stats);
    let mut view = look.view;
    view.origin_ns = stats
        .inputs
        .iter()
        .filter_map(|input| input.first_ts)
        .map(|ts| ts.0)
        .min();
    let written = match format {
        Format::Table => {
            table::write_table(&report, table_style(look.terminal), &view, &mut out.writer)
        }
        Format::Json | Format::Jsonl => stream.finish(&report, &mut out.writer),
        Format::Markdown => markdown::write_markdown(&report, &view, &mut out.writer),
        Format::Jira => jira::write_jira(&report, &view, &mut out.writer),
        Format::Html => html::write_html(&report, &view, &mut out.writer),
    };
    written
        .and_then(|()| out.writer.flush())
        .map_err(|err| out.failed(err))?;
    Ok(Outcome {
        complete: stats.inputs.iter().all(|input| input.broken.is_none()),
        warnings: report.warnings,
    })
}

/// Where the output goes, and its name for error messages.
struct Output {
    writer: Box<dyn Write>,
    name: String,
}

impl Output {
    /// Standard output, or a new file (created only once the inputs are known to be good).
    fn open(path: Option<&Path>) -> anyhow::Result<Output> {
        let Some(path) = path else {
            return Ok(Output {
                writer: Box::new(BufWriter::new(io::stdout().lock())),
                name: "standard output".to_string(),
            });
        };
        let file = File::create(path).map_err(|err| {
            let reason = err.to_string();
            anyhow::Error::new(err).context(format!(
                "{}: cannot create the output file ({reason}); check that its directory exists and is writable",
                path.display()
            ))
        })?;
        Ok(Output {
            writer: Box::new(BufWriter::new(file)),
            name: path.display().to_string(),
        })
    }

    /// The error for a failed write, naming the output and what to do. A closed pipe keeps
    /// its io::Error underneath, so `main` can treat it as success.
    fn failed(&self, err: io::Error) -> anyhow::Error {
        let reason = err.to_string();
        anyhow::Error::new(err).context(format!(
            "{}: cannot write the output ({reason}); free some space or write elsewhere with -o FILE",
            self.name
        ))
    }
}
