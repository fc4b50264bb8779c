//! The numbers that decide a verdict, in one place: what each clue is worth as a likelihood
//! ratio, which clues read the same bytes (and so count once), the prior for each situation a
//! reset can arrive in, and the bounds inside which the answer is `unknown`.
//!
//! A ratio is P(the clue is seen | a device on the path sent the RST) divided by P(the clue is
//! seen | the host that owns the address sent it): above 1 it points to the path, below 1 to
//! the peer. The posterior odds are the prior odds times the ratio of the strongest clue of
//! each group. Where a number comes from is written beside it: a stack's source, an RFC, a
//! vendor's documentation, or a measurement on the lab generator's tuning seeds (`lab/gen`,
//! seeds 1-199; evaluation uses seeds 1000 and up, never tuned on).

/// Which header bytes (or which behaviour) a clue reads. Clues of one group are not
/// independent evidence: only the strongest of each group counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Group {
    /// The IPv4 TTL / IPv6 hop limit: TTL comparisons, the capturing host, on- and off-link.
    Ttl,
    /// The frame's link-layer source address.
    Link,
    /// How soon the RST came after what it answered.
    Timing,
    /// The IPv4 identification field.
    IpId,
    /// The IPv4 don't-fragment bit.
    Df,
    /// The IPv6 flow label.
    FlowLabel,
    /// What the claimed sender did after the RST.
    Race,
    /// Other RSTs close by.
    Burst,
    /// The RST's sequence number.
    Seq,
    /// Bytes a device or stack writes to name itself (payload text, options, window codes).
    Signature,
    /// Whether the RST passed through the capturing box, as the sender's packets did.
    Forwarding,
}

/// One kind of observation about a reset, with a fixed weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Clue {
    /// RST TTL equals the sender's other packets in this flow.
    TtlSameInFlow,
    /// RST TTL equals the sender's packets in other flows (an address may front several hosts).
    TtlSameElsewhere,
    /// Both untouched (0 hops) and equal: the sender is the capturing host or on its link.
    TtlUntouchedSame,
    /// The RST arrived with a higher TTL (from nearer) than the sender's packets in this flow.
    TtlNearerInFlow,
    TtlNearerElsewhere,
    /// Four or more hops nearer than the sender's packets in other flows: another place.
    TtlMuchNearerElsewhere,
    /// One hop nearer only.
    TtlOneNearerInFlow,
    TtlOneNearerElsewhere,
    /// Two or more hops lower than the sender's packets (same initial TTL assumed).
    TtlLowerInFlow,
    TtlLowerElsewhere,
    /// One hop lower: a route change can do that.
    TtlOneLower,
    /// Another initial TTL (64/128/255) than every packet of the sender in this flow.
    TtlOtherStackInFlow,
    TtlOtherStackElsewhere,
    /// The RST's TTL is one the address answers with in its other flows: another machine behind
    /// the same address (a failover, a load balancer's other backend).
    TtlSharedAddress,
    /// Another initial TTL, but as many routers crossed as the sender's packets: another machine
    /// at the sender's place (a standby after a failover, a backend, a transparent device).
    TtlOtherStackSameDistance,
    /// Another initial TTL, but both untouched on the capture link: an application that sets
    /// its own TTL (BGP at 1 or 255), the kernel's reset at its default.
    TtlOtherStackSameLink,
    /// Nearer than the same address's other RSTs, where it sent nothing else: a device in front
    /// of the host, which sent the farther ones.
    TtlNearerThanOtherResets,
    /// An untouched RST from an address on the capturing host's own network, no baseline.
    TtlOnLinkNoBaseline,
    /// An untouched RST from an address on another network than the capturing host.
    TtlOffLinkUntouched,
    /// The RST carries one of the capturing host's own interface addresses (live capture).
    OwnAddress,
    /// The RST's link address is the claimed sender's own (on the capture link).
    LinkSame,
    /// The RST came from another link address than every frame of an on-link sender.
    LinkOther,
    /// Another link address than the routed sender's packets (another router or an injector).
    LinkOtherRouted,
    /// Sooner after what it answered than half the round trip to the claimed sender.
    TooFast,
    /// As soon after what it answered as a round trip to the claimed sender takes.
    TimingConsistent,
    /// The IPv4 ID continues the sender's counter in this flow.
    IpIdContinues,
    /// The IPv4 ID continues the host's one counter across its connections.
    IpIdHostCounter,
    /// The sender's counter counted up, and the RST's ID does not continue it.
    IpIdJump,
    /// As `IpIdJump`, after a close or an earlier reset, where the host has no socket left.
    IpIdJumpNoSocket,
    /// No DF on the RST; every packet of the sender had it.
    DfMismatch,
    /// No IPv6 flow label on the RST; every packet of the sender had one, and it still had
    /// its connection.
    FlowLabelMissing,
    /// An unlabelled refusal from a host that labelled every other packet, refusals too.
    FlowLabelMissingHost,
    /// The claimed sender sent data after "its" RST.
    DataAfterReset,
    /// The claimed sender sent ACKs or FINs after "its" RST.
    TrafficAfterReset,
    /// Other RSTs from the same address within a second with other seq or TTL.
    ResetBurst,
    /// RSTs back to back with different sequence numbers, nothing from the other side between.
    ResetVolley,
    /// RST seq is exactly the sender's next sequence number.
    SeqExact,
    /// RST seq lies behind the sender's next sequence number (a reply to an older ack).
    SeqOff,
    /// RST seq lies beyond everything the sender sent.
    SeqBeyond,
    /// RST seq lies behind SND.NXT and echoes no ack the other side sent: neither an active
    /// reset (at SND.NXT) nor a reply (at the ack it answers).
    SeqUnexplained,
    /// The sender's packets passed through the capturing box (each seen twice), this RST did
    /// not, and it carries another TTL or link address than theirs: the box made it.
    NotForwarded,
    /// A reset-cause text a load balancer writes (F5 BIG-IP).
    DeviceText,
    /// An MPTCP endpoint's MP_TCPRST option (RFC 8684 §3.6).
    MptcpReset,
}

