//! `rstscope capture IFACE [FILTER...]`: live capture, one line per reset as soon as it is
//! attributed, and the full report when the capture stops (Ctrl-C, SIGTERM, --duration,
//! --count, --resets). A second Ctrl-C exits at once.

use std::collections::{HashMap, VecDeque};
use std::io::{self, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Args;

use super::ranges::Bounded;
use super::stream::FlowStream;
use super::view_args::{NarrowArgs, ViewArgs};
use super::{FlowArgs, Format, Look, Outcome, Output, finish_output};
use rstscope_core::anonymization::{AnonymizeKey, Anonymizer};
use rstscope_core::report::view::View;
use rstscope_core::report::{ReportBuilder, flow_report, line};
use rstscope_core::savefile::Recorder;
use rstscope_core::source::{self, LiveOptions, LiveSource, Source};
use rstscope_core::{
    AnalyzedFlow, Analyzer, AnalyzerConfig, Attribution, Close, Content, FlowConfig, FrameRef,
    InputStats, Read, Reader, RunStats, Scenario, Segment, Signal, Span, Timestamp, Verdict,
};

mod kernel_tap;
#[cfg(target_os = "linux")]
mod privilege;
#[cfg(target_os = "linux")]
mod sockets;
mod watcher;
use kernel_tap::Tracing;
use watcher::*;

/// How long after a RST its flow is watched before the reset is announced (races show up
/// within this time; the line still comes well under two seconds after the packet).
const ANNOUNCE_AFTER: Span = Span(1_000_000_000);

/// Ctrl-C / SIGTERM presses so far.
static STOP_REQUESTS: AtomicUsize = AtomicUsize::new(0);
/// When the first came, in milliseconds from the handler's installation.
static FIRST_STOP_MS: AtomicU64 = AtomicU64::new(0);
/// Requests this close to the first are the same one (a Ctrl-C reaches rstscope from the
/// terminal and again through its guardian).
const SAME_REQUEST_MS: u64 = 300;

#[derive(Debug, Args)]
pub(super) struct CaptureArgs {
    /// The interface to capture on (`any` for all; `rstscope interfaces` lists them), then
    /// a BPF filter, as for tcpdump: 'tcp port 443' or unquoted words. With -i every word
    /// here is the filter.
    #[arg(value_name = "IFACE", required_unless_present = "interface")]
    words: Vec<String>,

    /// The interface to capture on, as tcpdump -i names it.
    #[arg(short = 'i', long, value_name = "IFACE")]
    interface: Option<String>,

    /// What to print. Every format but jsonl prints a line per reset on standard output as it
    /// is judged (on standard error for json), then the final report when the capture stops.
    /// table: the diagnosis, up to 40 resets and a summary. json: one report (schema
    /// rstscope.report/1). jsonl: one flow per line as each finishes and one summary record,
    /// no running lines. markdown, jira: a ticket comment (GitHub/GitLab, or Jira wiki
    /// markup). html: one self-contained page (use -o report.html).
    #[arg(short = 'F', long, value_enum, default_value_t = Format::Table)]
    format: Format,

    /// Also announce flows closed by FIN, and list every flow in the final report (every
    /// reset flow in full in the table, Markdown, Jira and HTML).
    #[arg(short, long)]
    all: bool,

    /// Write the final report to FILE (the running lines still go to standard output).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Save every captured packet to FILE (pcap), like tcpdump -w, to attach to a ticket.
    #[arg(short, long, value_name = "FILE")]
    write: Option<PathBuf>,

    /// Bytes kept of each packet: enough for all headers and a little payload by default.
    #[arg(short = 's', long, value_name = "BYTES", default_value_t = 256,
          value_parser = Bounded::<i32>::between(64, 262_144, "byte").parser())]
    snaplen: i32,

    /// Kernel capture buffer in KiB, like tcpdump -B.
    #[arg(short = 'B', long = "buffer-size", value_name = "KiB", default_value_t = 8192,
          value_parser = Bounded::<i32>::between(256, 2_097_152, "KiB").parser())]
    buffer_kib: i32,

    /// Do not put the interface into promiscuous mode (tcpdump -p).
    #[arg(short = 'p', long)]
    no_promiscuous: bool,

    /// Stop after this long: 90s, 10m, 2h, 1h30m (a bare number is seconds).
    #[arg(long, value_name = "TIME", value_parser = parse_duration)]
    duration: Option<Duration>,

    /// Stop after this many packets.
    #[arg(short = 'c', long, value_name = "N")]
    count: Option<u64>,

    /// Stop after this many RST segments.
    #[arg(long, value_name = "N")]
    resets: Option<u64>,

    /// Do not read the kernel's reset tracepoints. By default, capturing as root on Linux,
    /// every RST this host's TCP stack sends is confirmed with the kernel's reason
    /// (tcp:tcp_send_reset), and a RST with this host's address that its stack did not send
    /// is called the host firewall's.
    #[arg(long)]
    no_kernel: bool,

    /// Once the capture (and kernel tracing) is open, give up root and run as this user, as
    /// tcpdump -Z does. By default `nobody` when it exists; `--user root` keeps root.
    #[arg(short = 'Z', long, value_name = "USER")]
    user: Option<String>,

    #[command(flatten)]
    view: ViewArgs,

    #[command(flatten)]
    narrow: NarrowArgs,

    #[command(flatten)]
    anonymize: super::AnonymizeArgs,

    #[command(flatten)]
    flows: FlowArgs,
}

