//! The capturing host's kernel beside the packets: its reset tracepoints read from a private
//! ftrace instance, joined to the captured RSTs, and their word put into the verdicts
//! (Linux, root; elsewhere, or with `--no-kernel`, it is simply off and says why).

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rstscope_core::anonymization::{AnonymizeKey, Anonymizer};
use rstscope_core::kernel::join::SETTLE_NS;
use rstscope_core::kernel::{Joiner, KernelTracing};
use rstscope_core::{Attribution, Flow, apply_kernel};

/// How often the pipes are read while packets flow (an idle loop reads them every rest).
const DRAIN_EVERY: Duration = Duration::from_millis(10);

/// The kernel's reset events, being read and joined.
pub(super) struct KernelTap {
    #[cfg(target_os = "linux")]
    instance: rstscope_core::kernel::tracefs::Instance,
    joiner: Joiner,
    anonymizer: Option<Anonymizer>,
    last_drain: Option<Instant>,
    /// The pipes' last read, on the capture's (realtime) clock.
    drained_ns: i64,
    tracing: KernelTracing,
    failed: bool,
    #[cfg(target_os = "linux")]
    sockets: super::sockets::Snapshots,
}

/// Kernel tracing for this capture: running, or why not.
pub(super) enum Tracing {
    On(Box<KernelTap>),
    Off(KernelTracing),
}

impl Tracing {
    /// The line said at start.
    pub(super) fn start_line(&self) -> String {
        let tracing = match self {
            Tracing::On(tap) => &tap.tracing,
            Tracing::Off(tracing) => tracing,
        };
        match tracing.state {
            "on" => "rstscope: kernel reset tracing on: each RST this host's TCP stack sends is confirmed with the kernel's reason".to_string(),
            state => format!("rstscope: kernel reset tracing {state}: {}", tracing.detail),
        }
    }
}

fn off(detail: impl Into<String>) -> Tracing {
    Tracing::Off(KernelTracing {
        state: "off",
        detail: detail.into(),
        ..KernelTracing::default()
    })
}

/// Starts tracing unless asked not to; `own` are the capturing host's addresses as the
/// capture writes them (anonymised with `anonymize`).
pub(super) fn start(wanted: bool, own: Vec<IpAddr>, anonymize: Option<&AnonymizeKey>) -> Tracing {
    if !wanted {
        return off("--no-kernel");
    }
    start_on_this_system(own, anonymize)
}

#[cfg(not(target_os = "linux"))]
fn start_on_this_system(_own: Vec<IpAddr>, _anonymize: Option<&AnonymizeKey>) -> Tracing {
    off("the kernel's reset tracepoints are Linux's")
}

#[cfg(target_os = "linux")]
fn start_on_this_system(own: Vec<IpAddr>, anonymize: Option<&AnonymizeKey>) -> Tracing {
    use rstscope_core::kernel::tracefs::Instance;
    if !nix::unistd::geteuid().is_root() {
        return off(
            "not running as root (tracefs needs root; run with sudo for the kernel's reasons)",
        );
    }
    let instance = match Instance::create(TRACE_BUFFER_KIB) {
        Ok(instance) => instance,
        Err(err) => return off(format!("the tracepoints could not be used: {err}")),
    };
    let (state, detail) = state_of(instance.send_decoder());
    let sends_traced = instance.send_decoder().is_some();
    Tracing::On(Box::new(KernelTap {
        instance,
        joiner: Joiner::new(own, sends_traced),
        anonymizer: anonymize.map(Anonymizer::new),
        last_drain: None,
        drained_ns: 0,
        tracing: KernelTracing {
            state,
            detail,
            ..KernelTracing::default()
        },
        failed: false,
        sockets: super::sockets::Snapshots::default(),
    }))
}

/// How complete the kernel's word is, from its `tcp_send_reset` format.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn state_of(send: Option<&rstscope_core::kernel::ResetDecoder>) -> (&'static str, String) {
    match send {
        None => (
            "partial",
            "this kernel has no tcp_send_reset: resets this host sends are not confirmed".to_string(),
        ),
        Some(decoder) if !decoder.has_reasons() => (
            "partial",
            "this kernel's tcp_send_reset names no reason (reasons came in Linux 6.10): resets this host sends are confirmed without one".to_string(),
        ),
        Some(decoder)
            if !decoder
                .format()
                .symbol_names("reason")
                .contains(&"TCP_ABORT_ON_CLOSE") =>
        {
            (
                "partial",
                "this kernel names reasons only for resets that answer segments (those of closes and aborts came in Linux 6.12)".to_string(),
            )
        }
        Some(_) => ("on", String::new()),
    }
}

