//! Live capture from an interface through libpcap: immediate mode (a reset is not held back by
//! buffering), a short read timeout (so the loop can finish flows and notice a stop request
//! while the wire is quiet), the BPF filter compiled into the kernel, and libpcap's drop
//! counters. Saving packets (`--write`) is the live loop's, through `savefile::Recorder`.

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use pcap::{Active, Capture, Device, Packet, Precision};

use super::{CaptureError, Frame, LinkType, NextFrame, Source, pcap_error_text};
use crate::time::Timestamp;

/// The buffer timeout libpcap is given (immediate mode delivers packets at once anyway).
const READ_TIMEOUT_MS: i32 = 100;

/// How long the loop rests when no packet is waiting. Reads are non-blocking, because a
/// blocking read on a quiet interface would never give the loop back to notice a stop
/// request or finish flows on time.
const QUIET_PAUSE: std::time::Duration = std::time::Duration::from_millis(10);

/// How to open an interface.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// Bytes kept of each packet.
    pub snaplen: i32,
    /// Kernel buffer in MiB.
    pub buffer_mib: i32,
    pub promiscuous: bool,
    /// A tcpdump filter expression.
    pub filter: Option<String>,
}

/// libpcap's counters for a live capture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drops {
    pub received: u64,
    /// Dropped because rstscope did not read fast enough (kernel buffer full).
    pub by_kernel: u64,
    /// Dropped by the interface or its driver.
    pub by_interface: u64,
}

/// An open interface.
pub struct LiveSource {
    name: String,
    capture: Capture<Active>,
    link_type: LinkType,
    /// libpcap's DLT value for the link type.
    dlt: i32,
    snaplen: i32,
    frames_read: u64,
    /// The addresses of the interface (every interface's, for `any`): the capturing host's.
    own_addresses: Vec<IpAddr>,
}

/// The interfaces libpcap can capture on, as (name, addresses, up).
pub fn interfaces() -> Result<Vec<(String, Vec<IpAddr>, bool)>, CaptureError> {
    let devices = Device::list().map_err(|err| CaptureError::Unreadable {
        path: "interface list".to_string(),
        detail: pcap_error_text(&err),
    })?;
    Ok(devices
        .into_iter()
        .map(|device| {
            let addresses = device.addresses.iter().map(|a| a.addr).collect();
            let up = device.flags.is_up();
            (device.name, addresses, up)
        })
        .collect())
}

impl LiveSource {
    /// Opens `name` for capture.
    pub fn open(name: &str, options: &LiveOptions) -> Result<LiveSource, CaptureError> {
        let known = interfaces()?;
        let own_addresses: Vec<IpAddr> = known
            .iter()
            .filter(|(n, _, _)| name == "any" || n == name)
            .flat_map(|(_, addresses, _)| addresses.iter().copied())
            .collect();
        let Some((_, _, up)) = known.iter().find(|(n, _, _)| n == name) else {
            let names: Vec<&str> = known.iter().map(|(n, _, _)| n.as_str()).collect();
            return Err(CaptureError::NoSuchInterface {
                name: name.to_string(),
                available: names.join(", "),
            });
        };
        if !up && name != "any" {
            return Err(CaptureError::InterfaceDown {
                name: name.to_string(),
            });
        }
        let inactive = Capture::from_device(name).map_err(|err| open_error(name, &err))?;
        let capture = inactive
            .snaplen(options.snaplen)
            .promisc(options.promiscuous)
            .immediate_mode(true)
            .buffer_size(options.buffer_mib.saturating_mul(1024 * 1024))
            .timeout(READ_TIMEOUT_MS)
            .precision(Precision::Nano)
            .open()
            .and_then(|capture| capture.setnonblock())
            .map_err(|err| open_error(name, &err))?;
        let mut capture = capture;
        prefer_cooked_v2(&mut capture);
        let dlt = capture.get_datalink().0;
        let link_type =
            LinkType::from_dlt(dlt).ok_or_else(|| CaptureError::UnsupportedLinkType {
                path: name.to_string(),
                name: match pcap::Linktype(dlt).get_name() {
                    Ok(link) => format!("{link} ({dlt})"),
                    Err(_) => format!("{dlt} (not one libpcap knows)"),
                },
            })?;
        if let Some(expr) = &options.filter {
            capture
                .filter(expr, true)
                .map_err(|err| CaptureError::BadFilter {
                    filter: expr.clone(),
                    detail: pcap_error_text(&err),
                })?;
        }
        Ok(LiveSource {
            name: name.to_string(),
            capture,
            link_type,
            dlt,
            snaplen: options.snaplen,
            frames_read: 0,
            own_addresses,
        })
    }

