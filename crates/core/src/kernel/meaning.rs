//! What each `enum sk_rst_reason` value (`include/net/rstreason.h`) means, in words, and the
//! scenario rstscope names for it. The kernel's names are matched as text: their numbers
//! differ between kernels.

/// The scenario of a reset the local kernel said it sent, named after its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelScenario {
    /// TCP_ABORT_ON_CLOSE: the application closed the socket with data it had not read
    /// (RFC 2525 §2.17).
    AbortOnClose,
    /// TCP_ABORT_ON_DATA: data arrived for a socket the application had already closed.
    AbortOnData,
    /// TCP_STATE: an abortive close, such as close() with SO_LINGER {1, 0}, or a shutdown in
    /// a state that allows no FIN.
    AbortiveClose,
    /// TCP_ABORT_ON_LINGER: a closed socket's FIN_WAIT2 or linger time ran out.
    LingerTimeout,
    /// TCP_ABORT_ON_MEMORY: the kernel was short of memory or had too many orphaned sockets.
    OutOfMemory,
    /// TCP_TIMEWAIT_SOCKET: a segment reached a connection in TIME_WAIT that did not accept it.
    TimeWait,
    /// TCP_KEEPALIVE_TIMEOUT: the peer stopped answering keepalive probes.
    KeepaliveTimeout,
    /// TCP_DISCONNECT_WITH_DATA: the application disconnected (connect AF_UNSPEC) a socket
    /// with unread data.
    DisconnectWithData,
    /// The stack rejected a segment it could not accept (a bad ACK, a PAWS failure, bad
    /// flags, an invalid SYN).
    InvalidSegment,
    /// An MPTCP subflow was reset (the reason's MPTCP error code).
    MptcpReset,
    /// A reason rstscope has no words for, or a kernel that names none.
    Other,
}

