//! The format files of real kernels (checked in under `tests/data/kernel-formats/`) and
//! pages built byte by byte as `kernel/trace/ring_buffer.c` writes them.

use std::net::SocketAddr;

use super::ring::PageLayout;
use super::*;

const SEND_6_18: &str =
    include_str!("../../../../tests/data/kernel-formats/6.18/tcp_send_reset.format");
const RECEIVE_6_18: &str =
    include_str!("../../../../tests/data/kernel-formats/6.18/tcp_receive_reset.format");
const HEADER_PAGE_6_18: &str =
    include_str!("../../../../tests/data/kernel-formats/6.18/header_page");

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap_or_else(|_| panic!("{text}"))
}

#[test]
fn the_6_18_send_reset_format_gives_offsets_and_reason_names() {
    let f = EventFormat::parse(SEND_6_18).unwrap();
    assert_eq!(f.name, "tcp_send_reset");
    let reason = f.field("reason").unwrap();
    assert_eq!((reason.offset, reason.size), (28, 4));
    assert_eq!(reason.c_type, "enum sk_rst_reason");
    let saddr = f.field("saddr").unwrap();
    assert_eq!((saddr.offset, saddr.size), (32, 28));
    assert_eq!(f.symbol("reason", 1), Some("NO_SOCKET"));
    assert_eq!(f.symbol("reason", 11), Some("TCP_ABORT_ON_CLOSE"));
    assert_eq!(f.symbol("state", 1), Some("TCP_ESTABLISHED"));
    assert_eq!(f.symbol("state", 6), Some("TCP_TIME_WAIT"));
    assert!(f.symbol_names("reason").contains(&"TCP_KEEPALIVE_TIMEOUT"));
}

#[test]
fn broken_format_files_are_errors_not_guesses() {
    assert!(EventFormat::parse("").is_err());
    assert!(EventFormat::parse("name: x\nID: 7\nformat:\n").is_err());
    assert!(
        EventFormat::parse("name: x\nID: seven\n\tfield:int a;\toffset:0;\tsize:4;\n").is_err()
    );
    assert!(EventFormat::parse("name: x\nID: 7\n\tfield:int a;\toffset:zero;\tsize:4;\n").is_err());
}

#[test]
fn the_page_layout_is_read_from_header_page() {
    assert_eq!(
        PageLayout::parse(HEADER_PAGE_6_18),
        Some(PageLayout {
            commit_size: 8,
            data_offset: 16
        })
    );
}

/// A tcp_send_reset record as 6.18 writes it.
fn send_record(f: &EventFormat, flags: u8, pid: i32, state: u32, reason: u32) -> Vec<u8> {
    let mut r = vec![0u8; 88];
    r[0..2].copy_from_slice(&f.id.to_ne_bytes());
    r[2] = flags;
    r[4..8].copy_from_slice(&pid.to_ne_bytes());
    r[24..28].copy_from_slice(&state.to_ne_bytes());
    r[28..32].copy_from_slice(&reason.to_ne_bytes());
    // struct sockaddr_in: family (host order), port (network order), address.
    r[32..34].copy_from_slice(&2u16.to_ne_bytes());
    r[34..36].copy_from_slice(&8443u16.to_be_bytes());
    r[36..40].copy_from_slice(&[198, 51, 100, 7]);
    r[60..62].copy_from_slice(&2u16.to_ne_bytes());
    r[62..64].copy_from_slice(&52600u16.to_be_bytes());
    r[64..68].copy_from_slice(&[192, 0, 2, 10]);
    r
}

/// A page: header, then the given event words, commit set to their length.
fn page(ts: u64, body: &[u8], missed: bool) -> Vec<u8> {
    let mut p = vec![0u8; 4096];
    p[0..8].copy_from_slice(&ts.to_ne_bytes());
    let mut commit = body.len() as u64;
    if missed {
        commit |= 1 << 31;
    }
    p[8..16].copy_from_slice(&commit.to_ne_bytes());
    p[16..16 + body.len()].copy_from_slice(body);
    p
}

