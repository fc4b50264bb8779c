//! The command line: clap's types, checked once into a `Config`, then the run itself.
//!
//! Nothing below this module sees clap. `run` returns what `main` needs to finish: the
//! warnings to print and whether the input was complete.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::flow::FlowConfig;
use crate::pipeline::{AnalyzeOptions, RunStats, analyze, check_inputs};
use crate::report::{self, ReportBuilder, Retain, flow_report, json, table};
use crate::time::Span;

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

    /// Output format: a table for people, a JSON report (schema rstscope.report/1), or JSON
    /// Lines with one flow per line, written as each flow finishes.
    #[arg(short = 'F', long, value_enum, default_value_t = Format::Table)]
    format: Format,

    /// List every TCP flow, not only those with resets (table and json formats).
    #[arg(short, long)]
    all: bool,

    /// Write the output to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    #[command(flatten)]
    flows: FlowArgs,
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

    /// Keep at most this many live flows; beyond it the flow closest to expiring is finished
    /// early and counted in the summary. Bounds memory on floods, scans and long captures.
    #[arg(long, value_name = "N", default_value_t = 1_000_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    max_flows: u64,
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
}

/// A checked `analyze` command.
#[derive(Debug)]
struct Config {
    files: Vec<PathBuf>,
    options: AnalyzeOptions,
    format: Format,
    retain: Retain,
    output: Option<PathBuf>,
}

impl AnalyzeArgs {
    fn into_config(self) -> Config {
        let retain = match (self.format, self.all) {
            (Format::Jsonl, _) => Retain::Nothing,
            (_, true) => Retain::All,
            (Format::Json, false) => Retain::All,
            (Format::Table, false) => Retain::WithResets,
        };
        Config {
            files: self.files,
            options: AnalyzeOptions {
                filter: self.filter,
                flows: self.flows.config(),
            },
            format: self.format,
            retain,
            output: self.output,
        }
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
        Command::Analyze(args) => run_analyze(args.into_config()),
        Command::Capture(args) => capture::run_capture(args),
        Command::Interfaces => capture::run_interfaces(),
    }
}

fn run_analyze(config: Config) -> anyhow::Result<Outcome> {
    check_inputs(&config.files, &config.options)?;
    let terminal = config.output.is_none() && io::stdout().is_terminal();
    let mut out = Output::open(config.output.as_deref())?;
    let mut builder = ReportBuilder::new(config.retain);
    let mut write_error: Option<io::Error> = None;
    let stream_lines = config.format == Format::Jsonl;
    let stats = analyze(&config.files, &config.options, &mut |flow| {
        let report = flow_report(&flow);
        if stream_lines
            && write_error.is_none()
            && let Err(err) = json::write_flow_line(&report, &mut out.writer)
        {
            write_error = Some(err);
        }
        builder.add(report);
    })?;
    if let Some(err) = write_error {
        return Err(out.failed(err));
    }
    finish_output(config.format, builder, &stats, terminal, &mut out)
}

/// Writes the final report in `format` (JSON Lines were streamed already) and says how the
/// run went.
fn finish_output(
    format: Format,
    builder: ReportBuilder,
    stats: &RunStats,
    terminal: bool,
    out: &mut Output,
) -> anyhow::Result<Outcome> {
    let report = builder.finish(stats);
    let written = match format {
        Format::Table => {
            table::write_table(&report, table::TableStyle { terminal }, &mut out.writer)
        }
        Format::Json => json::write_report(&report, &mut out.writer),
        Format::Jsonl => Ok(()),
    };
    written
        .and_then(|()| out.writer.flush())
        .map_err(|err| out.failed(err))?;
    Ok(Outcome {
        complete: stats.inputs.iter().all(|input| input.broken.is_none()),
        warnings: report::warnings(stats),
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
