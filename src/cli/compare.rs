//! `rstscope compare A B`: two captures of the same traffic, one report.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;

use super::stream::FlowStream;
use super::view_args::{NarrowArgs, ViewArgs};
use super::{
    AnonymizeArgs, FlowArgs, Format, Look, Outcome, Output, command_line, export_input_names,
    write_report,
};
use rstscope_core::evidence::{ExportOptions, FlowSelection, export_pcap};
use rstscope_core::report::{ReportBuilder, Retain};
use rstscope_core::source::FileSource;
use rstscope_core::{AnalyzeOptions, check_inputs};

#[derive(Debug, Args)]
pub(super) struct CompareArgs {
    /// The two captures, in any order: the same traffic seen at two points (the client's
    /// host and the server's, or either side of a firewall). Times in the report are on the
    /// first one's clock.
    #[arg(required = true, num_args = 2, value_name = "FILE")]
    files: Vec<PathBuf>,

    /// Output format, as for analyze (jsonl: one flow per line, then the summary).
    #[arg(short = 'F', long, value_enum, default_value_t = Format::Table)]
    format: Format,

    /// List every TCP flow, FIN-closed ones too.
    #[arg(short, long)]
    all: bool,

    /// Write the output to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Also write the packets of every flow that carried a reset, from both captures, to
    /// FILE: pcapng with one interface per capture, every packet's comment naming its file,
    /// frame and flow, and every RST's the two-capture verdict (a name ending in .pcap gives
    /// classic pcap, without comments, when both captures share a link type).
    #[arg(long, value_name = "FILE")]
    export_pcap: Option<PathBuf>,

    #[command(flatten)]
    view: ViewArgs,

    #[command(flatten)]
    narrow: NarrowArgs,

    #[command(flatten)]
    anonymize: AnonymizeArgs,

    #[command(flatten)]
    flows: FlowArgs,
}

pub(super) fn run_compare(args: CompareArgs) -> anyhow::Result<Outcome> {
    let anonymize = args.anonymize.key()?;
    let options = AnalyzeOptions {
        filter: None,
        flows: args.flows.config(),
        anonymize,
        one_thread: false,
    };
    // Each capture is analysed, then read again for its packets (and once more for an export).
    for path in &args.files {
        FileSource::check_rereadable(path, "compare")?;
    }
    check_inputs(&args.files, &options)?;
    let terminal = args.output.is_none() && io::stdout().is_terminal();
    let mut out = Output::open(args.output.as_deref())?;
    let command = command_line(anonymize, &args.files);
    // Every format gets the whole report at the end: the flows are merged only then.
    let retain = match args.format {
        Format::Json | Format::Jsonl => Retain::All,
        other => other.retain(args.all),
    };
    // JSON lists every flow, as analyze's does (the flows are in memory here anyway).
    let listed = match args.format {
        Format::Json | Format::Jsonl => usize::MAX,
        _ => args.flows.report_flows,
    };
    let builder = ReportBuilder::new(retain)
        .listing_at_most(listed)
        .made_by(command.clone(), anonymize.is_some())
        .narrowed_to(args.narrow.narrowing(anonymize));
    let mut selection = args.export_pcap.as_ref().map(|_| FlowSelection::new(&[]));
    let report = rstscope_core::compare(
        [&args.files[0], &args.files[1]],
        &options,
        builder,
        selection.as_mut(),
    )?;
    let mut view = args.view.view(args.all);
    view.origin_ns = report
        .flows
        .iter()
        .flat_map(|flow| flow.resets.iter().map(|reset| reset.at_ns))
        .min();
    // The flows are known only now: the JSON formats get them all at once.
    let mut stream = FlowStream::start(args.format, &command, anonymize.is_some(), &mut out.writer)
        .map_err(|err| out.failed(err))?;
    for flow in &report.flows {
        stream
            .flow(flow, &mut out.writer)
            .map_err(|err| out.failed(err))?;
    }
    write_report(
        args.format,
        &report,
        stream,
        Look {
            terminal,
            colour: args.view.color().colour(terminal),
            view,
        },
        &mut out,
    )?;
    if let (Some(path), Some(selection)) = (&args.export_pcap, selection) {
        let export = ExportOptions {
            anonymize,
            blank_payloads: false,
            input_names: export_input_names(&args.files, anonymize),
        };
        let exported = export_pcap(&args.files, &selection.with_context(), &export, path)?;
        let _ = writeln!(
            io::stderr(),
            "rstscope: exported {} frames of {} flow{} from both captures to {}",
            exported.frames,
            exported.flows,
            if exported.flows == 1 { "" } else { "s" },
            path.display()
        );
    }
    Ok(Outcome {
        complete: report.inputs.iter().all(|input| input.complete),
        warnings: report.warnings,
    })
}
