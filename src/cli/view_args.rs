//! Options shared by `analyze` and `capture` that change what people read, never a verdict:
//! the table's width and columns, how times are written, and which flows are listed.

use std::io::{self, IsTerminal};
use std::net::IpAddr;

use clap::{Args, ValueEnum};

use rstscope_core::anonymization::{AnonymizeKey, Anonymizer};
use rstscope_core::report::Narrowing;
use rstscope_core::report::table::TableStyle;
use rstscope_core::report::view::{TimeFormat, View};

#[derive(Debug, Args)]
pub(super) struct ViewArgs {
    /// Table: every column (IP ID, sequence numbers, checksum, evidence) and each listed
    /// reset's explanation under it, instead of the compact columns that fit the width.
    #[arg(long)]
    wide: bool,

    /// How the table, Markdown, Jira, HTML and capture's running lines write times: utc
    /// (13:31:25.913871), local (the same in the TZ time zone), relative (seconds since the
    /// first packet) or epoch (seconds since 1970, as tcpdump -tt). JSON always writes RFC
    /// 3339 UTC.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = TimeArg::Utc)]
    time_format: TimeArg,

    /// When the table colours its verdicts: auto (on a terminal, unless NO_COLOR is set),
    /// always (in a pipe too, for less -R), never.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto)]
    color: ColorWhen,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum ColorWhen {
    Auto,
    Always,
    Never,
}

impl ColorWhen {
    /// Whether the table is coloured, for output that is a terminal or not.
    pub(super) fn colour(self, terminal: bool) -> bool {
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TimeArg {
    Utc,
    Local,
    Relative,
    Epoch,
}

impl ViewArgs {
    /// The view for people-facing output; `all` is `--all`.
    pub(super) fn view(&self, all: bool) -> View {
        View {
            wide: self.wide,
            all,
            time: match self.time_format {
                TimeArg::Utc => TimeFormat::Utc,
                TimeArg::Local => TimeFormat::Local,
                TimeArg::Relative => TimeFormat::Relative,
                TimeArg::Epoch => TimeFormat::Epoch,
            },
            origin_ns: None,
        }
    }

    /// `--color`.
    pub(super) fn color(&self) -> ColorWhen {
        self.color
    }
}

/// The table's drawing for an output that is a terminal or not, coloured or not: `COLUMNS`
/// overrides the width; a terminal's own width is asked otherwise; a pipe or file gets the
/// table's default.
pub(super) fn table_style(terminal: bool, colour: bool) -> TableStyle {
    let from_env = std::env::var("COLUMNS")
        .ok()
        .and_then(|text| text.trim().parse::<u16>().ok())
        .filter(|&w| w >= 40);
    let width = from_env.or_else(|| {
        if terminal && io::stdout().is_terminal() {
            comfy_table::Table::new().width()
        } else {
            None
        }
    });
    TableStyle {
        terminal,
        colour,
        width,
    }
}

#[derive(Debug, Args)]
pub(super) struct NarrowArgs {
    /// List only flows with a reset of this verdict: peer, firewall, middlebox or unknown
    /// (repeat, or separate with commas). The summary still counts every flow, and no verdict
    /// changes.
    #[arg(long, value_enum, value_name = "VERDICT", value_delimiter = ',')]
    verdict: Vec<VerdictArg>,

    /// List only flows with a reset of this scenario (refused, firewall_reject, peer_abort,
    /// local_abort, stale_connection, idle_timeout, state_loss, in_path_reject,
    /// injected_reset, health_check, reset_after_close, no_socket, unknown).
    #[arg(long, value_name = "SCENARIO", value_delimiter = ',', value_parser = parse_scenario)]
    scenario: Vec<String>,

    /// List only flows to or from this address (as captured: with --anonymize, the
    /// original address; the report shows its anonymised form).
    #[arg(long, value_name = "IP", value_delimiter = ',')]
    host: Vec<IpAddr>,

    /// List only flows with this port at either end.
    #[arg(long, value_name = "PORT", value_delimiter = ',')]
    port: Vec<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum VerdictArg {
    Peer,
    Firewall,
    Middlebox,
    Unknown,
}

/// Every scenario name the reports use.
const SCENARIOS: [&str; 25] = [
    "refused",
    "firewall_reject",
    "peer_abort",
    "local_abort",
    "stale_connection",
    "idle_timeout",
    "state_loss",
    "in_path_reject",
    "injected_reset",
    "health_check",
    "reset_after_close",
    "no_socket",
    // Live capture with kernel tracing only.
    "host_firewall",
    "abort_on_close",
    "abort_on_data",
    "abortive_close",
    "linger_timeout",
    "out_of_memory",
    "time_wait",
    "keepalive_timeout",
    "disconnect_with_data",
    "invalid_segment",
    "mptcp_reset",
    "kernel_reset",
    "unknown",
];

fn parse_scenario(text: &str) -> Result<String, String> {
    let name = text.trim().replace('-', "_");
    if SCENARIOS.contains(&name.as_str()) {
        Ok(name)
    } else {
        Err(format!(
            "'{text}' is not a scenario; use one of {}",
            SCENARIOS.join(", ")
        ))
    }
}

impl NarrowArgs {
    /// The narrowing, hosts anonymised the way the report's addresses are.
    pub(super) fn narrowing(&self, anonymize: Option<AnonymizeKey>) -> Narrowing {
        let mut anonymizer = anonymize.map(|key| Anonymizer::new(&key));
        Narrowing {
            verdicts: self
                .verdict
                .iter()
                .map(|v| match v {
                    VerdictArg::Peer => "peer",
                    VerdictArg::Firewall => "firewall",
                    VerdictArg::Middlebox => "middlebox",
                    VerdictArg::Unknown => "unknown",
                })
                .map(str::to_string)
                .collect(),
            scenarios: self.scenario.clone(),
            hosts: self
                .host
                .iter()
                .map(|&ip| match &mut anonymizer {
                    Some(anonymizer) => anonymizer.ip(ip),
                    None => ip,
                })
                .collect(),
            ports: self.port.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstscope_core::Scenario;

    /// The list `--scenario` accepts is the one the reports write.
    #[test]
    fn every_scenario_name_is_accepted() {
        let all = [
            Scenario::Refused,
            Scenario::FirewallReject,
            Scenario::PeerAbort,
            Scenario::LocalAbort,
            Scenario::StaleConnection,
            Scenario::IdleTimeout,
            Scenario::StateLoss,
            Scenario::InPathReject,
            Scenario::InjectedReset,
            Scenario::HealthCheck,
            Scenario::ResetAfterClose,
            Scenario::NoSocket,
            Scenario::HostFirewall,
            Scenario::Unknown,
        ];
        let kernel = rstscope_core::kernel::KernelScenario::ALL.map(Scenario::Kernel);
        let all: Vec<Scenario> = all.into_iter().chain(kernel).collect();
        for &scenario in &all {
            assert_eq!(
                parse_scenario(scenario.as_str()).as_deref(),
                Ok(scenario.as_str())
            );
        }
        assert_eq!(all.len(), SCENARIOS.len());
        assert!(parse_scenario("idle-timeout").is_ok());
        assert!(parse_scenario("timeout").is_err());
    }
}