impl Clue {
    /// The clue's name, as the README's table gives it.
    #[cfg(test)]
    pub(crate) fn name(self) -> &'static str {
        match self {
            Clue::TtlSameInFlow => "ttl_same_in_flow",
            Clue::TtlSameElsewhere => "ttl_same_elsewhere",
            Clue::TtlUntouchedSame => "ttl_untouched_same",
            Clue::TtlNearerInFlow => "ttl_nearer_in_flow",
            Clue::TtlNearerElsewhere => "ttl_nearer_elsewhere",
            Clue::TtlMuchNearerElsewhere => "ttl_much_nearer_elsewhere",
            Clue::TtlOneNearerInFlow => "ttl_one_nearer_in_flow",
            Clue::TtlOneNearerElsewhere => "ttl_one_nearer_elsewhere",
            Clue::TtlLowerInFlow => "ttl_lower_in_flow",
            Clue::TtlLowerElsewhere => "ttl_lower_elsewhere",
            Clue::TtlOneLower => "ttl_one_lower",
            Clue::TtlOtherStackInFlow => "ttl_other_stack_in_flow",
            Clue::TtlOtherStackElsewhere => "ttl_other_stack_elsewhere",
            Clue::TtlOtherStackSameLink => "ttl_other_stack_same_link",
            Clue::TtlOtherStackSameDistance => "ttl_other_stack_same_distance",
            Clue::TtlSharedAddress => "ttl_shared_address",
            Clue::TtlOnLinkNoBaseline => "ttl_on_link_no_baseline",
            Clue::TtlNearerThanOtherResets => "ttl_nearer_than_other_resets",
            Clue::TtlOffLinkUntouched => "ttl_off_link_untouched",
            Clue::OwnAddress => "own_address",
            Clue::LinkSame => "link_same",
            Clue::LinkOther => "link_other",
            Clue::LinkOtherRouted => "link_other_routed",
            Clue::TooFast => "too_fast",
            Clue::TimingConsistent => "timing_consistent",
            Clue::IpIdContinues => "ip_id_continues",
            Clue::IpIdHostCounter => "ip_id_host_counter",
            Clue::IpIdJump => "ip_id_jump",
            Clue::IpIdJumpNoSocket => "ip_id_jump_no_socket",
            Clue::DfMismatch => "df_mismatch",
            Clue::FlowLabelMissing => "flow_label_missing",
            Clue::FlowLabelMissingHost => "flow_label_missing_host",
            Clue::DataAfterReset => "data_after_reset",
            Clue::TrafficAfterReset => "traffic_after_reset",
            Clue::ResetBurst => "reset_burst",
            Clue::ResetVolley => "reset_volley",
            Clue::SeqExact => "seq_exact",
            Clue::SeqOff => "seq_off",
            Clue::SeqBeyond => "seq_beyond",
            Clue::SeqUnexplained => "seq_unexplained",
            Clue::NotForwarded => "not_forwarded",
            Clue::DeviceText => "device_text",
            Clue::MptcpReset => "mptcp_reset",
        }
    }
}

