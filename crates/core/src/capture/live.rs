//! Live capture from an interface through libpcap: immediate mode (a reset is not held back by
//! buffering), a short read timeout (so the loop can finish flows and notice a stop request
//! while the wire is quiet), the BPF filter compiled into the kernel, optional saving of every
//! packet (`--write`), and libpcap's drop counters.

use std::net::IpAddr;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use pcap::{Active, Capture, Device, Packet, Precision, Savefile};

use super::{CaptureError, Frame, LinkType, NextFrame, Source, pcap_error_text};
use crate::anonymize::{AnonymizeKey, Anonymizer};
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
    /// Save every captured packet to this pcap file.
    pub write: Option<std::path::PathBuf>,
    /// Save packets with their addresses anonymised (and payloads blanked) under this key.
    pub anonymize: Option<AnonymizeKey>,
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
    frames_read: u64,
    savefile: Option<Savefile>,
    /// Rewrites saved packets when anonymising.
    anonymizer: Option<Anonymizer>,
    /// The rewritten copy of the packet being saved.
    rewritten: Vec<u8>,
    /// Packets written to the savefile since it was last flushed.
    unflushed: bool,
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
        let savefile = match &options.write {
            Some(path) => Some(open_savefile(&capture, path)?),
            None => None,
        };
        Ok(LiveSource {
            name: name.to_string(),
            capture,
            link_type,
            frames_read: 0,
            savefile,
            anonymizer: options.anonymize.as_ref().map(Anonymizer::new),
            rewritten: Vec::new(),
            unflushed: false,
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

    /// Writes out what `--write` has buffered.
    pub fn flush(&mut self) {
        if let Some(file) = &mut self.savefile {
            let _ = file.flush();
        }
        self.unflushed = false;
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

fn open_savefile(capture: &Capture<Active>, path: &Path) -> Result<Savefile, CaptureError> {
    capture
        .savefile(path)
        .map_err(|err| CaptureError::CannotWrite {
            path: path.display().to_string(),
            detail: pcap_error_text(&err),
        })
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
                // A quiet wire: the saved packets reach the disk now, so a capture killed
                // hard (a second Ctrl-C, SIGKILL) still leaves them in the file.
                if self.unflushed
                    && let Some(file) = &mut self.savefile
                {
                    let _ = file.flush();
                    self.unflushed = false;
                }
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
        if let Some(file) = &mut self.savefile {
            match &mut self.anonymizer {
                Some(anonymizer) => {
                    self.rewritten.clear();
                    self.rewritten.extend_from_slice(packet.data);
                    anonymizer.frame(self.link_type, &mut self.rewritten);
                    file.write(&Packet::new(packet.header, &self.rewritten));
                }
                None => file.write(&packet),
            }
            self.unflushed = true;
        }
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
