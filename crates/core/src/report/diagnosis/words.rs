//! The diagnosis in words: a group's sender, distance, servers, ports and sizes as a reader
//! says them, its sentence, and the headline over all groups. Every format writes these.

use super::*;

/// One address; several that share a /24 (IPv4) or /64 (IPv6), as the prefix; else a count.
pub(super) fn servers_in_words(servers: &[IpAddr], more: u64) -> String {
    match servers {
        [] => "no server".to_string(),
        [one] if more == 0 => one.to_string(),
        _ => {
            let count = servers.len() as u64 + more;
            match (more, common_prefix(servers)) {
                (0, Some(prefix)) => format!("{prefix} ({count} servers)"),
                _ => format!("{count} servers"),
            }
        }
    }
}

pub(super) fn common_prefix(servers: &[IpAddr]) -> Option<String> {
    let first = servers.first()?;
    match first {
        IpAddr::V4(v4) => {
            let net = v4.octets();
            servers
                .iter()
                .all(|ip| matches!(ip, IpAddr::V4(o) if o.octets()[..3] == net[..3]))
                .then(|| format!("{}.{}.{}.0/24", net[0], net[1], net[2]))
        }
        IpAddr::V6(v6) => {
            let net = v6.segments();
            servers
                .iter()
                .all(|ip| matches!(ip, IpAddr::V6(o) if o.segments()[..4] == net[..4]))
                .then(|| {
                    let prefix =
                        std::net::Ipv6Addr::new(net[0], net[1], net[2], net[3], 0, 0, 0, 0);
                    format!("{prefix}/64")
                })
        }
    }
}

/// "1 hop", "2 hops".
pub fn hops_in_words(hops: u8) -> String {
    match hops {
        0 => "at the capture point".to_string(),
        1 => "1 hop from the capture point".to_string(),
        n => format!("{n} hops from the capture point"),
    }
}

/// The ports, in words: "port 443", "ports 443, 8443", "12 ports".
pub fn ports_in_words(group: &DiagnosisGroup) -> String {
    match group.ports.as_slice() {
        [one] if group.port_count == 1 => format!("port {one}"),
        list if group.port_count <= 4 => {
            let list: Vec<String> = list.iter().map(u16::to_string).collect();
            format!("ports {}", list.join(", "))
        }
        _ => format!("{} ports", group.port_count),
    }
}

/// "3 resets", "1 reset (+5 follow-ups)": a group's size for a title.
pub fn size_in_words(group: &DiagnosisGroup) -> String {
    match group.follow_ups {
        0 => count(group.resets, "reset"),
        n => format!(
            "{} (+{})",
            count(group.resets, "reset"),
            count(n, "follow-up")
        ),
    }
}

/// "384 servers, 6 ports", "198.51.100.7, port 8000".
pub fn servers_and_ports(group: &DiagnosisGroup) -> String {
    format!("{}, {}", group.servers, ports_in_words(group))
}

/// A device's distance for a groups table: its hops, "?" when unknown, empty for the peer.
pub fn hops_cell(group: &DiagnosisGroup) -> String {
    match (group.verdict, group.device_hops) {
        ("firewall" | "middlebox", Some(hops)) => hops.to_string(),
        ("firewall" | "middlebox", None) => "?".to_string(),
        _ => String::new(),
    }
}

/// "+1 more group", "+12 more groups".
pub fn more_groups(n: usize) -> String {
    if n == 1 {
        "+1 more group".to_string()
    } else {
        format!("+{n} more groups")
    }
}

/// Who sent a group's resets, in words.
pub fn actor(group: &DiagnosisGroup) -> String {
    let distance = group.device_hops.map_or_else(
        || "at a distance the capture cannot tell".to_string(),
        hops_in_words,
    );
    match group.verdict {
        "peer" => format!("the {}", group.from),
        "firewall" => format!("a firewall {distance}, in the {}'s name,", group.from),
        "middlebox" => format!("a middlebox {distance}, in the {}'s name,", group.from),
        _ => format!(
            "senders rstscope could not tell, in the {}'s name,",
            group.from
        ),
    }
}

