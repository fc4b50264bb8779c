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
use rstscope_core::report::{
    Report, ReportBuilder, Retain, flow_report, html, jira, markdown, table,
};
use rstscope_core::source::FileSource;
use rstscope_core::{AnalyzeOptions, AnalyzedFlow, RunStats, analyze_with_progress, check_inputs};
use stream::FlowStream;
use view_args::{ColorWhen, NarrowArgs, ViewArgs, table_style};

mod analyze_args;
use analyze_args::*;

mod output;
use output::*;

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
mod compare;
mod help_pages;
mod inputs;
mod progress;
mod ranges;
mod stream;
mod view_args;

#[derive(Debug, Subcommand)]
enum Command {
    /// Analyse capture files (pcap or pcapng) and report every TCP flow that ended in a reset.
    #[command(
        override_usage = "rstscope analyze [OPTIONS] FILE... [FILTER...]
       rstscope analyze [OPTIONS] -r FILE [-r FILE]... [FILTER...]",
        long_about = "Analyse capture files (pcap or pcapng) and report every TCP flow that \
ended in a reset.

Files are read in the order given, as one continuous capture, so the parts of a rotated \
capture (tcpdump -C or -G) continue each other's flows. Frame numbers count from 1 in each \
file, as Wireshark numbers them, so 'frame.number == 42' finds the same packet.

A file may be compressed with gzip, zstd, xz, bzip2 or lz4: it is told by its first bytes, \
not its name, and decompressed as it is read, from a pipe or standard input (`-`) too.

The filter can follow the files, as in tcpdump. With -r FILE (repeat it for more files) \
every word after the options is the filter: `-r x.pcap port 443` is `--filter 'port 443' \
x.pcap`. Without -r the words after the first file are files while they exist; from the \
first that does not, the rest is the filter if it compiles as one (`x.pcap port 443`), \
otherwise that word is reported as a missing file.

By default a table lists the flows that carried a RST segment, followed by a summary of \
what was read and skipped and how flows closed.",
        after_long_help = "EXAMPLES:
    rstscope analyze trace.pcap
    rstscope analyze -r trace.pcap tcp port 443
    rstscope analyze --all capture.pcapng.gz 'tcp port 443'
    rstscope analyze --format json -o report.json rotated0.pcap rotated1.pcap
    rstscope analyze --format jsonl big.pcap | jq 'select(.close == \"rst\")'
    sudo tcpdump -i eth0 -c 10000 -w - | rstscope analyze -

EXIT STATUS:
    0  the report was written
    1  an error stopped the run (missing or unreadable file, not a capture, bad filter, ...)
    2  the command line was wrong
    3  the report was written, but an input was cut off or corrupt partway (see the warning)"
    )]
    Analyze(AnalyzeArgs),
    /// Capture live on an interface and explain every reset as it happens.
    #[command(
        override_usage = "rstscope capture [OPTIONS] IFACE [FILTER...]
       rstscope capture [OPTIONS] -i IFACE [FILTER...]",
        after_long_help = "EXAMPLES:
    sudo rstscope capture eth0 'tcp port 443'
    sudo rstscope capture -i eth0 tcp port 443 -c 1000
    sudo rstscope capture any tcp port 5432 --duration 10m -w evidence.pcap
    sudo rstscope capture eth0 --format jsonl > flows.jsonl

Stop with Ctrl-C (or SIGTERM, --duration, --count, --resets): finished and still-open flows
are analysed and the report is printed. A second Ctrl-C exits at once.
Without root, grant the binary the right once: sudo setcap cap_net_raw,cap_net_admin=eip rstscope"
    )]
    Capture(capture::CaptureArgs),
    /// Compare two captures of the same traffic (say, the client's and the server's) and say
    /// for certain who sent each reset.
    #[command(
        long_about = "Compare two captures of the same traffic (say, the client's and the \
server's, or either side of a firewall) and say for certain who sent each reset.

Flows and packets are matched across the two captures by what no address translation \
changes (IP ID, TCP timestamps, sequence numbers, lengths, flags), so NAT and ISN \
rewriting between the points are found, not in the way. A reset seen at the point nearer \
its claimed sender left that sender; one only the far point saw, while the near point was \
capturing the flow, was made between the points. The second clock is read against the \
first (offset and drift) and every time in the report is on the first capture's clock.",
        after_long_help = "EXAMPLES:
    rstscope compare client.pcap server.pcap
    rstscope compare --format json -o report.json inside.pcapng outside.pcapng
    rstscope compare --format markdown client.pcap server.pcap > ticket.md

EXIT STATUS:
    0  the report was written
    1  an error stopped the run (missing or unreadable file, not a capture, ...)
    2  the command line was wrong
    3  the report was written, but an input was cut off or corrupt partway (see the warning)"
    )]
    Compare(compare::CompareArgs),
    /// List the interfaces rstscope can capture on, like tcpdump -D.
    Interfaces,
    /// Print a shell completion script: bash, zsh, fish, powershell or elvish.
    #[command(after_long_help = "EXAMPLES:
    rstscope completions bash > ~/.local/share/bash-completion/completions/rstscope
    rstscope completions zsh > ~/.zfunc/_rstscope    # with fpath+=(~/.zfunc) in ~/.zshrc
    rstscope completions fish > ~/.config/fish/completions/rstscope.fish

The Debian package installs all three where the shells look for them.")]
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) of rstscope, or of one command (rstscope-analyze).
    #[command(after_long_help = "EXAMPLES:
    rstscope man | man -l -
    rstscope man analyze | man -l -
    rstscope man capture > ~/.local/share/man/man1/rstscope-capture.1

The Debian package installs every page (man rstscope-analyze).")]
    Man {
        /// The command whose page to print: analyze, capture, compare or interfaces.
        #[arg(value_name = "COMMAND")]
        command: Option<String>,
    },
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
        Command::Compare(args) => compare::run_compare(args),
        Command::Interfaces => capture::run_interfaces(),
        Command::Completions { shell } => help_pages::run_completions(shell),
        Command::Man { command } => help_pages::run_man(command.as_deref()),
    }
}

fn run_analyze(config: Config) -> anyhow::Result<Outcome> {
    check_inputs(&config.files, &config.options)?;
    if config.export.is_some() {
        for path in &config.files {
            FileSource::check_rereadable(path, "--export-pcap")?;
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
            colour: config.color.colour(terminal),
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
    let options = ExportOptions {
        anonymize: config.options.anonymize,
        blank_payloads: !config.export_ids.is_empty() && !config.keep_payload,
        input_names: export_input_names(&config.files, config.options.anonymize),
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
