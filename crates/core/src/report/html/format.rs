//! Small text helpers shared by the page's sections and drawings: flag names, verdict
//! badges, classes and colours, addresses, and durations in a readable unit. Only `badge`
//! returns markup (and escapes its text); callers escape the rest.

use super::escape;

/// The schema's flag letters as names: `PA` → `PSH,ACK`.
pub(super) fn flag_names(flags: &str) -> String {
    if flags.is_empty() {
        return "(no flags)".to_string();
    }
    let names: Vec<String> = flags
        .chars()
        .map(|letter| match letter {
            'S' => "SYN".to_string(),
            'A' => "ACK".to_string(),
            'F' => "FIN".to_string(),
            'R' => "RST".to_string(),
            'P' => "PSH".to_string(),
            'U' => "URG".to_string(),
            'E' => "ECE".to_string(),
            'C' => "CWR".to_string(),
            other => other.to_string(),
        })
        .collect();
    names.join(",")
}

/// A verdict badge (the verdict text is escaped; its class is one of four known names).
pub(super) fn badge(verdict: &str) -> String {
    format!(
        "<span class=\"badge {}\">{}</span>",
        verdict_class(verdict),
        escape(verdict)
    )
}

pub(super) fn verdict_class(verdict: &str) -> &'static str {
    match verdict {
        "peer" => "v-peer",
        "firewall" => "v-firewall",
        "middlebox" => "v-middlebox",
        _ => "v-unknown",
    }
}

pub(super) fn verdict_colour(verdict: &str) -> &'static str {
    match verdict {
        "peer" => "#2e7d32",
        "firewall" => "#ef6c00",
        "middlebox" => "#c62828",
        _ => "#757575",
    }
}

pub(super) fn points_class(points_to: &str) -> &'static str {
    match points_to {
        "peer" => "peer",
        "path" => "path",
        _ => "neither",
    }
}

pub(super) use crate::report::table::human_duration;

/// A span of capture time: milliseconds, seconds, minutes or hours.
pub(super) fn human_span(secs: f64) -> String {
    if secs < 1.0 {
        format!("{:.0} ms", secs * 1e3)
    } else if secs < 120.0 {
        format!("{secs:.1} s")
    } else if secs < 7200.0 {
        format!("{:.1} min", secs / 60.0)
    } else {
        format!("{:.1} h", secs / 3600.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_named() {
        assert_eq!(flag_names("PA"), "PSH,ACK");
        assert_eq!(flag_names("SA"), "SYN,ACK");
        assert_eq!(flag_names("RA"), "RST,ACK");
        assert_eq!(flag_names("FA"), "FIN,ACK");
        assert_eq!(flag_names("S"), "SYN");
        assert_eq!(flag_names("U"), "URG");
    }
}