/// A clue's weight and where the number comes from.
pub(crate) struct Row {
    pub clue: Clue,
    pub group: Group,
    /// P(clue | path) / P(clue | peer).
    pub ratio: f64,
    /// Where the number comes from (the README's table prints it).
    #[cfg_attr(not(test), allow(dead_code))]
    pub source: &'static str,
}

/// Every clue's weight. The README's table is this one.
pub(crate) const ROWS: &[Row] = &[
    Row {
        clue: Clue::TtlSameInFlow,
        group: Group::Ttl,
        ratio: 0.6,
        source: "a stack sends every segment of a connection with one initial TTL; a device matches \
                 it by sitting at the same distance with the same initial TTL, or by copying the \
                 TTL of the packets it sees, as injectors may: measured on the lab generator's tuning seeds 1-199 (171 path, 418 peer resets): 43 path, 165 peer",
    },
    Row {
        clue: Clue::TtlSameElsewhere,
        group: Group::Ttl,
        ratio: 0.3,
        source: "as in-flow, but another flow of the address may reach another machine (load \
                 balancer backends, NAT)",
    },
    Row {
        clue: Clue::TtlUntouchedSame,
        group: Group::Ttl,
        ratio: 0.06,
        source: "an untouched TTL crossed no router: a forger would have to sit on the capture \
                 link and use the sender's initial TTL",
    },
    Row {
        clue: Clue::TtlNearerInFlow,
        group: Group::Ttl,
        ratio: 100.0,
        source: "a genuine RST crosses the same routers as its connection's other segments; two \
                 hops shorter within one flow needs a route change between two packets",
    },
    Row {
        clue: Clue::TtlNearerElsewhere,
        group: Group::Ttl,
        ratio: 15.0,
        source: "as in-flow, but other flows of the address may reach another machine; measured on the tuning seeds: 3 path, 0 peer",
    },
    Row {
        clue: Clue::TtlMuchNearerElsewhere,
        group: Group::Ttl,
        ratio: 60.0,
        source: "machines behind one address (load balancer backends) sit within a hop or two \
                 of each other; four hops nearer is another place on the path; measured on the tuning seeds: 27 path, 0 peer (with the other-stack clue)",
    },
    Row {
        clue: Clue::TtlOneNearerInFlow,
        group: Group::Ttl,
        ratio: 25.0,
        source: "ECMP paths of unequal length are rare inside one flow (flows hash to one path)",
    },
    Row {
        clue: Clue::TtlOneNearerElsewhere,
        group: Group::Ttl,
        ratio: 4.0,
        source: "another flow may hash to another path, or reach another backend",
    },
    Row {
        clue: Clue::TtlLowerInFlow,
        group: Group::Ttl,
        ratio: 40.0,
        source: "a RST does not cross more routers than its flow's segments (a route change \
                 between two packets of one flow is rare); a device with a lower initial TTL (an \
                 injector's own, 48 in the lab) shows as 'farther'",
    },
    Row {
        clue: Clue::TtlLowerElsewhere,
        group: Group::Ttl,
        ratio: 4.0,
        source: "as in-flow, weaker across flows",
    },
    Row {
        clue: Clue::TtlOneLower,
        group: Group::Ttl,
        ratio: 1.5,
        source: "a route change of one hop explains it as well as a device does",
    },
    Row {
        clue: Clue::TtlOtherStackInFlow,
        group: Group::Ttl,
        ratio: 300.0,
        source: "a stack uses one initial TTL for a connection (64 Linux/BSD/macOS, 128 Windows, \
                 255 network devices: p0f, ANCHORS 3.8); only an application setting its own TTL \
                 changes it, and then on every segment; measured on the lab generator's tuning seeds 1-199: 78 path, 0 peer (standbys at the host's hop count have their own clue)",
    },
    Row {
        clue: Clue::TtlOtherStackElsewhere,
        group: Group::Ttl,
        ratio: 100.0,
        source: "as in-flow, but another flow's packets may come from another machine behind the \
                 address (its other flows showed one stack, so one machine is likely); measured on the lab generator's tuning seeds 1-199 (171 path, 418 peer resets): 20 path, \
                 0 peer",
    },
    Row {
        clue: Clue::TtlOtherStackSameDistance,
        group: Group::Ttl,
        ratio: 3.0,
        source: "a routed device on the path sits at another hop count than the host; another \
                 stack at the host's hop count is another machine at its place: a standby that \
                 took the address over (the schema's peer), or a transparent device in front of it",
    },
    Row {
        clue: Clue::TtlOtherStackSameLink,
        group: Group::Ttl,
        ratio: 1.5,
        source: "applications set their own TTL on the link (BGP: 1, GTSM RFC 5082: 255) while the \
                 kernel resets at its default; a second stack on the link would look the same",
    },
    Row {
        clue: Clue::TtlSharedAddress,
        group: Group::Ttl,
        ratio: 0.3,
        source: "the address's own packets in other flows arrive with the RST's TTL, and RSTs \
                 are left out of baselines, so a stack that answers for the address sent it: a \
                 standby that took the address over, or another backend",
    },
    Row {
        clue: Clue::TtlNearerThanOtherResets,
        group: Group::Ttl,
        ratio: 30.0,
        source: "a host's resets come from one stack at one distance; RSTs from one address at \
                 two distances come from two senders, and a device on the path sits nearer than \
                 the host (the lab generator's routed firewalls rejecting one port); measured on the tuning seeds: 13 path, 0 peer",
    },
    Row {
        clue: Clue::TtlOnLinkNoBaseline,
        group: Group::Ttl,
        ratio: 0.12,
        source: "an untouched TTL was sent on the capture link, and the address is on the \
                 capturing host's network: the host itself, unless a device on the link forged it",
    },
    Row {
        clue: Clue::TtlOffLinkUntouched,
        group: Group::Ttl,
        ratio: 40.0,
        source: "an untouched TTL was sent on the capture link, but the address is on another \
                 network: its host is behind a router, whose forwarding would have lowered it; measured on the lab generator's tuning seeds 1-199: 9 path, 0 peer",
    },
    Row {
        clue: Clue::OwnAddress,
        group: Group::Ttl,
        ratio: 0.02,
        source: "the interface's own address: the capturing host sent it (its own netfilter \
                 rules count as the host, per the schema)",
    },
    Row {
        clue: Clue::LinkSame,
        group: Group::Link,
        ratio: 0.25,
        source: "a host on the link sends from its own MAC (ARP and its frames say which); a \
                 routed device uses its own, but a transparent bridge firewall (Cisco ASA in \
                 transparent mode; a Linux bridge with br_netfilter in the lab generator) \
                 rejects with the MAC of the host it speaks for",
    },
    Row {
        clue: Clue::LinkOther,
        group: Group::Link,
        ratio: 6.0,
        source: "an on-link host sends every frame from its own MAC; a standby that takes over \
                 its address has another, so this is weaker than it looks (the lab generator's \
                 failovers)",
    },
    Row {
        clue: Clue::LinkOtherRouted,
        group: Group::Link,
        ratio: 3.0,
        source: "a routed host's packets arrive from its router; another MAC is another router \
                 (ECMP, VRRP) or a device beside the path",
    },
    Row {
        clue: Clue::TooFast,
        group: Group::Timing,
        ratio: 30.0,
        source: "a RST answering a segment cannot beat the round trip to its sender; a capture's \
                 own delays can shave a little, not half; measured on the lab generator's tuning seeds 1-199 (171 path, 418 peer resets): 48 path, 1 peer",
    },
    Row {
        clue: Clue::TimingConsistent,
        group: Group::Timing,
        ratio: 0.5,
        source: "devices next to the sender (a firewall in front of a server) answer as late as \
                 the sender, so consistent timing is weak; measured on the lab generator's tuning seeds 1-199 (171 path, 418 peer resets): ratio 0.44",
    },
    Row {
        clue: Clue::IpIdContinues,
        group: Group::IpId,
        ratio: 0.5,
        source: "a device does not know the sender's IP ID counter unless it copies it from the \
                 packets it sees; measured on the lab generator's tuning seeds 1-199 (171 path, 418 peer resets): as often among path resets as peer ones (injectors that \
                 copy it), shrunk toward the peer side because real captures seldom hold copying \
                 injectors",
    },
    Row {
        clue: Clue::IpIdHostCounter,
        group: Group::IpId,
        ratio: 0.35,
        source: "Windows numbers every packet from one counter, so its resets continue the host's \
                 counter, not the flow's; measured on the lab generator's tuning seeds 1-199 (171 path, 418 peer resets): 3 peer, 0 path",
    },
    Row {
        clue: Clue::IpIdJump,
        group: Group::IpId,
        ratio: 30.0,
        source: "mid-stream, a genuine reset is an active one sent through the socket, which \
                 continues its counter; measured on the lab generator's tuning seeds 1-199: 34 \
                 path, 0 peer",
    },
    Row {
        clue: Clue::IpIdJumpNoSocket,
        group: Group::IpId,
        ratio: 5.0,
        source: "a host with no socket left resets from another counter: Linux's per-destination \
                 hash, or ID 0 (include/net/ip.h); corpus/wild/robustness r08 is such a genuine \
                 reset; measured on the tuning seeds: 19 path, 0 peer, far above what one real counterexample allows",
    },
    Row {
        clue: Clue::DfMismatch,
        group: Group::Df,
        ratio: 10.0,
        source: "Linux and Windows set DF on every segment of a connection, resets included; measured on the lab generator's tuning seeds 1-199 (171 path, 418 peer resets): \
                 26 path, 0 peer, shrunk for stacks the lab lacks",
    },
    Row {
        clue: Clue::FlowLabelMissingHost,
        group: Group::FlowLabel,
        ratio: 20.0,
        source: "Linux labels the resets its control path sends (tcp_v6_send_reset through \
                 ip6_xmit); netfilter's reject writes label 0 (nf_reject_ip6hdr_put); only \
                 for a host whose other refusals in the capture carried labels (BSD stacks \
                 send none): one stack does not label some refusals and not others, so only \
                 several machines behind one address (a mixed pool) would send a genuine \
                 one; measured on the lab generator's tuning seeds 100-115 (firewall \
                 scenarios forced), 24-95 and 120-191: 44 path, 0 peer",
    },
    Row {
        clue: Clue::FlowLabelMissing,
        group: Group::FlowLabel,
        ratio: 20.0,
        source: "RFC 6437 §3: one label for a flow's packets; Linux labels every TCP packet, \
                 resets included (net.ipv6.auto_flowlabels), from the socket's hash, and BSD \
                 from the socket's label; only while the sender had its socket (BSD stacks \
                 send unlabelled no-socket RSTs, seen in corpus/wild): one socket does not \
                 drop its label for one segment; measured on the lab generator's tuning seeds \
                 100-199: 33 path, 0 peer; 24-95, 100-115 (firewall scenarios forced) and \
                 120-191: 65 path, 0 peer",
    },
    Row {
        clue: Clue::DataAfterReset,
        group: Group::Race,
        ratio: 1000.0,
        source: "a stack that reset a connection has no socket to send from (Weaver, Sommer, \
                 Paxson, NDSS 2009: RST_SEQ_DATA); one capture point sees a sender's packets in \
                 the order sent, so only a capture's own reordering fakes it: this outweighs a \
                 copied TTL and IP ID together",
    },
    Row {
        clue: Clue::TrafficAfterReset,
        group: Group::Race,
        ratio: 300.0,
        source: "as data: a host that reset has no socket to acknowledge from; RFC 9293 \
                 §3.10.7.3 lets a host in SYN-RECEIVED reset a bad ACK and keep the connection (its \
                 SYN-ACK retransmissions are not counted), and ACKs are more often reordered by a \
                 capture than data",
    },
    Row {
        clue: Clue::ResetBurst,
        group: Group::Burst,
        ratio: 1.5,
        source: "injectors send several RSTs to cover the window; a host without a socket also \
                 answers each segment; measured on the lab generator's tuning seeds 1-199 (171 path, 418 peer resets): ratio 1.56",
    },
    Row {
        clue: Clue::ResetVolley,
        group: Group::Burst,
        ratio: 100.0,
        source: "a host resets once per abort, and without a socket once per segment that arrives, \
                 echoing its ack; RSTs back to back with stepped sequence numbers cover a window, as \
                 injectors do (Weaver et al. RST_SEQ_CHANGE; Clayton et al. 2006 on the GFW); measured on the lab generator's tuning seeds 1-199 (171 path, 418 peer resets): \
                 56 path, 0 peer",
    },
    Row {
        clue: Clue::SeqExact,
        group: Group::Seq,
        ratio: 0.75,
        source: "a stack resets at SND.NXT (RFC 9293 §3.10.7); devices in the path see it too; \
                 measured on the lab generator's tuning seeds 1-199 (171 path, 418 peer resets): ratio 0.75",
    },
    Row {
        clue: Clue::SeqOff,
        group: Group::Seq,
        ratio: 1.5,
        source: "a stack's reply RST uses the ack of the segment it answers, which lags SND.NXT \
                 while data is in flight; an injector reading an ack does the same",
    },
    Row {
        clue: Clue::SeqBeyond,
        group: Group::Seq,
        ratio: 20.0,
        source: "no stack resets beyond what it sent (RFC 9293 §3.10.7), unless the capture \
                 missed its last segments; an injector covering the window steps past it; measured \
                 on the lab generator's tuning seeds 1-199: 34 path, 0 peer",
    },
    Row {
        clue: Clue::NotForwarded,
        group: Group::Forwarding,
        ratio: 30.0,
        source: "a box capturing on its own interfaces sees every packet it forwards twice, one \
                 TTL apart; a RST it forwards is no exception, and one it drops keeps the \
                 sender's TTL and link address, so a RST seen once, leaving, with another TTL or \
                 link address, was made by the box (the lab generator's firewalls captured with \
                 `tcpdump -i any`)",
    },
    Row {
        clue: Clue::SeqUnexplained,
        group: Group::Seq,
        ratio: 2.0,
        source: "a stack resets at SND.NXT when it aborts (Linux tcp_send_active_reset: \
                 tcp_acceptable_seq) and at the ack it answers when it has no socket \
                 (tcp_v4_send_reset); a seq that is neither was computed by someone else; measured on the lab generator's tuning seeds 1-199: 4 path, 5 peer (replies to acks older than the segments kept)",
    },
    Row {
        clue: Clue::DeviceText,
        group: Group::Signature,
        ratio: 50.0,
        source: "F5 BIG-IP writes 'BIG-IP: [...]' reset causes into the RSTs it sends itself \
                 (F5's Wireshark dissector packet-f5ethtrailer.c; docs/device-signatures.md)",
    },
    Row {
        clue: Clue::MptcpReset,
        group: Group::Signature,
        ratio: 0.2,
        source: "MP_TCPRST is written by an MPTCP endpoint (RFC 8684 §3.6); a device would \
                 have to speak MPTCP",
    },
];

