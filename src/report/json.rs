//! JSON renderers: the whole report as one document, or one flow per line (JSON Lines).

use std::io::{self, Write};

use super::{FlowReport, Report};

/// Writes the report as one pretty-printed JSON document.
pub fn write_report(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

/// Writes one flow as a single line of JSON.
pub fn write_flow_line(flow: &FlowReport, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer(&mut *out, flow)?;
    writeln!(out)
}
