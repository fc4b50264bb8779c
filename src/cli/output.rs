//! Where a run's output goes and how it is finished: the report in its format, the command
//! line it names, and errors that say which file failed.

use super::*;

/// Options whose value names a file the report writes.
pub(super) const OUTPUT_OPTIONS: [&str; 4] = ["-o", "--output", "--export-pcap", "-w"];

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
pub(super) fn output_name(path: &str) -> String {
    match Path::new(path).extension() {
        Some(ext) => format!("output.{}", ext.to_string_lossy()),
        None => "output".to_string(),
    }
}

/// A word as a POSIX shell reads it back.
pub(super) fn shell_quote(word: &str) -> String {
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
pub(super) struct Look {
    /// The report goes to a terminal.
    pub(super) terminal: bool,
    /// The table colours its verdicts (`--color`, NO_COLOR).
    pub(super) colour: bool,
    pub(super) view: View,
}

/// Writes the final report in `format` (or, for the streamed JSON formats, what remains of
/// it) and says how the run went.
pub(super) fn finish_output(
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
    write_report(format, &report, stream, Look { view, ..look }, out)?;
    Ok(Outcome {
        complete: stats.inputs.iter().all(|input| input.broken.is_none()),
        warnings: report.warnings,
    })
}

/// Writes `report` in `format`; for the JSON formats `stream` (which holds the flows already
/// written) finishes the document.
pub(super) fn write_report(
    format: Format,
    report: &Report,
    stream: FlowStream,
    look: Look,
    out: &mut Output,
) -> anyhow::Result<()> {
    let view = &look.view;
    let written = match format {
        Format::Table => table::write_table(
            report,
            table_style(look.terminal, look.colour),
            view,
            &mut out.writer,
        ),
        Format::Json | Format::Jsonl => stream.finish(report, &mut out.writer),
        Format::Markdown => markdown::write_markdown(report, view, &mut out.writer),
        Format::Jira => jira::write_jira(report, view, &mut out.writer),
        Format::Html => html::write_html(report, view, &mut out.writer),
    };
    written
        .and_then(|()| out.writer.flush())
        .map_err(|err| out.failed(err))
}

/// The inputs as an export's comments name them: as the report does (`input1.pcap`, ... when
/// anonymising).
pub(super) fn export_input_names(
    files: &[PathBuf],
    anonymize: Option<AnonymizeKey>,
) -> Vec<String> {
    files
        .iter()
        .enumerate()
        .map(|(index, path)| {
            let path = path.display().to_string();
            if anonymize.is_some() {
                rstscope_core::anonymization::input_name(index, &path)
            } else {
                rstscope_core::report::view::display_path(&path)
            }
        })
        .collect()
}

/// Where the output goes, and its name for error messages.
pub(super) struct Output {
    pub(super) writer: Box<dyn Write>,
    pub(super) name: String,
}

impl Output {
    /// Standard output, or a new file (created only once the inputs are known to be good).
    pub(super) fn open(path: Option<&Path>) -> anyhow::Result<Output> {
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
    pub(super) fn failed(&self, err: io::Error) -> anyhow::Error {
        let reason = err.to_string();
        anyhow::Error::new(err).context(format!(
            "{}: cannot write the output ({reason}); free some space or write elsewhere with -o FILE",
            self.name
        ))
    }
}