fn header(type_len: u32, delta: u32) -> [u8; 4] {
    (type_len | delta << 5).to_ne_bytes()
}

#[test]
fn a_page_of_records_time_extends_and_padding_decodes_to_reset_events() {
    let f = EventFormat::parse(SEND_6_18).unwrap();
    let decoder = ResetDecoder::new(f.clone(), ResetEventKind::Sent);
    assert!(decoder.has_reasons());
    let softirq = send_record(&f, 0x10, 0, 0, 1);
    let close = send_record(&f, 0x00, 2997, 1, 11);
    let mut body = Vec::new();
    // A short record: type_len is its length in words.
    body.extend(header((softirq.len() / 4) as u32, 100));
    body.extend(&softirq);
    // A time extend of 3 << 27 + 5 ns, then a long-form record (length word first).
    body.extend(header(30, 5));
    body.extend(3u32.to_ne_bytes());
    body.extend(header(0, 7));
    body.extend((close.len() as u32 + 4).to_ne_bytes());
    body.extend(&close);
    // Padding to the page's end.
    body.extend(header(29, 0));
    let p = page(1_000_000, &body, false);
    let parsed = Page::parse(&p, PageLayout::default()).unwrap();
    assert!(!parsed.missed);
    assert_eq!(parsed.events.len(), 2);
    let (ts0, rec0) = parsed.events[0];
    let (ts1, rec1) = parsed.events[1];
    assert_eq!(ts0, 1_000_100);
    assert_eq!(ts1, 1_000_100 + (3 << 27) + 5 + 7);
    let refused = decoder.decode(ts0, rec0).unwrap();
    assert_eq!(refused.kind, ResetEventKind::Sent);
    assert_eq!(refused.local, addr("198.51.100.7:8443"));
    assert_eq!(refused.remote, addr("192.0.2.10:52600"));
    assert_eq!(refused.reason.as_deref(), Some("NO_SOCKET"));
    assert_eq!(refused.state, None);
    assert!(!refused.in_process_context);
    let aborted = decoder.decode(ts1, rec1).unwrap();
    assert_eq!(aborted.reason.as_deref(), Some("TCP_ABORT_ON_CLOSE"));
    assert_eq!(aborted.state.as_deref(), Some("TCP_ESTABLISHED"));
    assert_eq!((aborted.pid, aborted.in_process_context), (2997, true));
}

#[test]
fn lost_events_are_reported_and_corrupt_pages_are_errors() {
    let p = page(5, &[], true);
    assert!(Page::parse(&p, PageLayout::default()).unwrap().missed);
    // A commit larger than the page.
    let mut p = page(5, &[], false);
    p[8..16].copy_from_slice(&8000u64.to_ne_bytes());
    assert!(Page::parse(&p, PageLayout::default()).is_err());
    // A record whose length runs past the committed bytes.
    let mut body = Vec::new();
    body.extend(header(0, 1));
    body.extend(4000u32.to_ne_bytes());
    body.extend([0u8; 8]);
    assert!(Page::parse(&page(5, &body, false), PageLayout::default()).is_err());
    // A zero length long-form record.
    let mut body = Vec::new();
    body.extend(header(0, 1));
    body.extend(0u32.to_ne_bytes());
    assert!(Page::parse(&page(5, &body, false), PageLayout::default()).is_err());
    // Too short for a header.
    assert!(Page::parse(&[0u8; 10], PageLayout::default()).is_err());
}

