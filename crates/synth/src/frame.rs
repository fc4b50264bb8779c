//! Ethernet / IPv4 or IPv6 / TCP frames, written by hand into a small buffer.
//!
//! Checksums are right (IPv4 header and TCP), so rstscope sees whole frames as valid, never
//! bad. The payload is a fixed block of printable bytes, always taken from its start, so the
//! TCP checksum over it comes from a prefix-sum table in constant time, whatever its length.
//! What goes into a header (addresses, TTL, sequence numbers) is the flow's business.

use std::net::IpAddr;

use rstscope_core::wire::{Flags, fold, sum_words as sum};

/// Room for the largest header written: Ethernet, IPv6, TCP with 40 bytes of options.
pub(crate) const MAX_HEADER: usize = 14 + 40 + 60;
/// The longest payload a segment carries.
pub(crate) const MAX_PAYLOAD: usize = 1460;

/// The TCP control bits, in header order.
pub(crate) const FIN: u8 = Flags::FIN;
pub(crate) const SYN: u8 = Flags::SYN;
pub(crate) const RST: u8 = Flags::RST;
pub(crate) const PSH: u8 = Flags::PSH;
pub(crate) const ACK: u8 = Flags::ACK;

/// Everything one frame's headers say.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header<'a> {
    pub src_mac: [u8; 6],
    pub dst_mac: [u8; 6],
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// IPv4 identification (IPv6 ignores it).
    pub ip_id: u16,
    /// IPv4 don't-fragment bit.
    pub df: bool,
    /// IPv6 flow label (20 bits).
    pub flow_label: u32,
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub wnd: u16,
    /// TCP options, a multiple of 4 bytes long, at most 40.
    pub options: &'a [u8],
    pub payload_len: usize,
}

/// The payload block and the running sums of its 16-bit words.
pub(crate) struct Payload {
    bytes: Vec<u8>,
    /// `sums[i]` is the sum of the first `i` big-endian words.
    sums: Vec<u64>,
}

impl Payload {
    pub(crate) fn new() -> Payload {
        // Printable ASCII from a fixed linear congruential sequence: same bytes every run.
        let mut x: u32 = 0x1234_5678;
        let bytes: Vec<u8> = (0..MAX_PAYLOAD)
            .map(|_| {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                b' ' + ((x >> 24) % 95) as u8
            })
            .collect();
        let mut sums = Vec::with_capacity(MAX_PAYLOAD / 2 + 1);
        let mut sum = 0u64;
        sums.push(0);
        for pair in bytes.chunks_exact(2) {
            sum += u64::from(u16::from_be_bytes([pair[0], pair[1]]));
            sums.push(sum);
        }
        Payload { bytes, sums }
    }

    /// The first `len` payload bytes (at most `MAX_PAYLOAD`).
    pub(crate) fn bytes(&self, len: usize) -> &[u8] {
        self.bytes.get(..len).unwrap_or(&self.bytes)
    }

    /// The ones'-complement word sum of the first `len` bytes, not folded.
    fn sum(&self, len: usize) -> u64 {
        let len = len.min(self.bytes.len());
        let words = self.sums.get(len / 2).copied().unwrap_or(0);
        let odd = if len % 2 == 1 {
            self.bytes.get(len - 1).map_or(0, |&b| u64::from(b) << 8)
        } else {
            0
        };
        words + odd
    }
}

/// A write position in the header buffer; writes past its end are dropped (the buffer is
/// sized for the largest header, so none is).
struct Cursor<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl Cursor<'_> {
    fn put(&mut self, bytes: &[u8]) {
        if let Some(slot) = self.buf.get_mut(self.at..self.at + bytes.len()) {
            slot.copy_from_slice(bytes);
        }
        self.at += bytes.len();
    }

    fn u16(&mut self, value: u16) {
        self.put(&value.to_be_bytes());
    }

    fn u32(&mut self, value: u32) {
        self.put(&value.to_be_bytes());
    }

    fn patch_u16(&mut self, at: usize, value: u16) {
        if let Some(slot) = self.buf.get_mut(at..at + 2) {
            slot.copy_from_slice(&value.to_be_bytes());
        }
    }

    fn written(&self, from: usize) -> &[u8] {
        self.buf.get(from..self.at).unwrap_or(&[])
    }
}