/// Parses 90, 2.5, 90s, 500ms, 10m, 2h, 1h30m (humantime's forms, and bare seconds).
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    // A bare number is seconds (humantime, which reads the rest, wants a unit).
    if let Ok(seconds) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds)
            .map_err(|_| format!("'{text}' is out of range"));
    }
    humantime::parse_duration(text)
        .map_err(|err| format!("'{text}' is not a duration like 90s, 10m, 2h or 1h30m ({err})"))
}

/// `rstscope interfaces`: like `tcpdump -D`.
pub(super) fn run_interfaces() -> anyhow::Result<Outcome> {
    let mut out = io::stdout().lock();
    for (index, (name, addresses, up)) in source::interfaces()?.iter().enumerate() {
        let state = if *up { "" } else { " [down]" };
        let addresses = if addresses.is_empty() {
            String::new()
        } else {
            let addresses: Vec<String> = addresses.iter().map(ToString::to_string).collect();
            format!(" ({})", addresses.join(", "))
        };
        writeln!(out, "{}. {name}{state}{addresses}", index + 1)?;
    }
    Ok(Outcome {
        warnings: Vec::new(),
        complete: true,
    })
}

impl CaptureArgs {
    /// The interface, from -i or the first word.
    fn interface(&self) -> &str {
        match &self.interface {
            Some(interface) => interface,
            None => self.words.first().map_or("", String::as_str),
        }
    }

    /// The filter's words: all of them after -i, else those after the interface.
    fn filter(&self) -> &[String] {
        let skip = usize::from(self.interface.is_none());
        self.words.get(skip..).unwrap_or_default()
    }
}

