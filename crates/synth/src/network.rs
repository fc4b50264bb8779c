//! The synthetic network: clients near the capture point, servers some hops away, and on each
//! server's path a device that can send resets in its name. Addresses come only from the
//! documentation ranges (RFC 5737: 192.0.2.0/24 for clients, 198.51.100.0/24 and
//! 203.0.113.0/24 for servers; RFC 3849: 2001:db8::/32).
//!
//! The TTL model: clients start at 64 and are 0 to 2 hops from the capture point; servers
//! start at 64, 128 or 255 and are 2 to 20 hops away; a server's device is nearer than the
//! server. Round trips grow with the hops. Flows copy what they need from here when they
//! start; only the host-wide IP ID counters change afterwards.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::rng::Rng;

/// The router's MAC: every frame from a server (or a device in its name) comes from it.
pub(crate) const ROUTER_MAC: [u8; 6] = [0x02, 0x00, 0x5e, 0x00, 0x00, 0x01];

/// How many IPv6 clients and servers there are.
const V6_CLIENTS: u16 = 1024;
const V6_SERVERS: u16 = 256;

/// How a device that resets connections in a server's name builds its packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stack {
    /// A Linux firewall (`reject with tcp reset`): IP ID 0, DF set.
    Linux,
    /// An appliance: a random IP ID, no DF.
    Appliance,
}

/// A device on a server's path, nearer than the server.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Device {
    pub ttl: u8,
    /// Round trip from the capture point to the device and back.
    pub rtt_ns: u64,
    pub stack: Stack,
}

/// How a host numbers its IPv4 packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IpIds {
    /// A counter per connection (Linux).
    PerConnection,
    /// One counter for the whole host (Windows): other flows' packets step it too.
    HostWide(u16),
}

/// One server address.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Server {
    pub ip: IpAddr,
    /// The TTL its packets arrive with at the capture point.
    pub ttl: u8,
    pub rtt_ns: u64,
    pub firewall: Device,
    pub ip_ids: IpIds,
}

/// One client address.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Client {
    pub ip: IpAddr,
    pub mac: [u8; 6],
    pub ttl: u8,
    pub rtt_ns: u64,
    next_port: u16,
}

/// All hosts; IPv4 ones first in each list.
pub(crate) struct Network {
    pub clients: Vec<Client>,
    pub servers: Vec<Server>,
    v4_clients: usize,
    v4_servers: usize,
}

impl Network {
    pub(crate) fn new(rng: &mut Rng) -> Network {
        let v4_clients: Vec<IpAddr> = (1..=254u8)
            .map(|i| IpAddr::V4(Ipv4Addr::new(192, 0, 2, i)))
            .collect();
        let v6_clients =
            (1..=V6_CLIENTS).map(|i| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0xc, 1, 0, 0, 0, i)));
        let v4_servers: Vec<IpAddr> = (1..=254u8)
            .map(|i| IpAddr::V4(Ipv4Addr::new(198, 51, 100, i)))
            .chain((1..=254u8).map(|i| IpAddr::V4(Ipv4Addr::new(203, 0, 113, i))))
            .collect();
        let v6_servers =
            (0..V6_SERVERS).map(|i| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 5, i, 0, 0, 0, 1)));
        let (n4c, n4s) = (v4_clients.len(), v4_servers.len());
        let clients = v4_clients.into_iter().chain(v6_clients);
        let servers = v4_servers.into_iter().chain(v6_servers);
        Network {
            clients: clients
                .enumerate()
                .map(|(i, ip)| client(rng, i, ip))
                .collect(),
            servers: servers.map(|ip| server(rng, ip)).collect(),
            v4_clients: n4c,
            v4_servers: n4s,
        }
    }

    /// A client of the given family, uniformly, and its next ephemeral port: a counter, as
    /// simple stacks keep, wrapping in 1024..=65535, so no two live flows share a 4-tuple.
    pub(crate) fn pick_client(&mut self, rng: &mut Rng, v6: bool) -> (Client, u16) {
        let (start, count) = range(v6, self.v4_clients, self.clients.len());
        // In range: both families have hosts, and the index is below their count.
        let client = &mut self.clients[start + rng.below(count as u64) as usize];
        let port = client.next_port;
        client.next_port = if port == u16::MAX { 1024 } else { port + 1 };
        (*client, port)
    }

    /// A server of the given family (popular ones, low indices, far more often), and its
    /// index for `host_ip_id`.
    pub(crate) fn pick_server(&self, rng: &mut Rng, v6: bool) -> (usize, Server) {
        let (start, count) = range(v6, self.v4_servers, self.servers.len());
        let u = rng.unit();
        let index = start + ((u * u * u) * count as f64) as usize % count;
        // In range, as above.
        (index, self.servers[index])
    }

    /// The next IP ID of a server that numbers its packets host-wide, if it does.
    pub(crate) fn host_ip_id(&mut self, server: usize) -> Option<u16> {
        let server = self.servers.get_mut(server)?;
        match &mut server.ip_ids {
            IpIds::PerConnection => None,
            IpIds::HostWide(next) => {
                *next = next.wrapping_add(1);
                Some(*next)
            }
        }
    }
}

