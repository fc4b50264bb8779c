//! IPv4 and IPv6 (with extension headers) through etherparse's lax slicing, then the TCP
//! header. SEG.LEN comes from the IP length fields, so a snap-length-cut frame still gives its
//! true length. IP-in-IP, GRE and UDP tunnels hand back the inner layer to the walk.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use etherparse::{IpNumber, LaxIpSlice, LenSource, err::ip::LaxHeaderSliceError};

use super::checksum::{TcpChecksum, check_tcp, ipv4_header_ok};
use super::link::be16;
use super::{
    Captured, Checksum, IpFacts, Layer, Mac, Neighbour, RST_PAYLOAD_KEPT, Segment, Skip,
    TcpOptions, tunnel,
};
use crate::tcp::{Flags, SeqNum};

/// The outcome of decoding one IP packet.
pub(super) enum IpOutcome<'a> {
    Segment(Segment),
    /// An IPv6 neighbour solicitation or advertisement naming a link-layer address.
    Neighbour(Neighbour),
    Skip(Skip),
    /// A tunnel: decoding goes on with the inner layer. False when Wireshark does not follow
    /// it by default.
    Inner(Layer<'a>, bool),
}

/// Decodes an IP packet that starts at `bytes[0]`.
pub(super) fn decode_ip(bytes: &[u8], tunneled: bool, captured: Captured) -> IpOutcome<'_> {
    let ip = match LaxIpSlice::from_slice(bytes) {
        Ok((ip, None)) => ip,
        Ok((ip, Some(_ext_error))) if ip.payload().ip_number != IpNumber::TCP => {
            return IpOutcome::Skip(Skip::Undecodable);
        }
        Ok((ip, Some(_))) => ip,
        Err(LaxHeaderSliceError::Len(_)) => return IpOutcome::Skip(Skip::Truncated),
        Err(LaxHeaderSliceError::Content(_)) => return IpOutcome::Skip(Skip::Undecodable),
    };
    let payload = ip.payload();
    if lengths_lie(&ip, captured) {
        return IpOutcome::Skip(Skip::Undecodable);
    }
    if payload.fragmented {
        return IpOutcome::Skip(Skip::NotTcp);
    }
    match payload.ip_number {
        IpNumber::TCP => tcp_segment(&ip, tunneled),
        IpNumber::IPV4 | IpNumber::IPV6 => IpOutcome::Inner(Layer::Ip(payload.payload), true),
        IpNumber::GRE => IpOutcome::Inner(tunnel::gre(payload.payload), true),
        IpNumber::UDP => match tunnel::udp(payload.payload) {
            Some(inner) => {
                IpOutcome::Inner(inner, tunnel::is_followed_by_wireshark(payload.payload))
            }
            None => IpOutcome::Skip(Skip::NotTcp),
        },
        IpNumber::IPV6_ICMP if !tunneled => match neighbour_discovery(&ip, payload.payload) {
            Some(neighbour) => IpOutcome::Neighbour(neighbour),
            None => IpOutcome::Skip(Skip::NotTcp),
        },
        _ => IpOutcome::Skip(Skip::NotTcp),
    }
}

/// The link-layer address an IPv6 neighbour discovery message announces (RFC 4861 §4.3, §4.4):
/// a solicitation's source link-layer address option (for its source address), or an
/// advertisement's target link-layer address option (for its target address).
fn neighbour_discovery(ip: &LaxIpSlice<'_>, icmp: &[u8]) -> Option<Neighbour> {
    const SOLICITATION: u8 = 135;
    const ADVERTISEMENT: u8 = 136;
    let (ip_addr, option_kind) = match *icmp.first()? {
        SOLICITATION => (ip.source_addr(), 1),
        ADVERTISEMENT => {
            let target: [u8; 16] = icmp.get(8..24)?.try_into().ok()?;
            (IpAddr::V6(Ipv6Addr::from(target)), 2)
        }
        _ => return None,
    };
    if ip_addr.is_unspecified() {
        return None;
    }
    let mut options = icmp.get(24..)?;
    while let [kind, len, ..] = *options {
        let len = usize::from(len) * 8;
        let body = options.get(2..len.max(2))?;
        if len == 0 {
            return None;
        }
        if kind == option_kind && len == 8 {
            let mac: [u8; 6] = body.get(0..6)?.try_into().ok()?;
            return Some(Neighbour {
                ip: ip_addr,
                mac: Mac(mac),
            });
        }
        options = options.get(len..)?;
    }
    None
}

/// True when the IP length fields cannot be right: an IPv4 total length shorter than its own
/// header, or a packet that claims more bytes than a frame captured whole holds. (A total
/// length of 0 is what TCP segmentation offload leaves on the sender's capture: not a lie.)
fn lengths_lie(ip: &LaxIpSlice<'_>, captured: Captured) -> bool {
    if let LaxIpSlice::Ipv4(v4) = ip {
        let header = v4.header();
        let total = usize::from(header.total_len());
        if total != 0 && total < usize::from(header.ihl()) * 4 {
            return true;
        }
    }
    captured == Captured::Whole && ip.payload().incomplete
}

