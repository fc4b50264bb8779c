//! Link-layer header types: a leaf every stage names (the sources that read them, the
//! decoder that walks them, the anonymiser that rewrites them) without depending on another.

/// The link-layer header types rstscope decodes, named as libpcap names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    /// DLT_EN10MB: Ethernet II and 802.3, with VLAN tags.
    Ethernet,
    /// DLT_NULL: BSD loopback, address family in host byte order.
    Null,
    /// DLT_LOOP: OpenBSD loopback, address family in network byte order.
    Loop,
    /// DLT_RAW (and LINKTYPE_IPV4/IPV6): the frame starts with the IP header.
    Raw,
    /// DLT_LINUX_SLL: Linux cooked capture v1 (`tcpdump -i any`, older).
    LinuxSll,
    /// DLT_LINUX_SLL2: Linux cooked capture v2 (`tcpdump -i any`, libpcap 1.10 and later).
    LinuxSll2,
    /// DLT_FDDI: FDDI with 802.2 LLC/SNAP.
    Fddi,
    /// DLT_PPP: PPP with address/control bytes (or not) and a protocol field.
    Ppp,
}

impl LinkType {
    /// Maps a libpcap DLT value to a link type rstscope can decode.
    pub fn from_dlt(dlt: i32) -> Option<LinkType> {
        Some(match dlt {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            9 | 50 => LinkType::Ppp,
            10 => LinkType::Fddi,
            12 | 14 | 101 | 228 | 229 => LinkType::Raw,
            108 => LinkType::Loop,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            _ => return None,
        })
    }

    /// libpcap's name for the type, as `tcpdump -L` prints it.
    pub fn name(self) -> &'static str {
        match self {
            LinkType::Ethernet => "EN10MB",
            LinkType::Null => "NULL",
            LinkType::Loop => "LOOP",
            LinkType::Raw => "RAW",
            LinkType::LinuxSll => "LINUX_SLL",
            LinkType::LinuxSll2 => "LINUX_SLL2",
            LinkType::Fddi => "FDDI",
            LinkType::Ppp => "PPP",
        }
    }
}