    /// The capturing host's addresses on the interface (on every interface, for `any`).
    pub fn own_addresses(&self) -> Vec<IpAddr> {
        self.own_addresses.clone()
    }

    /// libpcap's counters so far.
    pub fn drops(&mut self) -> Drops {
        self.capture
            .stats()
            .map(|stat| Drops {
                received: u64::from(stat.received),
                by_kernel: u64::from(stat.dropped),
                by_interface: u64::from(stat.if_dropped),
            })
            .unwrap_or_default()
    }

    /// libpcap's DLT value for the interface's link type (what a saved file records).
    pub fn dlt(&self) -> i32 {
        self.dlt
    }

    /// Bytes kept of each packet.
    pub fn snaplen(&self) -> u32 {
        u32::try_from(self.snaplen).unwrap_or(0)
    }
}

/// On `any`, Linux cooked v2 instead of v1, as tcpdump does: it names the interface of each
/// packet, which tells a forwarded packet's second copy from a new packet.
fn prefer_cooked_v2(capture: &mut Capture<Active>) {
    const LINUX_SLL: i32 = 113;
    const LINUX_SLL2: i32 = 276;
    if capture.get_datalink().0 != LINUX_SLL {
        return;
    }
    let offered = capture.list_datalinks().unwrap_or_default();
    if offered.iter().any(|link| link.0 == LINUX_SLL2) {
        // Should it fail, v1 stays: rstscope reads both.
        let _ = capture.set_datalink(pcap::Linktype(LINUX_SLL2));
    }
}

/// The current time, for quiet moments with no frame to give one.
fn now() -> Timestamp {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::from_parts(
        i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        i64::from(since.subsec_nanos()),
    )
}

impl Source for LiveSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn link_type(&self) -> LinkType {
        self.link_type
    }

    fn next_frame(&mut self) -> NextFrame<'_> {
        let packet: Packet<'_> = match self.capture.next_packet() {
            Ok(packet) => packet,
            Err(pcap::Error::TimeoutExpired) => {
                std::thread::sleep(QUIET_PAUSE);
                return NextFrame::Idle(now());
            }
            Err(pcap::Error::NoMorePackets) => return NextFrame::End,
            Err(err) => {
                return NextFrame::Broken(format!(
                    "{}: the capture stopped ({}); the packets before it were analysed",
                    self.name,
                    pcap_error_text(&err)
                ));
            }
        };
        self.frames_read += 1;
        let ts = Timestamp::from_parts(packet.header.ts.tv_sec, packet.header.ts.tv_usec);
        NextFrame::Frame(Frame {
            number: self.frames_read,
            ts,
            data: packet.data,
            wire_len: packet.header.len,
            // The kernel applied the filter: every frame that arrives was chosen.
            selected: true,
        })
    }
}

/// Turns libpcap's refusal to open an interface into the error that names the fix.
fn open_error(name: &str, err: &pcap::Error) -> CaptureError {
    let detail = pcap_error_text(err);
    let lower = detail.to_lowercase();
    if lower.contains("permission") || lower.contains("not permitted") {
        CaptureError::PermissionDenied {
            name: name.to_string(),
        }
    } else if lower.contains("down") {
        CaptureError::InterfaceDown {
            name: name.to_string(),
        }
    } else if lower.contains("no such device") || lower.contains("doesn't exist") {
        CaptureError::NoSuchInterface {
            name: name.to_string(),
            available: "see `rstscope interfaces`".to_string(),
        }
    } else {
        CaptureError::Unreadable {
            path: name.to_string(),
            detail,
        }
    }
}
