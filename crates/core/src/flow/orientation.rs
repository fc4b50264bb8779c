//! Who is the client when the capture missed the SYN: Zeek's rule for partial connections.
//!
//! A flow whose first segment is a SYN without ACK belongs to its sender. Otherwise the roles
//! are guessed from the ports: a segment sent from a well-known server port is probably the
//! server's, so the flow is flipped (and its history starts with `^`). The port set is Zeek's
//! default `likely_server_ports` for TCP (Zeek 7 and earlier), so the guess matches Zeek's.

use crate::tcp::Flags;

/// TCP ports that Zeek's default scripts register as likely server ports.
const LIKELY_SERVER_PORTS: &[u16] = &[
    21, 22, 25, 53, 79, 80, 81, 88, 135, 139, 143, 389, 443, 445, 502, 563, 585, 587, 614, 631,
    636, 989, 990, 992, 993, 995, 1080, 1883, 2811, 3128, 3268, 3389, 5222, 5223, 5269, 5432, 6379,
    6666, 6667, 6668, 6669, 8000, 8080, 8888, 20000,
];

/// True when `port` is a well-known server port.
pub(super) fn is_likely_server_port(port: u16) -> bool {
    LIKELY_SERVER_PORTS.binary_search(&port).is_ok()
}

/// True when the sender of a flow's first segment is probably the server (Zeek's
/// `WantConnection`): never for a SYN without ACK, and only when the source port is a server
/// port. A SYN-ACK from a server port is the server's; any other segment is, unless the
/// destination port is a server port too and a lower one.
pub(super) fn sender_is_server(flags: Flags, src_port: u16, dst_port: u16) -> bool {
    if flags.syn() && !flags.ack() {
        return false;
    }
    if !is_likely_server_port(src_port) {
        return false;
    }
    flags.syn() || !is_likely_server_port(dst_port) || src_port < dst_port
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_list_is_sorted_for_binary_search() {
        assert!(LIKELY_SERVER_PORTS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn flips_follow_zeek() {
        let syn = Flags(Flags::SYN);
        let syn_ack = Flags(Flags::SYN | Flags::ACK);
        let data = Flags(Flags::ACK | Flags::PSH);
        assert!(!sender_is_server(syn, 443, 51000));
        assert!(sender_is_server(syn_ack, 80, 51000));
        assert!(sender_is_server(syn_ack, 80, 443));
        assert!(sender_is_server(syn_ack, 8000, 1080));
        assert!(!sender_is_server(syn_ack, 51000, 80));
        assert!(sender_is_server(data, 443, 51000));
        assert!(sender_is_server(data, 80, 443));
        assert!(!sender_is_server(data, 443, 80));
        assert!(!sender_is_server(data, 51000, 40000));
    }
}
