//! Frame → Segment: from captured bytes to one small owned TCP segment, or a reason to skip.
//!
//! Decoding walks the link layer, any tags and tunnels (`link`, `tunnel`), then the IP and TCP
//! headers (`ip`). It holds no state and knows nothing of flows or time. A frame that is not
//! TCP, is cut short, or is garbage is not an error: it is an outcome, counted by the caller.
//! Nothing after this module sees raw bytes.

mod checksum;
mod ip;
mod link;
mod tunnel;

use std::net::SocketAddr;

use crate::link::LinkType;
use crate::tcp::{Flags, SeqNum};

/// How many encapsulation layers (tags, tunnels) one frame may nest before it is refused.
const MAX_LAYERS: usize = 16;

/// One TCP segment, with the IP-level facts that attribution needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// SEG.SEQ.
    pub seq: SeqNum,
    /// SEG.ACK when the ACK bit is set.
    pub ack: Option<SeqNum>,
    pub flags: Flags,
    /// SEG.WND, unscaled.
    pub wnd: u16,
    /// SEG.LEN in payload bytes, from the IP length fields (not the bytes captured).
    pub len: u32,
    pub ip: IpFacts,
    pub options: TcpOptions,
    pub checksum: Checksum,
    /// True when the segment was found inside a tunnel (GRE, VXLAN, Geneve, ...).
    pub tunneled: bool,
    /// False when Wireshark, with its default preferences, does not dissect it as TCP, so it
    /// has no `tcp.stream`: inside a tunnel only its heuristics find (see
    /// `tunnel::is_followed_by_wireshark`).
    pub in_wireshark: bool,
    /// The interface it was captured on, when the capture says (Linux cooked v2, as on `any`).
    pub interface: Option<u32>,
    /// The link-layer source address of the frame (Ethernet, Linux cooked), when it has one.
    pub link_src: Option<Mac>,
    /// The first bytes of a RST segment's payload (RFC 1122 §4.2.2.12 lets a RST carry text
    /// that says why; devices write their reset cause there). None for other segments.
    pub rst_payload: Option<Box<[u8]>>,
    /// False when `analyze --filter` did not match the frame (set by the pipeline, not by
    /// decoding): the segment is analysed, but does not make its flow one to report.
    pub selected: bool,
}

/// How many bytes of a RST's payload are kept: enough for a device's reset-cause text.
pub(crate) const RST_PAYLOAD_KEPT: usize = 128;

/// A 48-bit link-layer (MAC) address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Mac(pub [u8; 6]);

impl std::fmt::Display for Mac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// An address-to-link-address binding a frame announced: an ARP packet's sender, or an IPv6
/// neighbour solicitation's or advertisement's link-layer address option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Neighbour {
    pub ip: std::net::IpAddr,
    pub mac: Mac,
}

/// IP header facts of the packet that carried a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IpFacts {
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// IPv4 identification; None for IPv6.
    pub ip_id: Option<u16>,
    /// IPv4 don't-fragment bit; false for IPv6.
    pub df: bool,
    /// The IPv6 flow label (RFC 6437); 0 for IPv4 and for an unlabelled IPv6 packet.
    pub flow_label: u32,
}

/// The TCP options attribution cares about; absent when the snap length cut them off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpOptions {
    /// False when the options were not captured (snap length).
    pub captured: bool,
    pub mss: Option<u16>,
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
    /// TSval and TSecr of the timestamps option (RFC 7323).
    pub timestamps: Option<(u32, u32)>,
    /// MPTCP's MP_TCPRST option (RFC 8684 §3.6): its flags (U V W T) and reason code.
    pub mptcp_reset: Option<(u8, u8)>,
}

/// What the TCP (and IPv4 header) checksums say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    Valid,
    /// Wrong, but in the shape checksum offload leaves on the sending host's own capture.
    Offloaded,
    /// Wrong (TCP or IPv4 header): a receiver would drop this segment, unless the capture
    /// itself is to blame (offload in an unknown shape, addresses rewritten by anonymisation).
    Bad,
    /// Not all of the segment was captured, or it was fragmented, so it could not be checked.
    Unverified,
}

