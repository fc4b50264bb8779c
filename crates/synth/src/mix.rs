//! The mix: which scenario each synthetic connection plays out, how often, and what it carries
//! before its end (a few request/response exchanges, or a bulk transfer either way).

use super::rng::Rng;

/// The scenario one synthetic connection plays out. The reset kinds cover every case
/// rstscope attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Data, then FIN, client first.
    FinByClient,
    /// Data, then FIN, server first.
    FinByServer,
    /// SYNs that nothing answers (a firewall that drops).
    Unanswered,
    /// A SYN to a closed port: the server's stack answers with RST (its TTL, IP ID 0).
    Refused,
    /// A SYN rejected in the server's name by a firewall nearer than the server.
    FirewallReject,
    /// Connect, then the client resets without data (a load balancer's probe, a port scan).
    HealthCheck,
    /// The server application aborts mid-response.
    PeerAbort,
    /// The client application aborts while data still arrives; its stack resets the rest.
    LocalAbort,
    /// Both sides close with FIN, then the client resets instead of the last ACK.
    ResetAfterFin,
    /// A long silence, a segment, then a RST from a device one hop nearer than the server.
    IdleReset,
    /// Forged RSTs (another TTL) race the real server, which keeps sending.
    InjectedReset,
    /// A device in the path (an IPS) rejects a request in the server's name.
    InPathReject,
    /// The server lost the connection (a restart): its stack answers a request with RST.
    StaleConnection,
}

impl Kind {
    /// Every kind, in summary order.
    pub const ALL: [Kind; 13] = [
        Kind::FinByClient,
        Kind::FinByServer,
        Kind::Unanswered,
        Kind::Refused,
        Kind::FirewallReject,
        Kind::HealthCheck,
        Kind::PeerAbort,
        Kind::LocalAbort,
        Kind::ResetAfterFin,
        Kind::IdleReset,
        Kind::InjectedReset,
        Kind::InPathReject,
        Kind::StaleConnection,
    ];

    /// A short snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::FinByClient => "fin_by_client",
            Kind::FinByServer => "fin_by_server",
            Kind::Unanswered => "unanswered",
            Kind::Refused => "refused",
            Kind::FirewallReject => "firewall_reject",
            Kind::HealthCheck => "health_check",
            Kind::PeerAbort => "peer_abort",
            Kind::LocalAbort => "local_abort",
            Kind::ResetAfterFin => "reset_after_fin",
            Kind::IdleReset => "idle_reset",
            Kind::InjectedReset => "injected_reset",
            Kind::InPathReject => "in_path_reject",
            Kind::StaleConnection => "stale_connection",
        }
    }

    /// True when the scenario ends in a reset.
    pub fn is_reset(self) -> bool {
        !matches!(
            self,
            Kind::FinByClient | Kind::FinByServer | Kind::Unanswered
        )
    }

    /// True when the connection never carries data: an attempt, answered or not, or a probe.
    pub fn is_attempt(self) -> bool {
        matches!(
            self,
            Kind::Unanswered | Kind::Refused | Kind::FirewallReject | Kind::HealthCheck
        )
    }

    /// Where the kind sits in `ALL`.
    pub fn index(self) -> usize {
        self as usize
    }

    /// How many in a thousand connections play this kind.
    fn weight(self) -> u32 {
        match self {
            Kind::FinByClient => 420,
            Kind::FinByServer => 250,
            Kind::Unanswered => 15,
            Kind::Refused => 40,
            Kind::FirewallReject => 25,
            Kind::HealthCheck => 60,
            Kind::PeerAbort | Kind::LocalAbort => 30,
            Kind::ResetAfterFin => 40,
            Kind::IdleReset | Kind::InjectedReset | Kind::InPathReject => 20,
            Kind::StaleConnection => 30,
        }
    }

    pub(crate) fn pick(rng: &mut Rng) -> Kind {
        let weights = Kind::ALL.map(Kind::weight);
        Kind::ALL[rng.pick(&weights)]
    }
}

/// What a connection carries between its handshake and its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Body {
    /// Request/response exchanges (HTTP keep-alive, RPC, a shell).
    Interactive { exchanges: u16 },
    /// One request, then a large response.
    Download { bytes: u64 },
    /// A large upload, acknowledged by the server.
    Upload { bytes: u64 },
}

impl Body {
    /// Full-size traces carry bulk transfers far more often.
    pub(crate) fn pick(rng: &mut Rng, full_size: bool) -> Body {
        let weights: [u32; 3] = if full_size { [30, 60, 10] } else { [72, 20, 8] };
        match rng.pick(&weights) {
            0 => Body::Interactive {
                exchanges: (rng.exp(3.0) as u16).min(30),
            },
            1 => Body::Download {
                bytes: rng.spread(30_000, 4_000_000),
            },
            _ => Body::Upload {
                bytes: rng.spread(20_000, 2_000_000),
            },
        }
    }
}

/// The length of a request: mostly a few hundred bytes, sometimes keystrokes.
pub(crate) fn request_len(rng: &mut Rng) -> u64 {
    if rng.chance(0.1) {
        rng.between(1, 60)
    } else {
        rng.spread(60, 1400)
    }
}

/// The length of a response: mostly small, with a long tail.
pub(crate) fn response_len(rng: &mut Rng) -> u64 {
    match rng.pick(&[85, 12, 3]) {
        0 => rng.spread(200, 20_000),
        1 => rng.spread(20_000, 300_000),
        _ => rng.spread(300_000, 3_000_000),
    }
}

/// The server port a connection of `kind` goes to: a closed one for refused attempts, web
/// ports for health checks, else the usual services, HTTPS most.
pub(crate) fn server_port(rng: &mut Rng, kind: Kind) -> u16 {
    const CLOSED: [u16; 6] = [23, 81, 3389, 5900, 8081, 9200];
    const PROBED: [u16; 4] = [80, 443, 8080, 8443];
    const SERVICES: [(u16, u32); 10] = [
        (443, 60),
        (80, 15),
        (22, 4),
        (25, 2),
        (993, 3),
        (5432, 3),
        (3306, 3),
        (6379, 3),
        (8080, 4),
        (8443, 3),
    ];
    let pick = |rng: &mut Rng, ports: &[u16]| {
        ports
            .get(rng.below(ports.len() as u64) as usize)
            .copied()
            .unwrap_or(443)
    };
    match kind {
        Kind::Refused => pick(rng, &CLOSED),
        Kind::HealthCheck => pick(rng, &PROBED),
        _ => SERVICES[rng.pick(&SERVICES.map(|(_, weight)| weight))].0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_add_up_to_a_thousand_and_names_are_unique() {
        assert_eq!(Kind::ALL.iter().map(|k| k.weight()).sum::<u32>(), 1000);
        let mut names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Kind::ALL.len());
        assert!(Kind::ALL.iter().enumerate().all(|(i, k)| k.index() == i));
    }
}
