//! A flow's two ends, packed: which address is the client's, and whether a segment belongs.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// A connection's two addresses, the lower first, so both directions of it give the same key.
pub(crate) fn address_pair(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b { (a, b) } else { (b, a) }
}

/// A flow's two addresses in 38 bytes (two `SocketAddr`s take 64): IPv4 addresses are kept
/// IPv4-mapped. Decoded segments carry no IPv6 flow label or scope, so nothing is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Ends {
    client_ip: [u8; 16],
    server_ip: [u8; 16],
    client_port: u16,
    server_port: u16,
    v6: bool,
}

/// An address's 16 octets as `Ends` keeps them.
fn octets(addr: SocketAddr) -> [u8; 16] {
    match addr.ip() {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

impl Ends {
    pub(super) fn new(client: SocketAddr, server: SocketAddr) -> Ends {
        Ends {
            client_ip: octets(client),
            server_ip: octets(server),
            client_port: client.port(),
            server_port: server.port(),
            v6: client.is_ipv6(),
        }
    }

    fn address(&self, ip: [u8; 16], port: u16) -> SocketAddr {
        let v6 = Ipv6Addr::from(ip);
        match v6.to_ipv4_mapped() {
            Some(v4) if !self.v6 => SocketAddr::new(IpAddr::V4(v4), port),
            _ => SocketAddr::new(IpAddr::V6(v6), port),
        }
    }

    pub(super) fn client(&self) -> SocketAddr {
        self.address(self.client_ip, self.client_port)
    }

    pub(super) fn server(&self) -> SocketAddr {
        self.address(self.server_ip, self.server_port)
    }

    /// True when `addr` is the client's address (without building either as a `SocketAddr`).
    pub(super) fn is_client(&self, addr: SocketAddr) -> bool {
        addr.port() == self.client_port
            && addr.is_ipv6() == self.v6
            && octets(addr) == self.client_ip
    }

    /// True when the flow is between `a` and `b`, either way round.
    pub(super) fn joins(&self, a: SocketAddr, b: SocketAddr) -> bool {
        if a.is_ipv6() != self.v6 {
            return false;
        }
        let (a_ip, b_ip) = (octets(a), octets(b));
        let (a_port, b_port) = (a.port(), b.port());
        (a_port == self.client_port
            && b_port == self.server_port
            && a_ip == self.client_ip
            && b_ip == self.server_ip)
            || (a_port == self.server_port
                && b_port == self.client_port
                && a_ip == self.server_ip
                && b_ip == self.client_ip)
    }

    pub(super) fn swap(&mut self) {
        std::mem::swap(&mut self.client_ip, &mut self.server_ip);
        std::mem::swap(&mut self.client_port, &mut self.server_port);
    }
}