#[test]
fn a_receive_reset_record_names_the_local_socket() {
    let f = EventFormat::parse(RECEIVE_6_18).unwrap();
    let decoder = ResetDecoder::new(f.clone(), ResetEventKind::Received);
    let mut r = vec![0u8; 72];
    r[0..2].copy_from_slice(&f.id.to_ne_bytes());
    r[2] = 0x10;
    r[16..18].copy_from_slice(&80u16.to_ne_bytes());
    r[18..20].copy_from_slice(&51514u16.to_ne_bytes());
    r[20..22].copy_from_slice(&10u16.to_ne_bytes());
    let local: std::net::Ipv6Addr = "2001:db8:5::7".parse().unwrap();
    let remote: std::net::Ipv6Addr = "2001:db8:c::10".parse().unwrap();
    r[30..46].copy_from_slice(&local.octets());
    r[46..62].copy_from_slice(&remote.octets());
    r[64..72].copy_from_slice(&0xabcdu64.to_ne_bytes());
    let event = decoder.decode(1, &r).unwrap();
    assert_eq!(event.local, addr("[2001:db8:5::7]:80"));
    assert_eq!(event.remote, addr("[2001:db8:c::10]:51514"));
    assert_eq!(event.sock_cookie, Some(0xabcd));
    assert_eq!(event.reason, None);
    // A record of another event, or cut short, is not decoded.
    let mut other = r.clone();
    other[0..2].copy_from_slice(&(f.id.wrapping_add(1)).to_ne_bytes());
    assert_eq!(decoder.decode(1, &other), None);
    assert_eq!(decoder.decode(1, &r[..40]), None);
}

const SEND_6_1: &str =
    include_str!("../../../../tests/data/kernel-formats/6.1/tcp_send_reset.format");
const SEND_6_10: &str =
    include_str!("../../../../tests/data/kernel-formats/6.10/tcp_send_reset.format");
const SEND_6_12: &str =
    include_str!("../../../../tests/data/kernel-formats/6.12/tcp_send_reset.format");

/// The reason numbering moved between 6.10 and 6.12 (six TCP reasons inserted at 11): the
/// same number means another reason, so names come from the running kernel's format.
#[test]
fn reason_numbers_are_read_per_kernel_not_assumed() {
    let v10 = EventFormat::parse(SEND_6_10).unwrap();
    let v12 = EventFormat::parse(SEND_6_12).unwrap();
    assert_eq!(v10.symbol("reason", 1), Some("NO_SOCKET"));
    assert_eq!(v12.symbol("reason", 1), Some("NO_SOCKET"));
    assert_eq!(v10.symbol("reason", 11), Some("MPTCP_RST_EUNSPEC"));
    assert_eq!(v12.symbol("reason", 11), Some("TCP_ABORT_ON_CLOSE"));
    assert!(
        !v10.symbol_names("reason")
            .contains(&"TCP_KEEPALIVE_TIMEOUT")
    );
    assert!(
        v12.symbol_names("reason")
            .contains(&"TCP_KEEPALIVE_TIMEOUT")
    );
}

/// 6.1's tcp_send_reset has no reason and keeps ports, family and addresses in separate
/// fields; a record in that layout still decodes.
#[test]
fn a_6_1_send_reset_record_decodes_without_a_reason() {
    let f = EventFormat::parse(SEND_6_1).unwrap();
    let decoder = ResetDecoder::new(f.clone(), ResetEventKind::Sent);
    assert!(!decoder.has_reasons());
    let mut r = vec![0u8; 76];
    r[0..2].copy_from_slice(&f.id.to_ne_bytes());
    r[4..8].copy_from_slice(&42i32.to_ne_bytes());
    r[24..28].copy_from_slice(&1i32.to_ne_bytes());
    r[28..30].copy_from_slice(&443u16.to_ne_bytes());
    r[30..32].copy_from_slice(&51514u16.to_ne_bytes());
    r[32..34].copy_from_slice(&2u16.to_ne_bytes());
    r[34..38].copy_from_slice(&[198, 51, 100, 7]);
    r[38..42].copy_from_slice(&[192, 0, 2, 10]);
    let event = decoder.decode(9, &r).unwrap();
    assert_eq!(event.local, addr("198.51.100.7:443"));
    assert_eq!(event.remote, addr("192.0.2.10:51514"));
    assert_eq!(event.reason, None);
    assert_eq!(event.state.as_deref(), Some("TCP_ESTABLISHED"));
    assert_eq!((event.pid, event.in_process_context), (42, true));
}
