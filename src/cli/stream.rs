//! Flows written out as they finish: JSON Lines, or the JSON document streamed (head first,
//! flows as they come, inputs and summary at the end), so memory does not grow with the
//! number of flows.

use std::io::{self, Write};

use super::Format;
use rstscope_core::report::json::{self, JsonStream};
use rstscope_core::report::{FlowReport, Report, Tool};

/// How finished flows reach the output while the run goes on.
pub(super) enum FlowStream {
    /// Not streamed: the report is written at the end from what the builder kept.
    Off,
    /// One JSON object per line.
    Lines,
    /// The JSON document, its head already written.
    Document(JsonStream),
}

impl FlowStream {
    /// Starts streaming for `format` (writing the JSON document's head now).
    pub(super) fn start(
        format: Format,
        command: &str,
        anonymized: bool,
        out: &mut dyn Write,
    ) -> io::Result<FlowStream> {
        Ok(match format {
            Format::Jsonl => FlowStream::Lines,
            Format::Json => FlowStream::Document(JsonStream::start(
                &Tool::rstscope(),
                command,
                anonymized,
                out,
            )?),
            Format::Table | Format::Markdown | Format::Jira | Format::Html => FlowStream::Off,
        })
    }

    /// Writes one finished flow, if streaming.
    pub(super) fn flow(&mut self, flow: &FlowReport, out: &mut dyn Write) -> io::Result<()> {
        match self {
            FlowStream::Off => Ok(()),
            FlowStream::Lines => json::write_flow_line(flow, out),
            FlowStream::Document(stream) => stream.flow(flow, out),
        }
    }

    /// Ends the stream: the JSON document gets its tail from `report`, JSON Lines its summary
    /// record.
    pub(super) fn finish(self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        match self {
            FlowStream::Document(stream) => stream.finish(report, out),
            FlowStream::Lines => json::write_summary_line(report, out),
            FlowStream::Off => Ok(()),
        }
    }
}
