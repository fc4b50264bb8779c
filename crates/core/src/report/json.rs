//! JSON renderers: the whole report as one document, streamed, or one flow per line (JSON
//! Lines).
//!
//! The document is written as the analysis runs, so memory does not grow with the number of
//! flows: the head (schema, tool, command) first, then each flow as it finishes, then what is
//! only known at the end (inputs, summary, warnings). Flows are therefore listed in the order
//! they finished; each carries its `id`, which numbers them in the order they began.

use std::io::{self, Write};

use serde::Serialize;

use super::{FlowReport, Report, SCHEMA, Tool};

/// Writes the report as one pretty-printed JSON document (flows included).
pub fn write_report(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut stream = JsonStream::start(&report.tool, &report.command, report.anonymized, out)?;
    for flow in &report.flows {
        stream.flow(flow, out)?;
    }
    stream.finish(report, out)
}

/// Writes one flow as a single line of JSON.
pub fn write_flow_line(flow: &FlowReport, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer(&mut *out, flow)?;
    writeln!(out)
}

/// The last line of a JSON Lines report: what is only known at the end (`summary`, with the
/// diagnosis's `groups`, `inputs` and `warnings`), marked `"record": "summary"` so a consumer
/// tells it from the flow objects (which carry no `record` field).
pub fn write_summary_line(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    #[derive(Serialize)]
    struct SummaryRecord<'a> {
        record: &'static str,
        schema: &'static str,
        tool: &'a Tool,
        summary: &'a super::Summary,
        inputs: &'a [super::InputReport],
        warnings: &'a [String],
        #[serde(skip_serializing_if = "Option::is_none")]
        comparison: Option<&'a super::comparison::ComparisonReport>,
    }
    serde_json::to_writer(
        &mut *out,
        &SummaryRecord {
            record: "summary",
            schema: SCHEMA,
            tool: &report.tool,
            summary: &report.summary,
            inputs: &report.inputs,
            warnings: &report.warnings,
            comparison: report.comparison.as_ref(),
        },
    )?;
    writeln!(out)
}

/// A JSON report being written: the head is out, flows follow one by one.
#[derive(Debug)]
pub struct JsonStream {
    flows: u64,
    /// One flow, pretty-printed at its depth: reused from flow to flow.
    pretty: Vec<u8>,
}

impl JsonStream {
    /// Writes the head, up to the opening of the `flows` array.
    pub fn start(
        tool: &Tool,
        command: &str,
        anonymized: bool,
        out: &mut dyn Write,
    ) -> io::Result<JsonStream> {
        write!(out, "{{\n  \"schema\": ")?;
        value(&SCHEMA, out)?;
        write!(out, ",\n  \"tool\": ")?;
        value(tool, out)?;
        if !command.is_empty() {
            write!(out, ",\n  \"command\": ")?;
            value(&command, out)?;
        }
        if anonymized {
            write!(out, ",\n  \"anonymized\": true")?;
        }
        write!(out, ",\n  \"flows\": [")?;
        Ok(JsonStream {
            flows: 0,
            pretty: Vec::new(),
        })
    }

    /// Writes one finished flow into the `flows` array.
    pub fn flow(&mut self, flow: &FlowReport, out: &mut dyn Write) -> io::Result<()> {
        self.pretty.clear();
        if self.flows > 0 {
            self.pretty.push(b',');
        }
        self.pretty.extend_from_slice(b"\n    ");
        // Inside the document's object and its `flows` array: two levels down.
        let mut serializer =
            serde_json::Serializer::with_formatter(&mut self.pretty, Nested::at(2));
        flow.serialize(&mut serializer)?;
        self.flows += 1;
        out.write_all(&self.pretty)
    }

    /// Closes the `flows` array and writes inputs, summary and warnings from `report` (its
    /// own `flows` are not written again).
    pub fn finish(self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        if self.flows > 0 {
            write!(out, "\n  ")?;
        }
        write!(out, "],\n  \"inputs\": ")?;
        value(&report.inputs, out)?;
        write!(out, ",\n  \"summary\": ")?;
        value(&report.summary, out)?;
        write!(out, ",\n  \"warnings\": ")?;
        value(&report.warnings, out)?;
        if let Some(comparison) = &report.comparison {
            write!(out, ",\n  \"comparison\": ")?;
            value(comparison, out)?;
        }
        writeln!(out, "\n}}")
    }
}

/// One value, pretty-printed at the first level of the document.
fn value<T: Serialize + ?Sized>(value: &T, out: &mut dyn Write) -> io::Result<()> {
    let mut pretty = Vec::new();
    value.serialize(&mut serde_json::Serializer::with_formatter(
        &mut pretty,
        Nested::at(1),
    ))?;
    out.write_all(&pretty)
}

/// serde_json's pretty layout (two spaces a level) for a value that sits `depth` levels down
/// in the document: every line after its first is indented as if the whole document had
/// been pretty-printed at once.
struct Nested {
    depth: usize,
    has_value: bool,
}

impl Nested {
    fn at(depth: usize) -> Nested {
        Nested {
            depth,
            has_value: false,
        }
    }

    fn new_line<W: ?Sized + Write>(&self, writer: &mut W, first: bool) -> io::Result<()> {
        writer.write_all(if first { b"\n" } else { b",\n" })?;
        self.indent(writer)
    }

    fn indent<W: ?Sized + Write>(&self, writer: &mut W) -> io::Result<()> {
        for _ in 0..self.depth {
            writer.write_all(b"  ")?;
        }
        Ok(())
    }

    fn open<W: ?Sized + Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        writer.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth = self.depth.saturating_sub(1);
        if self.has_value {
            writer.write_all(b"\n")?;
            self.indent(writer)?;
        }
        writer.write_all(bracket)
    }
}

impl serde_json::ser::Formatter for Nested {
    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.new_line(writer, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.new_line(writer, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::RunStats;
    use crate::report::{ReportBuilder, Retain};

    #[test]
    fn an_empty_report_is_valid_json() {
        let report = ReportBuilder::new(Retain::All).finish(&RunStats::default());
        let mut out = Vec::new();
        write_report(&report, &mut out).unwrap_or_else(|e| panic!("{e}"));
        let parsed: serde_json::Value =
            serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed["schema"], SCHEMA);
        assert_eq!(parsed["flows"], serde_json::json!([]));
        assert!(parsed["summary"].is_object() && parsed["inputs"].is_array());
    }
}
