//! The live loop's companion: it announces each reset once its flow has shown a little more,
//! streams finished flows, keeps the report, and says when the capture should stop.

use super::*;

/// What stops the capture, besides Ctrl-C and SIGTERM.
pub(super) struct Limits {
    pub(super) deadline: Option<Instant>,
    pub(super) packets: Option<u64>,
    pub(super) resets: Option<u64>,
    /// Set when a signal or the deadline asked to stop: the packets the kernel had already
    /// captured are still read (until a read finds none, or `DRAIN_AT_MOST`), so a reset that
    /// came just before Ctrl-C is in the report. The frames read by the last tick.
    pub(super) draining: Option<(Instant, u64)>,
}

/// How long a stopping capture goes on reading what the kernel had already captured.
pub(super) const DRAIN_AT_MOST: Duration = Duration::from_secs(1);

/// The live capture's sink: announces resets, streams or collects flows, watches the limits.
pub(super) struct Watcher<'a> {
    pub(super) lines: &'a mut dyn Write,
    pub(super) announce_lines: bool,
    pub(super) all: bool,
    pub(super) stream: FlowStream,
    pub(super) out: &'a mut dyn Write,
    pub(super) builder: ReportBuilder,
    pub(super) pending: VecDeque<(Timestamp, SocketAddr, SocketAddr, u64)>,
    /// Resets already announced, by frame, with what their line said.
    pub(super) announced: HashMap<u64, (Verdict, Scenario)>,
    pub(super) resets_seen: u64,
    /// Resets judged without any other packet of their claimed sender: what a capture filter
    /// that keeps only some packets (RSTs, one port, one direction) takes from the verdicts.
    pub(super) resets_without_baseline: u64,
    pub(super) limits: Limits,
    /// How the running lines write times (relative ones count from the first packet).
    pub(super) view: View,
    pub(super) error: Option<io::Error>,
    /// True once `--write` stopped saving (the run then exits as incomplete).
    pub(super) saving_failed: bool,
    /// The kernel's reset tracepoints, when they are read.
    pub(super) tracing: Tracing,
}

impl Watcher<'_> {
    pub(super) fn say(&mut self, text: &str) {
        if self.announce_lines && self.error.is_none() {
            let written = writeln!(self.lines, "{text}").and_then(|()| self.lines.flush());
            if let Err(err) = written {
                self.error = Some(err);
            }
        }
    }

    /// True when `--verdict`, `--scenario`, `--host` and `--port` let this reset's line out.
    pub(super) fn wants(&self, flow: &rstscope_core::Flow, attribution: &Attribution) -> bool {
        self.builder.narrowing().admits_reset(
            [flow.client(), flow.server()],
            attribution.verdict.as_str(),
            attribution.scenario.as_str(),
        )
    }

    pub(super) fn should_stop(&mut self, frames: u64) -> bool {
        if self.error.is_some()
            || self.limits.packets.is_some_and(|n| frames >= n)
            || self.limits.resets.is_some_and(|n| self.resets_seen >= n)
        {
            return true;
        }
        let asked = STOP_REQUESTS.load(Ordering::SeqCst) > 0
            || self.limits.deadline.is_some_and(|d| Instant::now() >= d);
        if !asked {
            return false;
        }
        // Drain: stop once a tick finds no new frame (the read came back empty), or after a
        // second of a busy link.
        match self.limits.draining {
            None => {
                self.limits.draining = Some((Instant::now(), frames));
                false
            }
            Some((since, last)) => {
                let done = frames == last || since.elapsed() >= DRAIN_AT_MOST;
                self.limits.draining = Some((since, frames));
                done
            }
        }
    }
}

