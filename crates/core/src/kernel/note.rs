//! What the kernel's events said about one captured RST, joined to it by 4-tuple and time.

/// A local process, as `/proc/PID/comm` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub pid: i32,
    pub name: String,
}

impl std::fmt::Display for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}[{}]", self.name, self.pid)
    }
}

/// Who owned a local socket, from a snapshot of the host's sockets (`/proc/net/tcp`) taken
/// before the RST, and the process found holding it then, when this process could look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketOwner {
    pub uid: u32,
    pub user: Option<String>,
    pub inode: u64,
    pub process: Option<Process>,
    /// The snapshot's time, on the capture's clock (nanoseconds since the epoch).
    pub as_of_ns: i64,
}

impl std::fmt::Display for SocketOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.process, &self.user) {
            (Some(process), Some(user)) => write!(f, "{process} (user {user})"),
            (Some(process), None) => write!(f, "{process} (uid {})", self.uid),
            (None, Some(user)) => write!(f, "a process of user {user}"),
            (None, None) => write!(f, "a process of uid {}", self.uid),
        }
    }
}

/// This host's stack sent the RST (`tcp:tcp_send_reset`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentNote {
    /// The kernel's reason (`TCP_ABORT_ON_CLOSE`); None on a kernel that names none.
    pub reason: Option<String>,
    /// The socket's state then (`TCP_ESTABLISHED`); None when no socket had the connection.
    pub state: Option<String>,
    /// The process whose system call sent it, when the event fired inside one that owns
    /// the socket (close, shutdown); None otherwise.
    pub process: Option<Process>,
    /// The socket's owner from a snapshot, when the event fired outside the owner's call.
    pub owner: Option<SocketOwner>,
    /// The packet's capture time minus the event's, in microseconds.
    pub delay_us: i64,
}

/// The RST reset a local socket (`tcp:tcp_receive_reset`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedNote {
    /// The socket's state when the RST reset it.
    pub state: Option<String>,
    /// The kernel's socket cookie (`ss -e` prints it as `sk:`).
    pub socket_cookie: Option<u64>,
    /// The socket's owner from a snapshot taken before the RST.
    pub owner: Option<SocketOwner>,
    pub delay_us: i64,
}

/// Everything the kernel said about one RST.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelNote {
    pub sent: Option<SentNote>,
    /// The RST carried this host's address and no `tcp_send_reset` event matched it, while
    /// tracing lost nothing: something other than the TCP stack made it.
    pub not_sent_by_stack: bool,
    pub received: Option<ReceivedNote>,
}

impl KernelNote {
    pub fn is_empty(&self) -> bool {
        self.sent.is_none() && !self.not_sent_by_stack && self.received.is_none()
    }
}

/// The kernel tracing of a live capture, for the report's inputs.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct KernelTracing {
    /// `on`, `partial` (the kernel names no reasons, or not for every reset: before 6.12) or
    /// `off`.
    pub state: &'static str,
    /// Why it is partial or off, in words; empty when on.
    pub detail: String,
    pub events_read: u64,
    /// Events the kernel dropped or overwrote, or that waited too long for their packets.
    pub events_lost: u64,
    /// Captured RSTs the kernel said its stack sent.
    pub resets_sent_by_stack: u64,
    /// Captured RSTs that reset a local socket.
    pub resets_received_by_sockets: u64,
    /// Captured RSTs with this host's address its stack did not send (`host_firewall`).
    pub resets_not_sent_by_stack: u64,
}

impl KernelTracing {
    /// One line for a report's inputs: "kernel tracing on: 4 events read, 0 lost; ...".
    pub fn summary(&self) -> String {
        if self.state == "off" {
            return format!("kernel tracing off ({})", self.detail);
        }
        format!(
            "kernel tracing {}: {} events read, {} lost; {} resets sent by this host's stack, {} reset its sockets, {} with its address not sent by its stack",
            self.state,
            self.events_read,
            self.events_lost,
            self.resets_sent_by_stack,
            self.resets_received_by_sockets,
            self.resets_not_sent_by_stack
        )
    }
}