/// The row of a clue.
pub(super) fn row(clue: Clue) -> &'static Row {
    ROWS.iter().find(|row| row.clue == clue).unwrap_or(&ROWS[0])
}

/// Where in a connection a reset came: each has its own prior.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Situation {
    /// The flow holds nothing but RSTs: what they answered is not in the capture.
    Alone,
    /// It answered a connection attempt (SYN).
    AnswersSyn,
    /// The client's RST answered the server's SYN-ACK (a half-open probe, or a given-up SYN).
    AnswersSynAck,
    /// The flow had already carried a RST: a follow-up.
    AfterReset,
    /// A side had already closed with FIN.
    AfterClose,
    /// In an established connection.
    MidStream,
}

impl Situation {
    pub fn as_str(self) -> &'static str {
        match self {
            Situation::Alone => "reset_only",
            Situation::AnswersSyn => "answers_syn",
            Situation::AnswersSynAck => "answers_syn_ack",
            Situation::AfterReset => "after_reset",
            Situation::AfterClose => "after_close",
            Situation::MidStream => "mid_stream",
        }
    }

    /// P(a device on the path sent it) before any clue is read. Most resets on real networks
    /// come from endpoints (corpus/wild: 69 of 76; public captures of scans and browsing are
    /// nearly all endpoint resets), so every prior leans to the peer: with no evidence at all a
    /// refusal or a mid-stream reset is the peer's at 0.8. A RST alone in its flow answered
    /// something the capture does not hold: without evidence it stays `unknown`.
    pub fn prior(self) -> f64 {
        match self {
            Situation::Alone => 0.3,
            Situation::AnswersSyn => 0.2,
            Situation::AnswersSynAck => 0.1,
            Situation::AfterReset => 0.15,
            Situation::AfterClose => 0.15,
            Situation::MidStream => 0.2,
        }
    }
}