pub(super) fn run_capture(args: CaptureArgs) -> anyhow::Result<Outcome> {
    #[cfg(target_os = "linux")]
    let run_as = {
        let run_as = privilege::run_as(args.user.as_deref())?;
        if privilege::is_guarded() {
            privilege::watch_guardian();
        } else if !args.no_kernel && nix::unistd::geteuid().is_root() {
            // The guardian waits for the capture and removes its tracing instance.
            privilege::guard_capture()?;
        }
        run_as
    };
    install_stop_handler();
    let anonymize = args.anonymize.key()?;
    let filter = (!args.filter().is_empty()).then(|| args.filter().join(" "));
    let options = LiveOptions {
        snaplen: args.snaplen,
        buffer_mib: (args.buffer_kib / 1024).max(1),
        promiscuous: !args.no_promiscuous,
        filter,
    };
    let mut source = LiveSource::open(args.interface(), &options)?;
    let mut recorder = match &args.write {
        Some(path) => Some(Recorder::create(
            path,
            source.link_type(),
            source.dlt(),
            source.snaplen(),
            anonymize.as_ref(),
        )?),
        None => None,
    };
    announce_start(&args, source.link_type().name());
    let own_addresses = own_addresses(&source, anonymize.as_ref());
    let tracing = kernel_tap::start(!args.no_kernel, own_addresses.clone(), anonymize.as_ref());
    let _ = writeln!(io::stderr(), "{}", tracing.start_line());
    let flows = args.flows.config();
    let report_to_stdout = args.output.is_none();
    let mut out = Output::open(args.output.as_deref())?;
    let mut stdout = io::stdout();
    let mut stderr = io::stderr();
    // The running lines go where they do not break a machine-readable report.
    let lines: &mut dyn Write = if report_to_stdout && args.format == Format::Json {
        &mut stderr
    } else {
        &mut stdout
    };
    let command = super::command_line(anonymize, &[]);
    let stream = FlowStream::start(args.format, &command, anonymize.is_some(), &mut out.writer)
        .map_err(|err| out.failed(err))?;
    // Every handle is open: a hostile packet from here on meets an unprivileged process.
    #[cfg(target_os = "linux")]
    if let Some(user) = privilege::drop_privileges(&run_as)? {
        let _ = writeln!(io::stderr(), "rstscope: running as {user} from here on");
    }
    let lines_on_stdout = args.format == Format::Jsonl && report_to_stdout;
    let mut watcher = Watcher {
        lines,
        announce_lines: !lines_on_stdout,
        all: args.all,
        stream,
        out: &mut out.writer,
        builder: ReportBuilder::new(args.format.retain(args.all))
            .listing_at_most(args.flows.report_flows)
            .made_by(command, anonymize.is_some())
            .narrowed_to(args.narrow.narrowing(anonymize)),
        pending: VecDeque::new(),
        announced: HashMap::new(),
        resets_seen: 0,
        resets_without_baseline: 0,
        limits: Limits {
            deadline: args.duration.map(|d| Instant::now() + d),
            packets: args.count,
            resets: args.resets,
            draining: None,
        },
        view: args.view.view(args.all),
        error: None,
        saving_failed: false,
        tracing,
    };
    let mut stats = watch(
        &mut source,
        flows,
        own_addresses,
        anonymize,
        recorder.as_mut(),
        &mut watcher,
    );
    if let Some(Err(failure)) = recorder.map(Recorder::finish) {
        // Said with the report's other warnings, just below.
        watcher.builder.warn(failure);
        watcher.saving_failed = true;
    }
    let drops = source.drops();
    if let Some(input) = stats.inputs.first_mut() {
        input.drops = Some(drops);
    }
    let _ = writeln!(
        io::stderr(),
        "rstscope: stopped; {} packets captured, {} dropped by the kernel, {} by the interface",
        stats.inputs.first().map_or(0, |input| input.frames),
        drops.by_kernel,
        drops.by_interface
    );
    if let Some(tracing) = stats.inputs.first().and_then(|input| input.kernel.as_ref())
        && tracing.state != "off"
    {
        let _ = writeln!(io::stderr(), "rstscope: {}", tracing.summary());
    }
    if let Some(err) = watcher.error.take() {
        return Err(out.failed(err));
    }
    let terminal = report_to_stdout && io::stdout().is_terminal();
    if !args.filter().is_empty() && watcher.resets_without_baseline > 0 {
        let n = watcher.resets_without_baseline;
        watcher.builder.warn(format!(
            "the capture filter '{}' ran in the kernel, and {n} reset{} had no other packet of {} claimed sender to compare with: a filter on flags, ports or one direction takes away what verdicts compare a reset with; capture with a filter on the hosts only (or none) for surer verdicts",
            args.filter().join(" "),
            if n == 1 { "" } else { "s" },
            if n == 1 { "its" } else { "their" }
        ));
    }
    let saving_failed = watcher.saving_failed;
    let (builder, stream, view) = (watcher.builder, watcher.stream, watcher.view);
    let look = Look {
        terminal,
        colour: args.view.color().colour(terminal),
        view,
    };
    let mut outcome = finish_output(args.format, builder, stream, &stats, look, &mut out)?;
    // The saved file lacks packets: the run did not do all it was asked.
    outcome.complete &= !saving_failed;
    Ok(outcome)
}