/// Why a frame gave no segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// Not TCP over IP (ARP, UDP, ICMP, ...), or a later IP fragment.
    NotTcp,
    /// Cut short by the snap length or the file before the TCP header ended.
    Truncated,
    /// Headers that make no sense (bad version, lengths that lie, nesting too deep).
    Undecodable,
}

/// The outcome of decoding one frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    Segment(Segment),
    /// Not TCP, but it says which link address an IP address uses (ARP, IPv6 neighbour
    /// discovery): who is on the capture's own link.
    Neighbour(Neighbour),
    Skipped(Skip),
}

/// Whether a frame was captured whole or cut by the snap length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Captured {
    /// Every byte on the wire is here: a length field that claims more is lying.
    Whole,
    /// The snap length cut the frame: length fields may claim more than is here.
    Cut,
}

impl Captured {
    /// Compares what was captured with the frame's length on the wire.
    pub(crate) fn of(captured_len: usize, wire_len: u32) -> Captured {
        if u32::try_from(captured_len).is_ok_and(|len| len >= wire_len) {
            Captured::Whole
        } else {
            Captured::Cut
        }
    }
}

/// Decodes one frame of the given link type.
pub fn decode(link_type: LinkType, data: &[u8], captured: Captured) -> Decoded {
    walk(link_type, data, captured, |_| {})
}

/// Where each IP header of a frame starts (outer first, tunnels included), for rewriting
/// addresses in place. Stops where decoding would.
pub fn ip_header_offsets(link_type: LinkType, data: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let start = data.as_ptr() as usize;
    walk(link_type, data, Captured::Cut, |ip: &[u8]| {
        offsets.push(ip.as_ptr() as usize - start);
    });
    offsets
}

/// The walk from the link header to the TCP segment, telling `on_ip` of each IP layer.
fn walk(
    link_type: LinkType,
    data: &[u8],
    captured: Captured,
    mut on_ip: impl FnMut(&[u8]),
) -> Decoded {
    let mut layer = link::start(link_type, data);
    let mut tunneled = false;
    let mut in_wireshark = true;
    for _ in 0..MAX_LAYERS {
        layer = match layer {
            Layer::Done(skip) => return Decoded::Skipped(skip),
            Layer::Ethernet(bytes) => link::ethernet(bytes),
            Layer::EtherType(ether_type, bytes) => link::ether_type(ether_type, bytes),
            Layer::Ppp(protocol, bytes) => link::ppp(protocol, bytes),
            Layer::Arp(bytes) => {
                return match link::arp_sender(bytes) {
                    Some(neighbour) => Decoded::Neighbour(neighbour),
                    None => Decoded::Skipped(Skip::NotTcp),
                };
            }
            Layer::Ip(bytes) => {
                on_ip(bytes);
                match ip::decode_ip(bytes, tunneled, captured) {
                    ip::IpOutcome::Segment(mut segment) => {
                        segment.interface = link::interface_index(link_type, data);
                        segment.link_src = link::source_address(link_type, data);
                        segment.in_wireshark = in_wireshark;
                        return Decoded::Segment(segment);
                    }
                    ip::IpOutcome::Neighbour(neighbour) => return Decoded::Neighbour(neighbour),
                    ip::IpOutcome::Skip(skip) => return Decoded::Skipped(skip),
                    ip::IpOutcome::Inner(next, followed) => {
                        tunneled = true;
                        in_wireshark &= followed;
                        next
                    }
                }
            }
        };
    }
    Decoded::Skipped(Skip::Undecodable)
}

/// One step of the walk from the link header down to IP.
#[derive(Debug, Clone, Copy)]
enum Layer<'a> {
    /// An Ethernet header starts here.
    Ethernet(&'a [u8]),
    /// Bytes of the given EtherType follow.
    EtherType(u16, &'a [u8]),
    /// A PPP payload of the given protocol follows.
    Ppp(u16, &'a [u8]),
    /// An IPv4 or IPv6 header starts here.
    Ip(&'a [u8]),
    /// An ARP packet starts here.
    Arp(&'a [u8]),
    /// The walk ended without a segment.
    Done(Skip),
}

#[cfg(test)]
mod tests;
