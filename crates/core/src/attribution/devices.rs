//! Idle-timeout defaults of common stateful devices, and how they react when a connection's
//! state has expired (ANCHORS §4). Matching the silence before an idle-timeout reset against
//! them tells the user which device to look at, and how often keepalives must go.

/// What a device does with a packet of a connection whose state it dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OnExpiry {
    /// Answers the next packet with a RST in the peer's name.
    ResetNext,
    /// Sends RSTs when the timer fires, without waiting for a packet.
    ResetAtExpiry,
    /// Drops later packets silently (the sender retransmits, then times out).
    Silent,
}

/// One device family's default.
#[derive(Debug, Clone, Copy)]
pub(super) struct Device {
    pub name: &'static str,
    pub idle_timeout_s: u32,
    pub on_expiry: OnExpiry,
}

/// Defaults from vendor documentation (see ANCHORS §4), shortest first.
pub(super) const DEVICES: &[Device] = &[
    Device {
        name: "Azure Load Balancer / NAT Gateway",
        idle_timeout_s: 240,
        on_expiry: OnExpiry::ResetNext,
    },
    Device {
        name: "F5 BIG-IP (TCP profile)",
        idle_timeout_s: 300,
        on_expiry: OnExpiry::ResetAtExpiry,
    },
    Device {
        name: "AWS NAT Gateway / NLB",
        idle_timeout_s: 350,
        on_expiry: OnExpiry::ResetNext,
    },
    Device {
        name: "GCP load balancer backend keepalive",
        idle_timeout_s: 600,
        on_expiry: OnExpiry::ResetNext,
    },
    Device {
        name: "Linux IPVS (kube-proxy)",
        idle_timeout_s: 900,
        on_expiry: OnExpiry::Silent,
    },
    Device {
        name: "GCP Cloud NAT",
        idle_timeout_s: 1200,
        on_expiry: OnExpiry::Silent,
    },
    Device {
        name: "Cisco ASA / Palo Alto / FortiGate / Check Point",
        idle_timeout_s: 3600,
        on_expiry: OnExpiry::Silent,
    },
];

/// The devices whose default timeout the silence exceeded, closest (longest timeout) first,
/// keeping only those that answer with a reset.
pub(super) fn expired_by(silence_s: f64) -> Vec<&'static Device> {
    let mut matches: Vec<&Device> = DEVICES
        .iter()
        .filter(|d| f64::from(d.idle_timeout_s) <= silence_s && d.on_expiry != OnExpiry::Silent)
        .collect();
    matches.reverse();
    matches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quiet_night_matches_the_longest_resetting_timeouts_first() {
        let names: Vec<&str> = expired_by(400.0).iter().map(|d| d.name).collect();
        assert_eq!(names[0], "AWS NAT Gateway / NLB");
        assert_eq!(names.len(), 3);
        assert!(expired_by(6.5).is_empty());
    }
}