/// Writes the headers of one frame into `buf`; returns their length. The payload, the first
/// `header.payload_len` bytes of `payload`, follows them on the wire.
pub(crate) fn write(buf: &mut [u8; MAX_HEADER], header: &Header<'_>, payload: &Payload) -> usize {
    let mut out = Cursor { buf, at: 0 };
    out.put(&header.dst_mac);
    out.put(&header.src_mac);
    let tcp_len = 20 + header.options.len() + header.payload_len;
    let pseudo = match (header.src, header.dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            out.u16(0x0800);
            ipv4(&mut out, header, src.octets(), dst.octets(), tcp_len);
            sum(&src.octets(), sum(&dst.octets(), 0))
        }
        (src, dst) => {
            let (src, dst) = (v6_octets(src), v6_octets(dst));
            out.u16(0x86dd);
            out.u32(0x6000_0000 | (header.flow_label & 0x000f_ffff));
            out.u16(tcp_len as u16);
            out.put(&[6, header.ttl]);
            out.put(&src);
            out.put(&dst);
            sum(&src, sum(&dst, 0))
        }
    };
    let tcp_start = out.at;
    out.u16(header.src_port);
    out.u16(header.dst_port);
    out.u32(header.seq);
    out.u32(header.ack);
    out.put(&[((5 + header.options.len() / 4) as u8) << 4, header.flags]);
    out.u16(header.wnd);
    out.put(&[0, 0, 0, 0]); // checksum, urgent pointer
    out.put(header.options);
    let total =
        sum(out.written(tcp_start), pseudo + 6 + tcp_len as u64) + payload.sum(header.payload_len);
    out.patch_u16(tcp_start + 16, !fold(total));
    out.at
}

fn ipv4(out: &mut Cursor<'_>, header: &Header<'_>, src: [u8; 4], dst: [u8; 4], tcp_len: usize) {
    let start = out.at;
    out.put(&[0x45, 0]);
    out.u16((20 + tcp_len) as u16);
    out.u16(header.ip_id);
    out.u16(if header.df { 0x4000 } else { 0 });
    out.put(&[header.ttl, 6, 0, 0]);
    out.put(&src);
    out.put(&dst);
    let checksum = !fold(sum(out.written(start), 0));
    out.patch_u16(start + 10, checksum);
}

fn v6_octets(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstscope_core::Checksum;
    use rstscope_core::fuzzing::{Captured, Decoded, decode};
    use rstscope_core::source::LinkType;

    fn header(src: &str, dst: &str, options: &'static [u8], payload_len: usize) -> Header<'static> {
        Header {
            src_mac: [2, 0, 0, 0, 0, 1],
            dst_mac: [2, 0, 0, 0, 0, 2],
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            ttl: 57,
            ip_id: 4242,
            df: true,
            flow_label: 0x12345,
            src_port: 443,
            dst_port: 50000,
            seq: 0xffff_fff0,
            ack: 77,
            flags: ACK | PSH,
            wnd: 501,
            options,
            payload_len,
        }
    }

    /// Builds the frame and decodes it with rstscope's own decoder, which checks every checksum.
    fn check(h: &Header<'_>) {
        let payload = Payload::new();
        let mut buf = [0u8; MAX_HEADER];
        let len = write(&mut buf, h, &payload);
        let mut frame = buf[..len].to_vec();
        frame.extend_from_slice(payload.bytes(h.payload_len));
        let Decoded::Segment(segment) = decode(LinkType::Ethernet, &frame, Captured::Whole) else {
            panic!("not decoded");
        };
        assert_eq!(segment.checksum, Checksum::Valid);
        assert_eq!(segment.seq.0, h.seq);
        assert_eq!(segment.len as usize, h.payload_len);
        assert_eq!(segment.ip.ttl, 57);
        assert_eq!(segment.src.port(), 443);
    }

    #[test]
    fn ipv4_checksums_are_right() {
        check(&header("198.51.100.7", "192.0.2.1", &[], 0));
        check(&header(
            "198.51.100.7",
            "192.0.2.1",
            &[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2],
            1448,
        ));
        check(&header("198.51.100.7", "192.0.2.1", &[], 333));
    }

    #[test]
    fn ipv6_checksums_are_right() {
        check(&header("2001:db8:5::1", "2001:db8:c:1::9", &[], 0));
        check(&header(
            "2001:db8:5::1",
            "2001:db8:c:1::9",
            &[2, 4, 5, 160],
            1427,
        ));
    }
}