/// The instance's ring buffer per CPU: a storm of 50,000 resets in a second fits.
#[cfg(target_os = "linux")]
const TRACE_BUFFER_KIB: u32 = 8192;

/// CLOCK_REALTIME minus CLOCK_MONOTONIC now, in nanoseconds: what turns an event's time into
/// a capture time.
#[cfg(target_os = "linux")]
///
/// The realtime reading is bracketed by two monotonic ones; a bracket wider than
/// `TIGHT_NS` (the process was preempted between the reads, as on a busy machine) is read
/// again, and the tightest of a few is kept, so that the offset is never off by a time slice.
fn realtime_offset_ns() -> i64 {
    const TIGHT_NS: i64 = 50_000;
    let mut best: Option<(i64, i64)> = None;
    for _ in 0..8 {
        let before = clock_ns(nix::time::ClockId::CLOCK_MONOTONIC);
        let real = clock_ns(nix::time::ClockId::CLOCK_REALTIME);
        let after = clock_ns(nix::time::ClockId::CLOCK_MONOTONIC);
        let spread = after - before;
        let offset = real - (before + spread / 2);
        if best.is_none_or(|(tightest, _)| spread < tightest) {
            best = Some((spread, offset));
        }
        if spread <= TIGHT_NS {
            break;
        }
    }
    best.map_or(0, |(_, offset)| offset)
}

#[cfg(target_os = "linux")]
// time_t and c_long are i64 here, i32 on 32-bit targets.
#[allow(clippy::useless_conversion)]
fn clock_ns(clock: nix::time::ClockId) -> i64 {
    nix::time::clock_gettime(clock).map_or(0, |ts| {
        i64::from(ts.tv_sec()) * 1_000_000_000 + i64::from(ts.tv_nsec())
    })
}

/// The name of a running task, as `ps` shows it.
#[cfg(target_os = "linux")]
fn task_name(pid: i32) -> Option<String> {
    let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(name.trim_end().to_string())
}

impl KernelTap {
    /// Reads the pipes (at most every `DRAIN_EVERY` unless `now`), then joins the RSTs
    /// whose events must be in by now. `capture_ns`: the capture's latest time.
    pub(super) fn poll(&mut self, capture_ns: i64, now: bool) {
        if !now && self.last_drain.is_some_and(|at| at.elapsed() < DRAIN_EVERY) {
            return;
        }
        self.drain();
        #[cfg(target_os = "linux")]
        if self.anonymizer.is_none() {
            self.sockets.refresh(self.drained_ns);
        }
        self.joiner.settle(Some(self.drained_ns), capture_ns);
        self.attach_owners();
    }