/// A silence at least this long before what the RST answered raises the prior (see
/// `idle_prior`): below it, a pause is part of ordinary traffic.
pub(super) const IDLE_FROM_SECS: f64 = 1.0;

/// The prior of a situation after a silence of `secs`: devices forget idle connections
/// (ANCHORS §4, the most common cause of "connection reset by peer" in user reports), so every
/// tenfold of silence beyond a second moves the odds 1.6 times toward the path (mid-stream,
/// 10 s: 0.29, 100 s: 0.39, an hour: 0.55), up to 0.6.
pub(super) fn idle_prior(situation: Situation, secs: f64) -> f64 {
    let base = situation.prior();
    if secs < IDLE_FROM_SECS {
        return base;
    }
    let odds = base / (1.0 - base) * 1.6f64.powf(secs.log10());
    (odds / (1.0 + odds)).min(0.6).max(base)
}

/// At or above this posterior, a device on the path sent it.
pub(super) const PATH_AT_LEAST: f64 = 0.8;
/// At or below this posterior, the peer sent it.
pub(super) const PEER_AT_MOST: f64 = 0.25;

/// The posterior P(path) from a prior and the counted ratios.
pub(super) fn posterior(prior: f64, ratios: impl IntoIterator<Item = f64>) -> f64 {
    let prior = prior.clamp(0.001, 0.999);
    let log_odds = (prior / (1.0 - prior)).ln() + ratios.into_iter().map(f64::ln).sum::<f64>();
    1.0 / (1.0 + (-log_odds).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_clue_has_one_row() {
        for row in ROWS {
            let count = ROWS.iter().filter(|other| other.clue == row.clue).count();
            assert_eq!(count, 1, "{:?}", row.clue);
            assert!(row.ratio > 0.0);
        }
    }

    /// The README's table of clues is this table: every clue's name, group, ratio and source
    /// appear on one row of it.
    #[test]
    fn the_readme_lists_every_clue_with_its_ratio() {
        let readme = include_str!("../../../../README.md");
        let table = readme
            .split_once("| clue | group | ratio |")
            .map_or("", |(_, table)| table);
        for row in ROWS {
            let name = format!("| `{}` |", row.clue.name());
            let line = table
                .lines()
                .find(|line| line.starts_with(&name))
                .unwrap_or_else(|| panic!("README has no row for {}", row.clue.name()));
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            assert_eq!(
                cells.get(2),
                Some(&format!("{:?}", row.group).to_lowercase().as_str()),
                "{line}"
            );
            assert_eq!(
                cells.get(3).and_then(|c| c.parse::<f64>().ok()),
                Some(row.ratio),
                "{line}"
            );
            assert_eq!(cells.get(4), Some(&row.source), "{line}");
        }
    }

    #[test]
    fn the_posterior_moves_with_the_ratios() {
        assert!((posterior(0.5, []) - 0.5).abs() < 1e-9);
        assert!((posterior(0.2, [4.0]) - 0.5).abs() < 1e-9);
        assert!(posterior(0.2, [40.0, 0.6]) > PATH_AT_LEAST);
        assert!(posterior(0.2, [0.12]) < PEER_AT_MOST);
    }

    #[test]
    fn a_longer_silence_raises_the_prior_up_to_a_bound() {
        let mid = Situation::MidStream;
        assert_eq!(idle_prior(mid, 0.5), mid.prior());
        assert!(idle_prior(mid, 6.5) > mid.prior());
        assert!(idle_prior(mid, 360.0) > idle_prior(mid, 6.5));
        assert!(idle_prior(mid, 1e9) <= 0.6);
    }
}