impl Watcher<'_> {
    /// `--write` stopped saving mid-capture: said at once on standard error, and kept in the
    /// report.
    pub(super) fn saving_failed(&mut self, failure: String) {
        let _ = writeln!(io::stderr(), "rstscope: warning: {failure}");
        self.builder.warn(failure);
        self.saving_failed = true;
    }

    /// A RST segment was just seen: it is announced once its flow has shown a little more.
    pub(super) fn reset_seen(&mut self, segment: &Segment, at: FrameRef) {
        self.resets_seen += 1;
        if let Tracing::On(tap) = &mut self.tracing {
            tap.reset_seen(at.frame, at.ts.0, segment.src, segment.dst);
        }
        self.pending.push_back((
            at.ts.after(ANNOUNCE_AFTER),
            segment.src,
            segment.dst,
            at.frame,
        ));
    }

    /// After every frame and on quiet moments: announces the resets whose time has come, as
    /// the live flows and baselines judge them now. True stops the capture.
    pub(super) fn tick(&mut self, now: Timestamp, analyzer: &Analyzer, stats: &InputStats) -> bool {
        if self.view.origin_ns.is_none() {
            self.view.origin_ns = stats.first_ts.map(|ts| ts.0);
        }
        if let Tracing::On(tap) = &mut self.tracing {
            tap.poll(now.0, false);
        }
        while let Some(&(due, src, dst, frame)) = self.pending.front() {
            if due > now {
                break;
            }
            self.pending.pop_front();
            if self.announced.contains_key(&frame) {
                continue;
            }
            let Some((flow, mut attributions)) = analyzer.judge_live(src, dst) else {
                continue;
            };
            if let Tracing::On(tap) = &mut self.tracing {
                tap.annotate(flow, &mut attributions, false);
            }
            let Some(index) = flow.resets.iter().position(|r| r.segment.at.frame == frame) else {
                continue;
            };
            if let Some(attribution) = attributions.get(index) {
                self.announced.insert(frame, judgement(attribution));
                if self.wants(flow, attribution) {
                    let text = line::reset_line(flow, &flow.resets[index], attribution, &self.view);
                    self.say(&text);
                }
            }
        }
        self.should_stop(stats.frames)
    }

    /// A finished, attributed flow: its final lines (a revision where the judgement changed),
    /// then into the report.
    pub(super) fn flow(&mut self, mut analyzed: AnalyzedFlow) {
        if let Tracing::On(tap) = &mut self.tracing {
            tap.annotate(&analyzed.flow, &mut analyzed.attributions, true);
        }
        let flow = &analyzed.flow;
        self.resets_without_baseline += analyzed
            .attributions
            .iter()
            .filter(|a| a.evidence.iter().any(|e| e.signal == Signal::TtlBaseline))
            .count() as u64;
        for (reset, attribution) in flow.resets.iter().zip(&analyzed.attributions) {
            if !self.wants(flow, attribution) {
                self.announced.remove(&reset.segment.at.frame);
                continue;
            }
            match self.announced.remove(&reset.segment.at.frame) {
                None => {
                    let text = line::reset_line(flow, reset, attribution, &self.view);
                    self.say(&text);
                }
                // The whole flow (what followed the reset, other flows of the same hosts)
                // changed the judgement: say so, the final report carries the new one.
                Some(said) if said != judgement(attribution) => {
                    let text = line::revised_line(flow, reset, attribution, said, &self.view);
                    self.say(&text);
                }
                Some(_) => {}
            }
        }
        if self.all && flow.close() == Close::Fin {
            let text = format!(
                "{}  {} -> {}  closed by FIN ({}, {})",
                self.view.stamp_ns(flow.last_ts.0),
                flow.client(),
                flow.server(),
                flow.conn_state(),
                flow.history()
            );
            self.say(&text);
        }
        let report = flow_report(&analyzed);
        if self.error.is_none()
            && self.builder.admits(&report)
            && let Err(err) = self.stream.flow(&report, self.out)
        {
            self.error = Some(err);
        }
        self.builder.add(report);
    }
}

impl Watcher<'_> {
    /// The capture ended: the kernel's last events joined to the last RSTs.
    pub(super) fn kernel_finish(&mut self, capture_ns: i64) {
        if let Tracing::On(tap) = &mut self.tracing {
            tap.finish(capture_ns);
        }
    }

    /// What the report says of the kernel tracing.
    pub(super) fn tracing_figures(&self) -> rstscope_core::kernel::KernelTracing {
        match &self.tracing {
            Tracing::On(tap) => tap.tracing(),
            Tracing::Off(tracing) => tracing.clone(),
        }
    }
}