    /// The owners of the sockets the newly settled RSTs came from or killed, from the
    /// socket snapshots (not when anonymising: they would name the real host's processes).
    #[cfg(target_os = "linux")]
    fn attach_owners(&mut self) {
        if self.anonymizer.is_some() {
            return;
        }
        for (frame, ts_ns, src, dst) in self.joiner.take_settled() {
            let Some(note) = self.joiner.note_mut(frame) else {
                continue;
            };
            if let Some(sent) = &mut note.sent
                && sent.process.is_none()
                && sent.state.is_some()
            {
                sent.owner = self.sockets.owner(src, dst, ts_ns);
            }
            if let Some(received) = &mut note.received {
                received.owner = self.sockets.owner(dst, src, ts_ns);
            }
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn attach_owners(&mut self) {
        let _ = self.joiner.take_settled();
    }

    #[cfg(not(target_os = "linux"))]
    fn drain(&mut self) {}

    #[cfg(target_os = "linux")]
    fn drain(&mut self) {
        use rstscope_core::kernel::{KernelScenario, Process, ResetEventKind};
        if self.failed {
            return;
        }
        let offset = realtime_offset_ns();
        let drained_ns = offset + clock_ns(nix::time::ClockId::CLOCK_MONOTONIC);
        let (joiner, anonymizer) = (&mut self.joiner, &mut self.anonymizer);
        let drained = self.instance.drain(&mut |mut event| {
            let process = (event.kind == ResetEventKind::Sent
                && event.in_process_context
                && event
                    .reason
                    .as_deref()
                    .is_some_and(|r| KernelScenario::of_reason(r).fires_in_owner()))
            .then(|| task_name(event.pid))
            .flatten()
            .map(|name| Process {
                pid: event.pid,
                name,
            });
            if let Some(anonymizer) = anonymizer.as_mut() {
                let hide =
                    |a: SocketAddr, an: &mut Anonymizer| SocketAddr::new(an.ip(a.ip()), a.port());
                event.local = hide(event.local, anonymizer);
                event.remote = hide(event.remote, anonymizer);
            }
            let real_ns = i64::try_from(event.ts)
                .unwrap_or(i64::MAX)
                .saturating_add(offset);
            joiner.event(event, real_ns, process);
        });
        if let Err(err) = drained {
            self.failed = true;
            self.joiner.events_lost();
            self.tracing.state = "partial";
            self.tracing.detail = format!("reading the trace pipes failed mid-capture: {err}");
        }
        let lost = self.instance.lost_events() + self.instance.lost_pages;
        if lost > self.tracing.events_lost {
            self.tracing.events_lost = lost;
            self.joiner.events_lost();
        }
        self.drained_ns = drained_ns;
        self.last_drain = Some(Instant::now());
    }

    /// A RST the capture kept.
    pub(super) fn reset_seen(&mut self, frame: u64, ts_ns: i64, src: SocketAddr, dst: SocketAddr) {
        self.joiner.reset(frame, ts_ns, src, dst);
    }

    /// Puts the kernel's word into a flow's attributions. `done`: the flow is being
    /// reported, so its notes are taken (and its RSTs settled now, reading the pipes once
    /// more if they wait).
    pub(super) fn annotate(&mut self, flow: &Flow, attributions: &mut [Attribution], done: bool) {
        if done
            && flow
                .resets
                .iter()
                .any(|r| self.joiner.is_queued(r.segment.at.frame))
        {
            self.drain();
            self.joiner.settle(
                Some(self.drained_ns.max(flow.last_ts.0 + SETTLE_NS)),
                flow.last_ts.0,
            );
            self.attach_owners();
        }
        for (reset, attribution) in flow.resets.iter().zip(attributions.iter_mut()) {
            let frame = reset.segment.at.frame;
            let note = if done {
                self.joiner.take(frame)
            } else {
                self.joiner.note(frame).cloned()
            };
            if let Some(note) = note {
                apply_kernel(attribution, flow, reset, note);
            }
        }
    }

    /// The capture ended: the last events read, every RST settled.
    pub(super) fn finish(&mut self, capture_ns: i64) {
        self.drain();
        self.joiner.settle(None, capture_ns);
        self.attach_owners();
    }

    /// The tracing's figures for the report.
    pub(super) fn tracing(&self) -> KernelTracing {
        let stats = self.joiner.stats;
        KernelTracing {
            events_read: stats.events_read,
            events_lost: self.tracing.events_lost + stats.events_overflowed,
            resets_sent_by_stack: stats.sent_matched,
            resets_received_by_sockets: stats.received_matched,
            resets_not_sent_by_stack: stats.not_sent_by_stack,
            ..self.tracing.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstscope_core::kernel::{EventFormat, ResetDecoder, ResetEventKind};

    fn send_format(version: &str) -> ResetDecoder {
        let path = format!(
            "{}/tests/data/kernel-formats/{version}/tcp_send_reset.format",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let format = EventFormat::parse(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        ResetDecoder::new(format, ResetEventKind::Sent)
    }

    /// On from 6.12; partial on 6.10 (no reasons for closes) and 6.1 (no reasons at all).
    #[test]
    fn the_start_line_says_how_complete_the_kernels_word_is() {
        assert_eq!(state_of(Some(&send_format("6.18"))).0, "on");
        assert_eq!(state_of(Some(&send_format("6.12"))).0, "on");
        let (state, detail) = state_of(Some(&send_format("6.10")));
        assert_eq!(state, "partial");
        assert!(detail.contains("6.12"), "{detail}");
        let (state, detail) = state_of(Some(&send_format("6.1")));
        assert_eq!(state, "partial");
        assert!(detail.contains("no reason"), "{detail}");
        let off = start(false, Vec::new(), None);
        assert_eq!(
            off.start_line(),
            "rstscope: kernel reset tracing off: --no-kernel"
        );
    }
}
