//! A `tcp_send_reset` or `tcp_receive_reset` record, decoded with the running kernel's formats.
//!
//! Two layouts of the addresses are known (`include/trace/events/tcp.h`):
//! - 6.10 and later `tcp_send_reset`: `saddr[28]` and `daddr[28]`, each a `struct sockaddr_in`
//!   or `sockaddr_in6` (family in host order, port in network order, then the address); the
//!   source is the host that sends the RST, taken from the socket or, without one, from the
//!   segment it answers with the direction reversed;
//! - `tcp_receive_reset` and 6.1's `tcp_send_reset`: `sport`, `dport` (host order), `family`,
//!   `saddr[4]`, `daddr[4]`, `saddr_v6[16]`, `daddr_v6[16]`, source the local socket's end.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::format::{EventFormat, Field};

/// `enum trace_flag_type` (`include/linux/trace_events.h`): the record was written in
/// interrupt context, where `common_pid` is whichever task the interrupt found running.
const TRACE_FLAG_HARDIRQ: u8 = 0x08;
const TRACE_FLAG_SOFTIRQ: u8 = 0x10;
const TRACE_FLAG_NMI: u8 = 0x40;

const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetEventKind {
    /// The local stack sent a RST.
    Sent,
    /// A RST reset a local socket.
    Received,
}

/// One reset event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetEvent {
    pub kind: ResetEventKind,
    /// The trace clock's time of the event, in nanoseconds.
    pub ts: u64,
    /// The local end (the RST's source for `Sent`, its destination for `Received`).
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// The task running when the event fired; its owner only in process context.
    pub pid: i32,
    pub in_process_context: bool,
    /// The socket's state by the kernel's name (`TCP_ESTABLISHED`); None without a socket.
    pub state: Option<String>,
    /// The kernel's reason (`NO_SOCKET`, `TCP_ABORT_ON_CLOSE`, ...); None before 6.10.
    pub reason: Option<String>,
    /// `tcp_receive_reset`'s socket cookie (as `ss -e` prints it).
    pub sock_cookie: Option<u64>,
}

/// Decodes records of one of the two events.
#[derive(Debug, Clone)]
pub struct ResetDecoder {
    format: EventFormat,
    kind: ResetEventKind,
}

impl ResetDecoder {
    pub fn new(format: EventFormat, kind: ResetEventKind) -> ResetDecoder {
        ResetDecoder { format, kind }
    }

    pub fn id(&self) -> u16 {
        self.format.id
    }

    /// True when the kernel names a reason for each RST it sends (6.10 and later).
    pub fn has_reasons(&self) -> bool {
        self.format.field("reason").is_some()
    }

    pub fn format(&self) -> &EventFormat {
        &self.format
    }

    /// The record's event id (its `common_type`), to pick the decoder.
    pub fn record_id(record: &[u8]) -> Option<u16> {
        Some(u16::from_ne_bytes(record.get(0..2)?.try_into().ok()?))
    }

    /// Decodes one record of this event; None when it is of another event or cut short.
    pub fn decode(&self, ts: u64, record: &[u8]) -> Option<ResetEvent> {
        let f = &self.format;
        if Self::record_id(record)? != f.id {
            return None;
        }
        let flags = unsigned(record, f.field("common_flags")?)? as u8;
        let pid = unsigned(record, f.field("common_pid")?)? as u32 as i32;
        let (local, remote) = match (f.field("saddr"), f.field("daddr")) {
            (Some(s), Some(d)) if s.size >= 24 && d.size >= 24 => {
                (sockaddr(bytes(record, s)?)?, sockaddr(bytes(record, d)?)?)
            }
            _ => split_addresses(record, f)?,
        };
        let state = f
            .field("state")
            .and_then(|field| unsigned(record, field))
            .filter(|&state| state != 0)
            .map(|state| {
                f.symbol("state", state)
                    .map_or_else(|| format!("state {state}"), str::to_string)
            });
        let reason = f.field("reason").and_then(|field| {
            let value = unsigned(record, field)?;
            Some(
                f.symbol("reason", value)
                    .map_or_else(|| format!("reason {value}"), str::to_string),
            )
        });
        let sock_cookie = f.field("sock_cookie").and_then(|c| unsigned(record, c));
        Some(ResetEvent {
            kind: self.kind,
            ts,
            local,
            remote,
            pid,
            in_process_context: flags & (TRACE_FLAG_HARDIRQ | TRACE_FLAG_SOFTIRQ | TRACE_FLAG_NMI)
                == 0,
            state,
            reason,
            sock_cookie,
        })
    }
}

fn bytes<'a>(record: &'a [u8], field: &Field) -> Option<&'a [u8]> {
    record.get(field.offset..field.offset.checked_add(field.size)?)
}

/// A field of 1, 2, 4 or 8 bytes in the kernel's (this machine's) byte order.
fn unsigned(record: &[u8], field: &Field) -> Option<u64> {
    let b = bytes(record, field)?;
    Some(match b.len() {
        1 => u64::from(b[0]),
        2 => u64::from(u16::from_ne_bytes(b.try_into().ok()?)),
        4 => u64::from(u32::from_ne_bytes(b.try_into().ok()?)),
        8 => u64::from_ne_bytes(b.try_into().ok()?),
        _ => return None,
    })
}

/// A `struct sockaddr_in` or `sockaddr_in6` as the tracepoint stores it.
fn sockaddr(b: &[u8]) -> Option<SocketAddr> {
    let family = u16::from_ne_bytes(b.get(0..2)?.try_into().ok()?);
    let port = u16::from_be_bytes(b.get(2..4)?.try_into().ok()?);
    let ip = match family {
        AF_INET => IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(b.get(4..8)?).ok()?)),
        // A dual-stack socket's IPv4 peer is stored v4-mapped; its packets are IPv4.
        AF_INET6 => {
            let ip = Ipv6Addr::from(<[u8; 16]>::try_from(b.get(8..24)?).ok()?);
            ip.to_ipv4_mapped().map_or(IpAddr::V6(ip), IpAddr::V4)
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// The older layout: ports, family and both address forms in separate fields.
fn split_addresses(record: &[u8], f: &EventFormat) -> Option<(SocketAddr, SocketAddr)> {
    let port = |name| unsigned(record, f.field(name)?).map(|p| p as u16);
    let (sport, dport) = (port("sport")?, port("dport")?);
    let family = f
        .field("family")
        .and_then(|field| unsigned(record, field))
        .map(|v| v as u16);
    let v4 = |name| -> Option<IpAddr> {
        let b = bytes(record, f.field(name)?)?;
        Some(IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(b).ok()?)))
    };
    let v6 = |name| -> Option<IpAddr> {
        let b = bytes(record, f.field(name)?)?;
        let ip = Ipv6Addr::from(<[u8; 16]>::try_from(b).ok()?);
        // A v4 socket's addresses appear v4-mapped in the v6 fields.
        Some(ip.to_ipv4_mapped().map_or(IpAddr::V6(ip), IpAddr::V4))
    };
    let (src, dst) = if family == Some(AF_INET) {
        (v4("saddr")?, v4("daddr")?)
    } else {
        (v6("saddr_v6")?, v6("daddr_v6")?)
    };
    Some((SocketAddr::new(src, sport), SocketAddr::new(dst, dport)))
}