/// What a group's resets did, in words, for one connection or several (for injected resets,
/// one reset or several).
pub fn what_happened(group: &DiagnosisGroup) -> &'static str {
    let several = if group.scenario == "injected_reset" {
        group.resets + group.follow_ups > 1
    } else {
        group.flows > 1
    };
    match (group.scenario, several) {
        ("refused", true) => "refused connections (nothing listening)",
        ("refused", false) => "refused a connection (nothing listening)",
        ("firewall_reject", true) => "rejected connection attempts",
        ("firewall_reject", false) => "rejected a connection attempt",
        ("idle_timeout", true) => "reset connections that had been idle",
        ("idle_timeout", false) => "reset a connection that had been idle",
        ("state_loss", true) => "reset connections it no longer tracked",
        ("state_loss", false) => "reset a connection it no longer tracked",
        ("in_path_reject", true) => "blocked requests",
        ("in_path_reject", false) => "blocked a request",
        ("injected_reset", true) => "injected forged resets",
        ("injected_reset", false) => "injected a forged reset",
        ("peer_abort", true) => "aborted connections (application aborts)",
        ("peer_abort", false) => "aborted a connection (an application abort)",
        ("local_abort", true) => "aborted its own connections",
        ("local_abort", false) => "aborted its own connection",
        ("stale_connection", true) => "no longer knew the connections",
        ("stale_connection", false) => "no longer knew the connection",
        ("health_check", true) => {
            "opened and reset connections without data (health checks or probes)"
        }
        ("health_check", false) => {
            "opened and reset a connection without data (a health check or probe)"
        }
        ("reset_after_close", true) => "closed connections with a reset after FIN",
        ("reset_after_close", false) => "closed a connection with a reset after FIN",
        ("no_socket", true) => "answered segments of connections it no longer had",
        ("no_socket", false) => "answered segments of a connection it no longer had",
        // Live capture with kernel tracing: the capturing host's own resets.
        ("host_firewall", true) => "reset connections from its own firewall or a raw socket",
        ("host_firewall", false) => "reset a connection from its own firewall or a raw socket",
        ("abort_on_close", true) => "closed sockets with unread data (the kernel reset them)",
        ("abort_on_close", false) => "closed a socket with unread data (the kernel reset it)",
        ("abortive_close", true) => "aborted connections (SO_LINGER 0 or an abort)",
        ("abortive_close", false) => "aborted a connection (SO_LINGER 0 or an abort)",
        ("abort_on_data", true) => "got data on sockets it had closed, and reset them",
        ("abort_on_data", false) => "got data on a socket it had closed, and reset it",
        ("time_wait", true) => "answered segments for connections in TIME_WAIT",
        ("time_wait", false) => "answered a segment for a connection in TIME_WAIT",
        ("keepalive_timeout", true) => "gave up on peers that stopped answering keepalives",
        ("keepalive_timeout", false) => "gave up on a peer that stopped answering keepalives",
        ("linger_timeout", _) => "reset closing connections whose linger time ran out",
        ("out_of_memory", _) => "reset connections for lack of socket memory",
        ("disconnect_with_data", _) => "disconnected sockets with unread data",
        ("invalid_segment", _) => "reset connections over segments it could not accept",
        ("mptcp_reset", _) => "reset MPTCP subflows",
        ("kernel_reset", _) => "reset connections (its kernel names no reason)",
        (_, true) => "reset connections for reasons the capture does not show",
        (_, false) => "reset a connection for reasons the capture does not show",
    }
}

/// "1 reset", "2 resets"; any noun with its plural in "s".
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A group in one sentence, without its explanation: who, what, where, how many.
pub fn sentence(group: &DiagnosisGroup) -> String {
    let mut text = format!(
        "{}: {} {} on {}",
        count(group.resets, "reset"),
        actor(group),
        what_happened(group),
        servers_and_ports(group)
    );
    if let Some(idle) = group.idle_in_words() {
        text.push_str(&format!(", {idle}"));
    }
    if group.follow_ups > 0 {
        let from = match (group.follow_ups_from.client, group.follow_ups_from.server) {
            (_, 0) => " from the client".to_string(),
            (0, _) => " from the server".to_string(),
            (client, server) => {
                format!(": {server} in the server's name, {client} in the client's")
            }
        };
        text.push_str(&format!(
            " (+{}{from})",
            count(group.follow_ups, "follow-up reset")
        ));
    }
    text
}

/// The headline: the heaviest group, and how much of the capture it is.
pub fn headline(groups: &[DiagnosisGroup], resets: u64) -> String {
    let Some(top) = groups.first() else {
        return "No resets: every connection closed with FIN, or did not close.".to_string();
    };
    // The group's own resets; the follow-ups that answered them are told apart.
    let share = top.weight();
    let tied = groups.get(1).is_some_and(|next| next.weight() == share);
    let answered = top.follow_ups - top.follow_ups_same_verdict;
    let lead = if share == resets {
        if resets == 1 {
            "The one reset".to_string()
        } else {
            format!("All {resets} resets")
        }
    } else if share * 2 > resets {
        format!("Most resets ({share} of {resets})")
    } else if tied {
        let ties = groups.iter().take_while(|g| g.weight() == share).count();
        if ties == groups.len() {
            format!(
                "{resets} resets in {} groups of {share} each; the earliest",
                groups.len()
            )
        } else {
            format!(
                "{resets} resets in {} groups, the {ties} largest of {share} each; the earliest of them",
                groups.len()
            )
        }
    } else if share * 2 == resets {
        format!("Half of the resets ({share} of {resets})")
    } else {
        format!("The largest group of resets ({share} of {resets})")
    };
    let followed = match (answered, share) {
        (0, _) => String::new(),
        (1, 1) => "; 1 more answered it".to_string(),
        (1, _) => "; 1 more answered them".to_string(),
        (n, 1) => format!("; {n} more answered it"),
        (n, _) => format!("; {n} more answered them"),
    };
    let who = match top.verdict {
        "peer" => format!("came from the {} itself, which", top.from),
        "firewall" | "middlebox" => {
            format!("came from {}, which", actor(top).trim_end_matches(','))
        }
        _ => "could not be attributed; they".to_string(),
    };
    let idle = top
        .idle_in_words()
        .map_or_else(String::new, |idle| format!(", {idle}"));
    format!(
        "{lead} {who} {} on {}{idle}{followed}.",
        what_happened(top),
        servers_and_ports(top)
    )
}
