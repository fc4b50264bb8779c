//! How a report is shown to people (the table, Markdown, Jira and HTML; JSON is data and keeps
//! RFC 3339 UTC): how wide, which times, how much is listed. One [`View`] goes to every
//! human renderer, so they agree.

use chrono::{DateTime, Local, SecondsFormat, Utc};

/// How times are written where people read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeFormat {
    /// `13:31:25.913871` on the first day, with the date when it changes; UTC.
    #[default]
    Utc,
    /// The same in the local time zone (TZ decides).
    Local,
    /// Seconds since the first packet of the first input: `+8.035112 s`.
    Relative,
    /// Seconds since 1970, as tcpdump -tt prints them.
    Epoch,
}

/// What the people-facing renderers do.
#[derive(Debug, Clone, Copy, Default)]
pub struct View {
    /// Every column, and each listed flow's explanation.
    pub wide: bool,
    /// List every flow (`--all`); otherwise the diagnosis and a bounded selection.
    pub all: bool,
    pub time: TimeFormat,
    /// The first packet's time (nanoseconds since 1970), for relative times.
    pub origin_ns: Option<i64>,
}

impl View {
    /// An RFC 3339 time from the report as this view writes it.
    pub fn time(&self, ts: &str) -> String {
        let Some(ns) = parse_ns(ts) else {
            return ts.to_string();
        };
        self.time_ns(ns)
    }

    /// An RFC 3339 time to the millisecond, for compact columns.
    pub fn time_short(&self, ts: &str) -> String {
        let Some(ns) = parse_ns(ts) else {
            return ts.to_string();
        };
        self.format_ns(ns, Precision::Millis)
    }

    /// A time in nanoseconds since 1970 as this view writes it.
    pub fn time_ns(&self, ns: i64) -> String {
        let precision = if ns.rem_euclid(1000) == 0 {
            Precision::Micros
        } else {
            Precision::Nanos
        };
        self.format_ns(ns, precision)
    }

    /// A time for a log line (capture's running lines): RFC 3339 with its date and zone for
    /// `utc` and `local`, so lines grep and parse like any log; as `time_ns` otherwise.
    pub fn stamp_ns(&self, ns: i64) -> String {
        let secs = ns.div_euclid(1_000_000_000);
        let nanos = ns.rem_euclid(1_000_000_000) as u32;
        let precision = if nanos.is_multiple_of(1000) {
            SecondsFormat::Micros
        } else {
            SecondsFormat::Nanos
        };
        let Some(t) = DateTime::<Utc>::from_timestamp(secs, nanos) else {
            return self.time_ns(ns);
        };
        match self.time {
            TimeFormat::Utc => t.to_rfc3339_opts(precision, true),
            TimeFormat::Local => t.with_timezone(&Local).to_rfc3339_opts(precision, false),
            TimeFormat::Relative | TimeFormat::Epoch => self.time_ns(ns),
        }
    }

    fn format_ns(&self, ns: i64, precision: Precision) -> String {
        let secs = ns.div_euclid(1_000_000_000);
        let nanos = ns.rem_euclid(1_000_000_000);
        let (digits, divisor) = match precision {
            Precision::Millis => (3, 1_000_000),
            Precision::Micros => (6, 1000),
            Precision::Nanos => (9, 1),
        };
        let precision = match precision {
            Precision::Millis => SecondsFormat::Millis,
            Precision::Micros => SecondsFormat::Micros,
            Precision::Nanos => SecondsFormat::Nanos,
        };
        // Digits beyond the precision are cut, never rounded up into the next unit.
        let nanos = nanos - nanos % divisor;
        match self.time {
            TimeFormat::Epoch => format!("{secs}.{:0digits$}", nanos / divisor),
            TimeFormat::Relative => {
                let from = ns - self.origin_ns.unwrap_or(ns);
                let sign = if from < 0 { "-" } else { "+" };
                let from = from.unsigned_abs();
                let (whole, part) = (from / 1_000_000_000, from % 1_000_000_000);
                format!("{sign}{whole}.{:0digits$} s", part / divisor as u64)
            }
            TimeFormat::Utc => DateTime::<Utc>::from_timestamp(secs, nanos as u32).map_or_else(
                || format!("{secs}.{nanos:09}"),
                |t| clock(&t.to_rfc3339_opts(precision, true), "UTC"),
            ),
            TimeFormat::Local => DateTime::<Utc>::from_timestamp(secs, nanos as u32).map_or_else(
                || format!("{secs}.{nanos:09}"),
                |t| {
                    let local = t.with_timezone(&Local);
                    let zone = local.format("%Z").to_string();
                    clock(&local.to_rfc3339_opts(precision, false), &zone)
                },
            ),
        }
    }