/// The live loop: every frame read, decoded and taken into the analyzer; finished flows and
/// announcements to the watcher, which says when to stop; then every flow finished.
fn watch(
    source: &mut LiveSource,
    flows: FlowConfig,
    own_addresses: Vec<std::net::IpAddr>,
    anonymize: Option<AnonymizeKey>,
    mut recorder: Option<&mut Recorder>,
    watcher: &mut Watcher<'_>,
) -> RunStats {
    let mut anonymizer = anonymize.as_ref().map(Anonymizer::new);
    let mut analyzer = Analyzer::new(AnalyzerConfig {
        flows,
        judge_at_end: false,
        own_addresses,
    });
    let mut reader = Reader::new(source, 0, anonymizer.as_mut());
    while let Some(read) = reader.next() {
        let now = match read {
            Read::Idle(now) => {
                if let Some(recorder) = recorder.as_deref_mut() {
                    recorder.quiet();
                }
                analyzer.expire(now).for_each(|flow| watcher.flow(flow));
                now
            }
            Read::Frame { at, frame, content } => {
                if let Some(recorder) = recorder.as_deref_mut() {
                    recorder.record(&frame);
                    if let Some(failure) = recorder.take_failure() {
                        watcher.saving_failed(failure);
                    }
                }
                match content {
                    Content::Segment(segment) => take_segment(&mut analyzer, watcher, &segment, at),
                    Content::Neighbour(neighbour) => analyzer.observe_neighbour(neighbour),
                    Content::Other => {}
                }
                at.ts
            }
        };
        if watcher.tick(now, &analyzer, reader.stats()) {
            break;
        }
    }
    let mut input = reader.into_stats();
    watcher.kernel_finish(input.last_ts.map_or(0, |ts| ts.0));
    analyzer.finish().for_each(|flow| watcher.flow(flow));
    input.kernel = Some(watcher.tracing_figures());
    input.copies = analyzer.copies(0);
    RunStats {
        inputs: vec![input],
        evicted_flows: analyzer.evicted_flows(),
        judged_early: 0,
        side_by_side: false,
    }
}

/// One segment into the analyzer: a RST it kept is noted for announcing, and the flows that
/// finished go to the watcher.
fn take_segment(
    analyzer: &mut Analyzer,
    watcher: &mut Watcher<'_>,
    segment: &Segment,
    at: FrameRef,
) {
    let finished = analyzer.observe(segment, at);
    if finished.kept() && segment.flags.rst() {
        watcher.reset_seen(segment, at);
    }
    finished.for_each(|flow| watcher.flow(flow));
}

/// The capturing host's addresses on the interface, as the report writes them.
fn own_addresses(source: &LiveSource, anonymize: Option<&AnonymizeKey>) -> Vec<std::net::IpAddr> {
    let own = source.own_addresses();
    match anonymize.map(Anonymizer::new) {
        Some(mut anonymizer) => own.into_iter().map(|ip| anonymizer.ip(ip)).collect(),
        None => own,
    }
}

/// Says on standard error what is being captured, like tcpdump's "listening on" line.
fn announce_start(args: &CaptureArgs, link_type: &str) {
    let mut text = format!(
        "rstscope: capturing on {}, link-type {link_type}, snapshot length {} bytes",
        args.interface(),
        args.snaplen
    );
    if !args.filter().is_empty() {
        text.push_str(&format!(", filter '{}'", args.filter().join(" ")));
    }
    if let Some(path) = &args.write {
        text.push_str(&format!(", saving packets to {}", path.display()));
    }
    let _ = writeln!(io::stderr(), "{text}; Ctrl-C to stop");
}

fn judgement(attribution: &Attribution) -> (Verdict, Scenario) {
    (attribution.verdict, attribution.scenario)
}

