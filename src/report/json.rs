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

/// A JSON report being written: the head is out, flows follow one by one.
#[derive(Debug)]
pub struct JsonStream {
    flows: u64,
    /// One flow, pretty-printed, then indented: reused from flow to flow.
    pretty: Vec<u8>,
    indented: Vec<u8>,
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
            indented: Vec::new(),
        })
    }

    /// Writes one finished flow into the `flows` array.
    pub fn flow(&mut self, flow: &FlowReport, out: &mut dyn Write) -> io::Result<()> {
        self.pretty.clear();
        serde_json::to_writer_pretty(&mut self.pretty, flow)?;
        self.indented.clear();
        if self.flows > 0 {
            self.indented.push(b',');
        }
        self.indented.extend_from_slice(b"\n    ");
        indent(&self.pretty, b"    ", &mut self.indented);
        self.flows += 1;
        out.write_all(&self.indented)
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
        writeln!(out, "\n}}")
    }
}

/// One value, pretty-printed at the first level of the document.
fn value<T: Serialize + ?Sized>(value: &T, out: &mut dyn Write) -> io::Result<()> {
    let pretty = serde_json::to_vec_pretty(value)?;
    let mut indented = Vec::with_capacity(pretty.len() + pretty.len() / 8);
    indent(&pretty, b"  ", &mut indented);
    out.write_all(&indented)
}

/// Copies `text`, indenting every line after the first by `by`.
fn indent(text: &[u8], by: &[u8], into: &mut Vec<u8>) {
    let mut lines = text.split(|&b| b == b'\n');
    if let Some(first) = lines.next() {
        into.extend_from_slice(first);
    }
    for line in lines {
        into.push(b'\n');
        into.extend_from_slice(by);
        into.extend_from_slice(line);
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