    /// A time with its date, for headings ("from ... to ...").
    pub fn moment(&self, ts: &str) -> String {
        match self.time {
            TimeFormat::Utc | TimeFormat::Local => {
                let Some(ns) = parse_ns(ts) else {
                    return ts.to_string();
                };
                let secs = ns.div_euclid(1_000_000_000);
                let nanos = ns.rem_euclid(1_000_000_000) as u32;
                let Some(t) = DateTime::<Utc>::from_timestamp(secs, nanos) else {
                    return ts.to_string();
                };
                let micros = SecondsFormat::Micros;
                if self.time == TimeFormat::Utc {
                    t.to_rfc3339_opts(micros, true).replace('T', " ")
                } else {
                    let local = t.with_timezone(&Local);
                    format!(
                        "{} {}",
                        local.to_rfc3339_opts(micros, false).replace('T', " "),
                        local.format("%Z")
                    )
                }
            }
            _ => self.time(ts),
        }
    }

    /// "At T" or "T1 to T2": when a group's resets came, with the date (`moment`) or without.
    pub fn when(&self, first: &str, last: &str, with_date: bool) -> String {
        let time = |ts: &str| {
            if with_date {
                self.moment(ts)
            } else {
                self.time(ts)
            }
        };
        if first == last {
            format!("At {}", time(first))
        } else {
            format!("{} to {}", time(first), time(last))
        }
    }

    /// Names the time format, for a table's or page's legend.
    pub fn time_legend(&self) -> &'static str {
        match self.time {
            TimeFormat::Utc => "times UTC",
            TimeFormat::Local => "times local",
            TimeFormat::Relative => "times from the first packet",
            TimeFormat::Epoch => "times in seconds since 1970",
        }
    }
}

/// How many digits of a second.
#[derive(Debug, Clone, Copy)]
enum Precision {
    Millis,
    Micros,
    Nanos,
}

/// The clock part of an RFC 3339 time ("13:31:25.913871"), the zone after it when not UTC.
fn clock(rfc3339: &str, zone: &str) -> String {
    let time = rfc3339.split_once('T').map_or(rfc3339, |(_, t)| t);
    let time = time.trim_end_matches('Z');
    // Drop a numeric offset; the legend or the zone name says it.
    let time = match time.rfind(['+', '-']) {
        Some(at) if at > 7 => &time[..at],
        _ => time,
    };
    if zone == "UTC" {
        time.to_string()
    } else {
        format!("{time} {zone}")
    }
}

/// The report's command line as a ticket should show it: every absolute path in it (the
/// inputs, `-o` files) shortened to its file name, as `display_path` does.
pub fn display_command(command: &str, inputs: &[super::InputReport]) -> String {
    let mut shown = command.to_string();
    for input in inputs {
        if input.path.starts_with('/') {
            shown = shown.replace(&input.path, &display_path(&input.path));
        }
    }
    shown
        .split(' ')
        .map(|word| {
            let (quote, bare) = match word.strip_prefix('\'') {
                Some(rest) => ("'", rest),
                None => ("", word),
            };
            if bare.starts_with('/') {
                format!("{quote}{}", display_path(bare))
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Nanoseconds since 1970 of an RFC 3339 time.
pub fn parse_ns(ts: &str) -> Option<i64> {
    let t = DateTime::parse_from_rfc3339(ts).ok()?;
    t.timestamp_nanos_opt()
}

/// A file name as a ticket should show it: what the user typed when relative, the file's
/// name when absolute (a local directory says nothing to the reader, and may say too much).
/// A sequence number as people read it beside Wireshark: the raw number, then the relative one
/// Wireshark shows (`tcp.seq`, `tcp.ack`) when known: `250961871 (rel. 1)`.
pub fn seq_text(raw: u32, relative: Option<u32>) -> String {
    match relative {
        Some(relative) => format!("{raw} (rel. {relative})"),
        None => raw.to_string(),
    }
}

/// Wireshark's display filter for one TCP stream.
pub fn stream_filter(stream: u32) -> String {
    format!("tcp.stream eq {stream}")
}

pub fn display_path(path: &str) -> String {
    if path.starts_with('/') {
        std::path::Path::new(path).file_name().map_or_else(
            || path.to_string(),
            |name| name.to_string_lossy().to_string(),
        )
    } else {
        path.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_in_every_format() {
        let ts = "2026-11-21T13:31:25.913871Z";
        let ns = parse_ns(ts).unwrap_or(0);
        let view = |time| View {
            time,
            origin_ns: Some(ns - 8_035_000_000),
            ..View::default()
        };
        assert_eq!(view(TimeFormat::Utc).time(ts), "13:31:25.913871");
        assert_eq!(view(TimeFormat::Relative).time(ts), "+8.035000 s");
        assert_eq!(view(TimeFormat::Epoch).time(ts), "1795267885.913871");
        assert_eq!(view(TimeFormat::Utc).time_short(ts), "13:31:25.913");
        assert_eq!(view(TimeFormat::Relative).time_short(ts), "+8.035 s");
        assert_eq!(
            view(TimeFormat::Utc).moment(ts),
            "2026-11-21 13:31:25.913871Z"
        );
    }

    #[test]
    fn absolute_paths_become_file_names() {
        assert_eq!(
            display_path("/home/ann/cases/4711/trace.pcap"),
            "trace.pcap"
        );
        assert_eq!(display_path("cases/trace.pcap"), "cases/trace.pcap");
        assert_eq!(
            display_command("rstscope analyze /home/ann/t.pcap -o /tmp/r.md", &[]),
            "rstscope analyze t.pcap -o r.md"
        );
    }
}