/// First Ctrl-C or SIGTERM: stop cleanly and report. Second: exit at once.
fn install_stop_handler() {
    let installed = Instant::now();
    let _ = ctrlc::set_handler(move || {
        let now_ms = u64::try_from(installed.elapsed().as_millis()).unwrap_or(u64::MAX);
        if STOP_REQUESTS.fetch_add(1, Ordering::SeqCst) == 0 {
            FIRST_STOP_MS.store(now_ms, Ordering::SeqCst);
        } else if now_ms.saturating_sub(FIRST_STOP_MS.load(Ordering::SeqCst)) >= SAME_REQUEST_MS {
            std::process::exit(130);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstscope_core::testing::{A, R, S, Step, c, client_addr, s, segment};

    fn watcher<'a>(lines: &'a mut Vec<u8>, out: &'a mut Vec<u8>) -> Watcher<'a> {
        Watcher {
            lines,
            announce_lines: true,
            all: false,
            stream: FlowStream::Off,
            out,
            builder: ReportBuilder::new(rstscope_core::report::Retain::WithResets),
            pending: VecDeque::new(),
            announced: HashMap::new(),
            resets_seen: 0,
            resets_without_baseline: 0,
            limits: Limits {
                deadline: None,
                packets: None,
                resets: None,
                draining: None,
            },
            view: View::default(),
            error: None,
            saving_failed: false,
            tracing: kernel_tap::start(false, Vec::new(), None),
        }
    }

    fn at(frame: u64, ms: i64) -> FrameRef {
        FrameRef {
            input: 0,
            frame,
            ts: Timestamp::from_parts(1_700_000_000 + ms / 1000, (ms % 1000) * 1_000_000),
        }
    }

    /// A refused SYN to a server never seen before is announced after a second with what was
    /// known then (a refusal, most likely the server's own); when the flow finishes, the
    /// server's later traffic shows it 10 hops nearer than the RST came from, which changes
    /// the judgement, and a revision line says so.
    #[test]
    fn a_reset_judged_differently_at_the_end_gets_a_revision_line() {
        let mut lines = Vec::new();
        let mut out = Vec::new();
        {
            let mut sink = watcher(&mut lines, &mut out);
            let mut analyzer = Analyzer::new(AnalyzerConfig::default());
            let stats = InputStats::default();
            take_segment(
                &mut analyzer,
                &mut sink,
                &segment(c(S, 100, 0, 0)),
                at(1, 0),
            );
            let reject = Step {
                ttl: 60,
                ..s(R | A, 0, 101, 0)
            };
            take_segment(&mut analyzer, &mut sink, &segment(reject), at(2, 10));
            sink.tick(at(2, 1100).ts, &analyzer, &stats);
            let other = "192.0.2.10:40000".parse().unwrap_or(client_addr());
            let from_other = |step| {
                let mut seg = segment(step);
                if seg.src == client_addr() {
                    seg.src = other;
                } else {
                    seg.dst = other;
                }
                seg
            };
            let segments = [
                (c(S, 500, 0, 0), at(3, 1500)),
                (
                    Step {
                        ttl: 50,
                        ..s(S | A, 900, 501, 0)
                    },
                    at(4, 1510),
                ),
                (c(A, 501, 901, 0), at(5, 1520)),
            ];
            for (step, at) in segments {
                take_segment(&mut analyzer, &mut sink, &from_other(step), at);
            }
            analyzer.finish().for_each(|flow| sink.flow(flow));
        }
        let text = String::from_utf8(lines).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].contains("(frame 2, ttl 60)  peer 0.80 refused"),
            "{text}"
        );
        assert!(
            lines[1].contains("(frame 2) revised: firewall")
                && lines[1].contains(" firewall_reject (first said peer "),
            "{text}"
        );
    }

    #[test]
    fn durations_read_like_tcpdump_users_write_them() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5x").is_err());
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2.5"), Ok(Duration::from_millis(2500)));
        assert!(parse_duration("-1").is_err());
    }
}
