//! Where a ladder's vertical lines stand. Hop estimates from TTLs (the initial TTL a sender
//! most likely used, less the TTL left) put the capture point between the sides, and the
//! device a firewall or middlebox verdict blames at its distance from the capture point (the
//! verdict's `device_hops`) towards the side its RST claims to come from.

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
    pub(super) client_ttl: Option<LaneTtl>,
    pub(super) server_ttl: Option<LaneTtl>,
    /// Where the capture point stands, when the TTLs tell.
    pub(super) capture_x: Option<f64>,
    pub(super) device: Option<Device<'a>>,
}

/// A side's usual TTL, and whether it was learnt from the side's other flows (the verdict's
/// baseline when this flow had no packet of it).
#[derive(Debug, Clone, Copy)]
pub(super) struct LaneTtl {
    pub(super) ttl: u8,
    pub(super) from_other_flows: bool,
}

/// A firewall or middlebox that a reset's verdict puts on the path.
pub(super) struct Device<'a> {
    pub(super) x: f64,
    /// Its distance in hops from the capture point, when the verdict fixed it.
    pub(super) hops: Option<u8>,
    /// The first reset blamed on it: its verdict and TTL label the line.
    pub(super) reset: &'a ResetReport,
}

impl<'a> Lanes<'a> {
    pub(super) fn measure(flow: &'a FlowReport, rows: &[Row<'_>]) -> Self {
        let side_ttl = |side: &str| {
            usual_ttl(rows, side)
                .map(|ttl| LaneTtl {
                    ttl,
                    from_other_flows: false,
                })
                .or_else(|| {
                    // No packet of the side in the ladder: the baseline the verdict used.
                    flow.resets
                        .iter()
                        .filter(|r| r.from == side)
                        .find_map(|r| r.sender_ttl)
                        .map(|t| LaneTtl {
                            ttl: t.usual,
                            from_other_flows: t.learnt_from == "other_flows",
                        })
                })
        };
        let client_ttl = side_ttl("client");
        let server_ttl = side_ttl("server");
        let client_hops = client_ttl.map(|t| hops(t.ttl));
        let server_hops = server_ttl.map(|t| hops(t.ttl));
        let capture = capture_fraction(client_hops, server_hops);
        let device = flow
            .resets
            .iter()
            .find(|r| is_path_verdict(r.verdict))
            .map(|reset| {
                let far_hops = if reset.from == "client" {
                    client_hops
                } else {
                    server_hops
                };
                let fraction = device_fraction(
                    reset.from,
                    reset.device_hops,
                    capture.unwrap_or(0.5),
                    far_hops,
                );
                Device {
                    x: CLIENT_X + (SERVER_X - CLIENT_X) * fraction,
                    hops: reset.device_hops,
                    reset,
                }
            });
        Lanes {
            client_ttl,
            server_ttl,
            capture_x: capture.map(|f| CLIENT_X + (SERVER_X - CLIENT_X) * f),
            device,
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

    /// The stretch labels may use, between the endpoint lines and off the device's line: the
    /// wider side of it when there is one.
    pub(super) fn label_span(&self) -> (f64, f64) {
        let (low, high) = (CLIENT_X + 6.0, SERVER_X - 6.0);
        match &self.device {
            Some(device) if device.x - low >= high - device.x => (low, device.x - 8.0),
            Some(device) => (device.x + 8.0, high),
            None => (low, high),
        }
    }
}

/// The capture point's place between client (0) and server (1): where the two sides' hop
/// counts put it.
fn capture_fraction(client_hops: Option<u8>, server_hops: Option<u8>) -> Option<f64> {
    match (client_hops, server_hops) {
        (Some(c), Some(s)) if u16::from(c) + u16::from(s) > 0 => {
            Some(f64::from(c) / (f64::from(c) + f64::from(s)))
        }
        (Some(0), _) => Some(0.0),
        (_, Some(0)) => Some(1.0),
        (Some(_), Some(_)) => Some(0.5),
        _ => None,
    }
}

/// The device's place between client (0) and server (1): `device_hops` from the capture
/// point towards the side the RST claims to come from, in proportion to that side's own
/// distance. With its distance unknown, half-way between the capture point and that side.
fn device_fraction(
    claimed: &str,
    device_hops: Option<u8>,
    capture: f64,
    far_hops: Option<u8>,
) -> f64 {
    let far_end = if claimed == "client" { 0.0 } else { 1.0 };
    let share = match (device_hops, far_hops) {
        (Some(0), _) => 0.0,
        (Some(h), Some(far)) if far > 0 => (f64::from(h) / f64::from(far)).min(1.0),
        _ => 0.5,
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
    fn device_sits_at_its_distance_from_the_capture_point() {
        // Capture at the client, server 12 hops away, device 2 hops from the capture point.
        let capture = capture_fraction(Some(0), Some(12)).unwrap_or(-1.0);
        assert!(capture.abs() < 1e-9);
        let f = device_fraction("server", Some(2), capture, Some(12));
        assert!((f - 2.0 / 12.0).abs() < 1e-9);
        // Capture in the middle (8 hops to either side), device 2 hops towards the client.
        let capture = capture_fraction(Some(8), Some(8)).unwrap_or(-1.0);
        let f = device_fraction("client", Some(2), capture, Some(8));
        assert!((f - 0.375).abs() < 1e-9);
        // At the capture point: there, kept off the client's line.
        let f = device_fraction("server", Some(0), 0.5, Some(12));
        assert!((f - 0.5).abs() < 1e-9);
        // Distance unknown: half-way towards the claimed side, never on an endpoint's line.
        let f = device_fraction("server", None, 0.0, None);
        assert!((f - 0.5).abs() < 1e-9);
        assert!(
            (DEVICE_MARGIN..=1.0 - DEVICE_MARGIN).contains(&device_fraction(
                "server",
                Some(0),
                0.0,
                None
            ))
        );
    }
}
