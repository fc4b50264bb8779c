//! The Linux kernel's own record of the resets its TCP stack sends and receives: the
//! `tcp:tcp_send_reset` and `tcp:tcp_receive_reset` tracepoints, read from tracefs.
//!
//! This module holds the parts that need no kernel: `format` reads an event's `format` file
//! (field offsets, the names of the reason and state values), `ring` walks the binary pages
//! `per_cpu/cpuN/trace_pipe_raw` gives, and `events` turns a record into a reset event. Field
//! offsets, event ids and reason numbers are always taken from the running kernel's format
//! files: the reason numbering changed between 6.10 and 6.12, and 6.1 has no reason at all.
//! `join` pairs events with captured RSTs, `note` is what a RST is told, `meaning` puts each
//! reason in words. `tracefs` (Linux only, root) runs a private ftrace instance and reads its
//! pipes.

pub mod events;
pub mod format;
pub mod join;
pub mod meaning;
pub mod note;
pub mod ring;
#[cfg(target_os = "linux")]
pub mod tracefs;

pub use events::{ResetDecoder, ResetEvent, ResetEventKind};
pub use format::{EventFormat, Field};
pub use join::Joiner;
pub use meaning::KernelScenario;
pub use note::{KernelNote, KernelTracing, Process, ReceivedNote, SentNote, SocketOwner};
pub use ring::Page;

/// A format file or trace page that does not parse: what was wrong, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceError(pub String);

impl std::fmt::Display for TraceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TraceError {}

#[cfg(test)]
mod join_tests;
#[cfg(test)]
mod tests;
