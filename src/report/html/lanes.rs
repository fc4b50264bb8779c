//! Where a ladder's vertical lines stand. Hop estimates from TTLs (the initial TTL a sender
//! most likely used, less the TTL left) put the capture point near one side, and place the
//! device that a firewall or middlebox verdict blames between the capture point and the side
//! its RST claims to come from.

use std::collections::BTreeMap;

use super::rows::Row;
use crate::report::{FlowReport, ResetReport};

/// Where the client's and the server's vertical lines stand.
pub(super) const CLIENT_X: f64 = 210.0;
pub(super) const SERVER_X: f64 = 750.0;
/// The forging device's line never comes closer to an endpoint's than this share of the span.
const DEVICE_MARGIN: f64 = 0.12;

pub(super) use crate::attribution::hops;

/// A side's usual TTL: the most common among its non-RST segments in the ladder (the larger
/// TTL on a tie).
fn usual_ttl(rows: &[Row<'_>], side: &str) -> Option<u8> {
    let mut counts: BTreeMap<u8, usize> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.from == side && !r.is_rst()) {
        *counts.entry(row.ttl).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|&(ttl, n)| (n, ttl))
        .map(|(ttl, _)| ttl)
}

/// Where the ladder's lines stand, from the hop estimates.
pub(super) struct Lanes<'a> {
    pub(super) client_ttl: Option<u8>,
    pub(super) server_ttl: Option<u8>,
    pub(super) device: Option<Device<'a>>,
}

/// A firewall or middlebox that a reset's verdict puts on the path.
pub(super) struct Device<'a> {
    pub(super) x: f64,
    /// The first reset blamed on it: its verdict and TTL label the line.
    pub(super) reset: &'a ResetReport,
}

impl<'a> Lanes<'a> {
    pub(super) fn measure(flow: &'a FlowReport, rows: &[Row<'_>]) -> Self {
        let client_ttl = usual_ttl(rows, "client");
        let server_ttl = usual_ttl(rows, "server");
        let device = flow
            .resets
            .iter()
            .find(|r| is_path_verdict(r.verdict))
            .map(|reset| Device {
                x: CLIENT_X
                    + (SERVER_X - CLIENT_X)
                        * device_fraction(
                            reset.from,
                            hops(reset.ttl),
                            client_ttl.map(hops),
                            server_ttl.map(hops),
                        ),
                reset,
            });
        Lanes {
            client_ttl,
            server_ttl,
            device,
        }
    }

    /// The side whose packets crossed the fewest routers: the capture point is near it.
    pub(super) fn capture_side(&self) -> Option<&'static str> {
        match (self.client_ttl.map(hops), self.server_ttl.map(hops)) {
            (Some(c), Some(s)) if s < c => Some("server"),
            (Some(_), _) => Some("client"),
            (None, Some(_)) => Some("server"),
            (None, None) => None,
        }
    }

    /// Where a row's arrow starts and ends: a forged RST starts at the device's line.
    pub(super) fn arrow_ends(&self, row: &Row<'_>) -> (f64, f64) {
        let to = side_x(other_side(row.from));
        match (&self.device, row.reset) {
            (Some(device), Some(reset)) if is_path_verdict(reset.verdict) => (device.x, to),
            _ => (side_x(row.from), to),
        }
    }
}

/// The device's place between client (0) and server (1). The capture point sits where the
/// two sides' hop counts put it; the device is `rst_hops` from it towards the side the RST
/// claims to come from, in proportion to that side's own hop count.
fn device_fraction(
    claimed: &str,
    rst_hops: u8,
    client_hops: Option<u8>,
    server_hops: Option<u8>,
) -> f64 {
    let c = f64::from(client_hops.unwrap_or(0));
    let s = f64::from(server_hops.unwrap_or(0));
    let capture = if c + s > 0.0 { c / (c + s) } else { 0.5 };
    let (far_end, far_hops) = if claimed == "client" {
        (0.0, c)
    } else {
        (1.0, s)
    };
    let share = if far_hops > 0.0 {
        (f64::from(rst_hops) / far_hops).min(1.0)
    } else {
        0.5
    };
    (capture + (far_end - capture) * share).clamp(DEVICE_MARGIN, 1.0 - DEVICE_MARGIN)
}

pub(super) fn is_path_verdict(verdict: &str) -> bool {
    matches!(verdict, "firewall" | "middlebox")
}

pub(super) fn side_x(side: &str) -> f64 {
    if side == "server" { SERVER_X } else { CLIENT_X }
}

fn other_side(side: &str) -> &'static str {
    if side == "server" { "client" } else { "server" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_estimates() {
        assert_eq!(crate::attribution::initial_ttl(52), 64);
        assert_eq!(hops(52), 12);
        assert_eq!(hops(62), 2);
        assert_eq!(hops(64), 0);
        assert_eq!(hops(30), 2);
        assert_eq!(hops(120), 8);
        assert_eq!(hops(250), 5);
        assert_eq!(hops(255), 0);
        assert_eq!(hops(0), 32);
    }

    #[test]
    fn device_sits_between_capture_point_and_claimed_side() {
        // Capture at the client, server 12 hops away, RST 2 hops away.
        assert!((device_fraction("server", 2, Some(0), Some(12)) - 2.0 / 12.0).abs() < 1e-9);
        // Capture at the server, RST claiming the client from 3 of its 12 hops.
        assert!((device_fraction("client", 3, Some(12), Some(0)) - 0.75).abs() < 1e-9);
        // Nothing known: somewhere on the claimed side, never on an endpoint's line.
        let f = device_fraction("server", 0, None, None);
        assert!((DEVICE_MARGIN..=1.0 - DEVICE_MARGIN).contains(&f));
    }
}
