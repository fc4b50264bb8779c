//! An event's `format` file, as tracefs prints it under `events/SYSTEM/EVENT/format` (the
//! columns are tab-separated):
//!
//! ```text
//! name: tcp_send_reset
//! ID: 2280
//! format:
//!     field:unsigned short common_type;    offset:0;    size:2;    signed:0;
//!     ...
//! print fmt: "... reason=%s", ..., __print_symbolic(REC->reason, { 0, "NOT_SPECIFIED" }, ...)
//! ```
//!
//! The layout is the kernel's (`kernel/trace/trace_events.c`, `f_show`; libtraceevent's
//! `event-parse.c` reads the same text). The `__print_symbolic` tables of the print format
//! name the values of enum fields such as `reason` and `state`.

use super::TraceError as FormatError;

/// One field of an event record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    /// The C declaration without the name (`const void *`, `__u8`, `enum sk_rst_reason`).
    pub c_type: String,
    pub offset: usize,
    pub size: usize,
    pub signed: bool,
}

/// An event's id, fields and the names of its symbolic values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFormat {
    pub name: String,
    pub id: u16,
    pub fields: Vec<Field>,
    /// Per field, the `__print_symbolic` table: (value, name). A value written as a C name
    /// (`TCP_ESTABLISHED`) is resolved through [`known_constant`]; unknown names are left out.
    symbols: Vec<(String, Vec<(u64, String)>)>,
}

impl EventFormat {
    pub fn parse(text: &str) -> Result<EventFormat, FormatError> {
        let mut name = None;
        let mut id = None;
        let mut fields = Vec::new();
        let mut print_fmt = "";
        for line in text.lines() {
            let line = line.trim_start();
            if let Some(rest) = line.strip_prefix("name:") {
                name = Some(rest.trim().to_string());
            } else if let Some(rest) = line.strip_prefix("ID:") {
                id = rest.trim().parse::<u16>().ok();
            } else if line.starts_with("field:") {
                fields.push(parse_field(line)?);
            } else if let Some(rest) = line.strip_prefix("print fmt:") {
                print_fmt = rest;
            }
        }
        let name = name.ok_or_else(|| FormatError("no 'name:' line".to_string()))?;
        let id = id.ok_or_else(|| FormatError(format!("{name}: no numeric 'ID:' line")))?;
        if fields.is_empty() {
            return Err(FormatError(format!("{name}: no fields")));
        }
        Ok(EventFormat {
            name,
            id,
            fields,
            symbols: symbol_tables(print_fmt),
        })
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The name the print format gives `value` of field `field`, when it has a table.
    pub fn symbol(&self, field: &str, value: u64) -> Option<&str> {
        let (_, table) = self.symbols.iter().find(|(f, _)| f == field)?;
        table
            .iter()
            .find(|(v, _)| *v == value)
            .map(|(_, name)| name.as_str())
    }

    /// Every name of field `field`'s table (the reasons this kernel knows, say).
    pub fn symbol_names(&self, field: &str) -> Vec<&str> {
        self.symbols
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, table)| table.iter().map(|(_, n)| n.as_str()).collect())
            .unwrap_or_default()
    }
}

/// `field:unsigned short common_type; offset:0; size:2; signed:0;`
pub(super) fn parse_field(line: &str) -> Result<Field, FormatError> {
    let bad = || FormatError(format!("unreadable field line '{}'", line.trim()));
    let mut parts = line.split(';').map(str::trim);
    let declaration = parts
        .next()
        .and_then(|d| d.strip_prefix("field:"))
        .ok_or_else(bad)?;
    let value = |key: &str| -> Option<usize> {
        parts
            .clone()
            .find_map(|p| p.strip_prefix(key))
            .and_then(|v| v.trim().parse().ok())
    };
    let offset = value("offset:").ok_or_else(bad)?;
    let size = value("size:").ok_or_else(bad)?;
    let signed = value("signed:").unwrap_or(0) != 0;
    // The name is the declaration's last identifier, less any array bounds.
    let without_bounds = declaration.split('[').next().unwrap_or(declaration).trim();
    let split = without_bounds
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    let (c_type, name) = without_bounds.split_at(split);
    if name.is_empty() {
        return Err(bad());
    }
    Ok(Field {
        name: name.to_string(),
        c_type: c_type.trim().to_string(),
        offset,
        size,
        signed,
    })
}

/// Every `__print_symbolic(REC->FIELD, { V, "NAME" }, ...)` of a print format.
fn symbol_tables(print_fmt: &str) -> Vec<(String, Vec<(u64, String)>)> {
    const START: &str = "__print_symbolic(REC->";
    let mut tables = Vec::new();
    let mut rest = print_fmt;
    while let Some(at) = rest.find(START) {
        rest = &rest[at + START.len()..];
        let Some(comma) = rest.find(',') else { break };
        let field = rest[..comma].trim().to_string();
        let mut table = Vec::new();
        let mut body = &rest[comma + 1..];
        // Pairs follow until the call's closing parenthesis.
        loop {
            let body_trimmed = body.trim_start_matches([' ', ',']);
            let Some(pair) = body_trimmed.strip_prefix('{') else {
                break;
            };
            let Some(close) = pair.find('}') else { break };
            if let Some((value, name)) = pair[..close].split_once(',') {
                let name = name.trim().trim_matches('"').to_string();
                let value = value.trim();
                let number = value
                    .strip_prefix("0x")
                    .map_or_else(
                        || value.parse().ok(),
                        |hex| u64::from_str_radix(hex, 16).ok(),
                    )
                    .or_else(|| known_constant(value));
                if let Some(number) = number {
                    table.push((number, name));
                }
            }
            body = &pair[close + 1..];
        }
        tables.push((field, table));
        rest = body;
    }
    tables
}

/// The C constants a print format may name instead of numbers: the TCP states of
/// `include/net/tcp_states.h`, numbered the same since Linux 2.6 (a user-visible ABI: `ss`
/// and `/proc/net/tcp` print them).
pub fn known_constant(name: &str) -> Option<u64> {
    const TCP_STATES: [&str; 13] = [
        "TCP_ESTABLISHED",
        "TCP_SYN_SENT",
        "TCP_SYN_RECV",
        "TCP_FIN_WAIT1",
        "TCP_FIN_WAIT2",
        "TCP_TIME_WAIT",
        "TCP_CLOSE",
        "TCP_CLOSE_WAIT",
        "TCP_LAST_ACK",
        "TCP_LISTEN",
        "TCP_CLOSING",
        "TCP_NEW_SYN_RECV",
        "TCP_BOUND_INACTIVE",
    ];
    TCP_STATES
        .iter()
        .position(|s| *s == name)
        .map(|i| i as u64 + 1)
}