/// Where the hosts of one family sit in a list: (first index, count).
fn range(v6: bool, v4_count: usize, total: usize) -> (usize, usize) {
    if v6 {
        (v4_count, total - v4_count)
    } else {
        (0, v4_count)
    }
}

fn client(rng: &mut Rng, index: usize, ip: IpAddr) -> Client {
    // Half of them are the capturing host's own addresses (untouched TTL), the rest sit one or
    // two hops away behind a gateway the capture point watches.
    let hops = [0u8, 0, 0, 0, 0, 1, 1, 1, 2, 2][rng.below(10) as usize];
    let index = index as u16;
    Client {
        ip,
        mac: [0x02, 0x00, 0x00, 0xc1, (index >> 8) as u8, index as u8],
        ttl: 64 - hops,
        rtt_ns: 20_000 + u64::from(hops) * rng.between(50_000, 400_000),
        next_port: rng.between(32_768, 60_999) as u16,
    }
}

fn server(rng: &mut Rng, ip: IpAddr) -> Server {
    let initial = [64u8, 128, 255][rng.pick(&[60, 25, 15])];
    let hops = rng.between(2, 20) as u8;
    let rtt_ns =
        u64::from(hops) * rng.between(300_000, 6_000_000) + rng.between(100_000, 2_000_000);
    Server {
        ip,
        ttl: initial - hops,
        rtt_ns,
        firewall: firewall(rng, initial, hops, rtt_ns),
        ip_ids: if initial == 128 {
            IpIds::HostWide(rng.next_u16())
        } else {
            IpIds::PerConnection
        },
    }
}

/// A device nearer than the server: on the same initial TTL at least two hops nearer (so the
/// difference is plain), or another initial TTL altogether.
fn firewall(rng: &mut Rng, server_initial: u8, server_hops: u8, server_rtt: u64) -> Device {
    let (initial, hops) = if server_hops >= 3 && rng.chance(0.6) {
        (
            server_initial,
            rng.between(1, u64::from(server_hops) - 2) as u8,
        )
    } else {
        let others: Vec<u8> = [64u8, 255]
            .into_iter()
            .filter(|&initial| initial != server_initial)
            .collect();
        let initial = others
            .get(rng.below(others.len() as u64) as usize)
            .copied()
            .unwrap_or(255);
        (initial, rng.between(1, u64::from(server_hops) - 1) as u8)
    };
    Device {
        ttl: initial - hops,
        rtt_ns: (server_rtt * u64::from(hops) / u64::from(server_hops)).max(30_000),
        stack: if initial == 64 {
            Stack::Linux
        } else {
            Stack::Appliance
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_nearer_than_their_servers() {
        let mut rng = Rng::new(3);
        let network = Network::new(&mut rng);
        for server in &network.servers {
            let initial = |ttl: u8| [64u8, 128, 255].into_iter().find(|&i| i >= ttl).unwrap();
            let (s, d) = (server.ttl, server.firewall.ttl);
            let plain = initial(s) != initial(d) || i32::from(d) - i32::from(s) >= 2;
            assert!(plain, "server TTL {s}, device TTL {d}");
            assert!(server.firewall.rtt_ns < server.rtt_ns);
        }
    }

    #[test]
    fn only_documentation_addresses() {
        let network = Network::new(&mut Rng::new(1));
        let hosts = network.clients.iter().map(|c| c.ip);
        for ip in hosts.chain(network.servers.iter().map(|s| s.ip)) {
            let ok = match ip {
                IpAddr::V4(v4) => matches!(
                    v4.octets(),
                    [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _]
                ),
                IpAddr::V6(v6) => v6.segments()[..2] == [0x2001, 0xdb8],
            };
            assert!(ok, "{ip}");
        }
    }
}