/// The IP payload length the headers claim, or the captured length where they claim nothing.
fn claimed_payload_len(ip: &LaxIpSlice<'_>) -> usize {
    let payload = ip.payload();
    if payload.len_source == LenSource::Slice && !payload.incomplete {
        return payload.payload.len();
    }
    match ip {
        LaxIpSlice::Ipv4(v4) => {
            let header = v4.header();
            usize::from(header.total_len()).saturating_sub(usize::from(header.ihl()) * 4)
        }
        LaxIpSlice::Ipv6(v6) => {
            usize::from(v6.header().payload_length()).saturating_sub(v6.extensions().slice().len())
        }
    }
}

fn ip_facts(ip: &LaxIpSlice<'_>) -> (IpFacts, bool) {
    match ip {
        LaxIpSlice::Ipv4(v4) => {
            let header = v4.header();
            let facts = IpFacts {
                ttl: header.ttl(),
                ip_id: Some(header.identification()),
                df: header.dont_fragment(),
                flow_label: 0,
            };
            (facts, ipv4_header_ok(header.slice()))
        }
        LaxIpSlice::Ipv6(v6) => {
            let facts = IpFacts {
                ttl: v6.header().hop_limit(),
                ip_id: None,
                df: false,
                flow_label: v6.header().flow_label().value(),
            };
            (facts, true)
        }
    }
}

fn tcp_segment(ip: &LaxIpSlice<'_>, tunneled: bool) -> IpOutcome<'static> {
    let captured = ip.payload().payload;
    let claimed = claimed_payload_len(ip);
    if claimed < 20 {
        // The IP header says the segment is shorter than a TCP header.
        return IpOutcome::Skip(Skip::Undecodable);
    }
    let Some(fixed) = captured.get(0..20) else {
        return IpOutcome::Skip(Skip::Truncated);
    };
    let header_len = usize::from(fixed[12] >> 4) * 4;
    if header_len < 20 {
        return IpOutcome::Skip(Skip::Undecodable);
    }
    if header_len > claimed {
        return IpOutcome::Skip(Skip::Undecodable);
    }
    let (src_ip, dst_ip) = (ip.source_addr(), ip.destination_addr());
    let (facts, ip_header_ok) = ip_facts(ip);
    let word =
        |at: usize| u32::from_be_bytes([fixed[at], fixed[at + 1], fixed[at + 2], fixed[at + 3]]);
    let port = |at: usize| u16::from_be_bytes([fixed[at], fixed[at + 1]]);
    let flags = Flags(fixed[13]);
    let checksum = if !ip_header_ok {
        Checksum::Bad
    } else if captured.len() == claimed && !ip.payload().incomplete {
        match check_tcp(src_ip, dst_ip, captured) {
            TcpChecksum::Valid => Checksum::Valid,
            TcpChecksum::Offloaded => Checksum::Offloaded,
            TcpChecksum::Bad => Checksum::Bad,
        }
    } else {
        Checksum::Unverified
    };
    IpOutcome::Segment(Segment {
        src: SocketAddr::new(src_ip, port(0)),
        dst: SocketAddr::new(dst_ip, port(2)),
        seq: SeqNum(word(4)),
        ack: flags.ack().then(|| SeqNum(word(8))),
        flags,
        wnd: port(14),
        len: u32::try_from(claimed.saturating_sub(header_len)).unwrap_or(u32::MAX),
        ip: facts,
        options: captured
            .get(20..header_len)
            .map(parse_options)
            .unwrap_or_default(),
        checksum,
        tunneled,
        in_wireshark: true,
        interface: None,
        link_src: None,
        rst_payload: flags
            .rst()
            .then(|| captured.get(header_len..))
            .flatten()
            .filter(|payload| !payload.is_empty())
            .map(|payload| Box::from(&payload[..payload.len().min(RST_PAYLOAD_KEPT)])),
        selected: true,
    })
}

/// Reads the options attribution uses; stops quietly at anything malformed.
fn parse_options(bytes: &[u8]) -> TcpOptions {
    let mut options = TcpOptions {
        captured: true,
        ..TcpOptions::default()
    };
    let mut at = 0;
    while let Some(&kind) = bytes.get(at) {
        match kind {
            0 => break,
            1 => {
                at += 1;
                continue;
            }
            _ => {}
        }
        let Some(&len) = bytes.get(at + 1) else { break };
        let len = usize::from(len);
        let Some(body) = bytes.get(at + 2..at + len.max(2)) else {
            break;
        };
        if len < 2 {
            break;
        }
        match (kind, body.len()) {
            (2, 2) => options.mss = be16(body, 0),
            (3, 1) => options.window_scale = Some(body[0]),
            (4, 0) => options.sack_permitted = true,
            (8, 8) => {
                let value = |at: usize| {
                    u32::from_be_bytes([body[at], body[at + 1], body[at + 2], body[at + 3]])
                };
                options.timestamps = Some((value(0), value(4)));
            }
            // MPTCP (kind 30), subtype MP_TCPRST (8) in the high nibble: flags, reason.
            (30, 2) if body[0] >> 4 == 8 => options.mptcp_reset = Some((body[0] & 0x0f, body[1])),
            _ => {}
        }
        at += len;
    }
    options
}