impl KernelScenario {
    /// The scenario's name in reports (`--scenario` accepts it).
    pub fn as_str(self) -> &'static str {
        match self {
            KernelScenario::AbortOnClose => "abort_on_close",
            KernelScenario::AbortOnData => "abort_on_data",
            KernelScenario::AbortiveClose => "abortive_close",
            KernelScenario::LingerTimeout => "linger_timeout",
            KernelScenario::OutOfMemory => "out_of_memory",
            KernelScenario::TimeWait => "time_wait",
            KernelScenario::KeepaliveTimeout => "keepalive_timeout",
            KernelScenario::DisconnectWithData => "disconnect_with_data",
            KernelScenario::InvalidSegment => "invalid_segment",
            KernelScenario::MptcpReset => "mptcp_reset",
            KernelScenario::Other => "kernel_reset",
        }
    }

    pub const ALL: [KernelScenario; 11] = [
        KernelScenario::AbortOnClose,
        KernelScenario::AbortOnData,
        KernelScenario::AbortiveClose,
        KernelScenario::LingerTimeout,
        KernelScenario::OutOfMemory,
        KernelScenario::TimeWait,
        KernelScenario::KeepaliveTimeout,
        KernelScenario::DisconnectWithData,
        KernelScenario::InvalidSegment,
        KernelScenario::MptcpReset,
        KernelScenario::Other,
    ];

    /// The scenario of a reason other than NO_SOCKET (which is a refusal or a no-socket
    /// answer, by what the RST answered).
    pub fn of_reason(reason: &str) -> KernelScenario {
        match reason {
            "TCP_ABORT_ON_CLOSE" => KernelScenario::AbortOnClose,
            "TCP_ABORT_ON_DATA" => KernelScenario::AbortOnData,
            "TCP_STATE" => KernelScenario::AbortiveClose,
            "TCP_ABORT_ON_LINGER" => KernelScenario::LingerTimeout,
            "TCP_ABORT_ON_MEMORY" => KernelScenario::OutOfMemory,
            "TCP_TIMEWAIT_SOCKET" => KernelScenario::TimeWait,
            "TCP_KEEPALIVE_TIMEOUT" => KernelScenario::KeepaliveTimeout,
            "TCP_DISCONNECT_WITH_DATA" => KernelScenario::DisconnectWithData,
            "TCP_INVALID_ACK_SEQUENCE"
            | "TCP_RFC7323_PAWS"
            | "TCP_TOO_OLD_ACK"
            | "TCP_ACK_UNSENT_DATA"
            | "TCP_FLAGS"
            | "TCP_OLD_ACK"
            | "INVALID_SYN" => KernelScenario::InvalidSegment,
            mptcp if mptcp.starts_with("MPTCP_") => KernelScenario::MptcpReset,
            _ => KernelScenario::Other,
        }
    }

    /// What the host's stack did, completing "the kernel reset the connection because ...".
    pub fn meaning(self) -> &'static str {
        match self {
            KernelScenario::AbortOnClose => {
                "the application closed the socket with received data it had not read"
            }
            KernelScenario::AbortOnData => {
                "data arrived after the application had closed the socket"
            }
            KernelScenario::AbortiveClose => {
                "the application aborted the connection (close() with SO_LINGER {1, 0}, or a shutdown in a state that allows no FIN)"
            }
            KernelScenario::LingerTimeout => {
                "the closed socket's linger or FIN_WAIT2 time ran out before the peer closed"
            }
            KernelScenario::OutOfMemory => {
                "the kernel was short of socket memory or had too many orphaned connections"
            }
            KernelScenario::TimeWait => {
                "a segment reached the connection in TIME_WAIT that it could not accept"
            }
            KernelScenario::KeepaliveTimeout => "the peer stopped answering keepalive probes",
            KernelScenario::DisconnectWithData => {
                "the application disconnected the socket with data it had not read"
            }
            KernelScenario::InvalidSegment => {
                "it received a segment it could not accept (an unacceptable ACK, a PAWS failure, bad flags or an invalid SYN)"
            }
            KernelScenario::MptcpReset => "an MPTCP subflow was reset",
            KernelScenario::Other => "of a reason the kernel did not name",
        }
    }

    /// True for reasons that fire inside the owner's system call (close, shutdown,
    /// connect), where the running task is the socket's owner.
    pub fn fires_in_owner(self) -> bool {
        matches!(
            self,
            KernelScenario::AbortOnClose
                | KernelScenario::AbortiveClose
                | KernelScenario::DisconnectWithData
        )
    }

    /// What to do about it, for the report's advice.
    pub fn advice(self) -> &'static str {
        match self {
            KernelScenario::AbortOnClose | KernelScenario::DisconnectWithData => {
                "Read (or shut down for reading) everything the peer sent before closing the socket, or make the peer stop sending first; a close with unread data is a reset by RFC 2525."
            }
            KernelScenario::AbortOnData => {
                "The application closed while the peer was still sending: close only after the protocol says the peer is done (or shutdown(SHUT_WR) and read to end of file first)."
            }
            KernelScenario::AbortiveClose => {
                "Remove SO_LINGER {1, 0} (or the abort call) unless an abortive close is wanted; a normal close sends FIN."
            }
            KernelScenario::LingerTimeout => {
                "The peer did not finish closing in time: check it, or raise net.ipv4.tcp_fin_timeout."
            }
            KernelScenario::OutOfMemory => {
                "Check socket memory and orphans (net.ipv4.tcp_mem, tcp_max_orphans, `ss -s`) on this host."
            }
            KernelScenario::TimeWait => {
                "A peer reused a port still in TIME_WAIT: spread its source ports, or let the server side close first."
            }
            KernelScenario::KeepaliveTimeout => {
                "The peer or the path went away: check it; tune TCP_KEEPIDLE/TCP_KEEPINTVL/TCP_KEEPCNT if the probes give up too soon."
            }
            KernelScenario::InvalidSegment => {
                "The peer (or a device that rewrites sequence numbers or timestamps) sent segments this host could not accept: compare captures at both ends."
            }
            KernelScenario::MptcpReset | KernelScenario::Other => {
                "This host's stack sent it: look at the application and the kernel's log around the time."
            }
        }
    }
}
