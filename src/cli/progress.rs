//! A progress bar on standard error while `analyze` reads big files: bytes read of the total,
//! packets a second, time left. Only on a terminal, and not with `--quiet`; redrawn a few
//! times a second at most, and wiped when the run ends so the report starts on a clean line.

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Files smaller than this in all finish too fast to need a bar.
const WORTH_SHOWING: u64 = 8 << 20;
/// How often the bar is redrawn.
const REDRAW: Duration = Duration::from_millis(200);
const WIDTH: usize = 30;

/// The bar's state.
pub(super) struct Progress {
    /// Bytes of all inputs before each one, and the total.
    starts: Vec<u64>,
    total: u64,
    started: Instant,
    last_draw: Option<Instant>,
    /// The input being read, the frames read of it, and the frames of the inputs before it.
    input: usize,
    frames: u64,
    frames_before: u64,
    drawn: bool,
}

impl Progress {
    /// A bar for these inputs, if it is worth showing (a terminal, big enough, not quiet).
    pub(super) fn for_inputs(paths: &[PathBuf], quiet: bool, terminal: bool) -> Option<Progress> {
        if quiet || !terminal {
            return None;
        }
        let mut starts = Vec::with_capacity(paths.len());
        let mut total = 0u64;
        for path in paths {
            starts.push(total);
            total += std::fs::metadata(path).map_or(0, |m| m.len());
        }
        (total >= WORTH_SHOWING).then(|| Progress {
            starts,
            total,
            started: Instant::now(),
            last_draw: None,
            input: 0,
            frames: 0,
            frames_before: 0,
            drawn: false,
        })
    }

    /// Called now and then with the frames and bytes read so far of input `input`.
    pub(super) fn tick(&mut self, input: usize, frames: u64, bytes: u64) {
        if input != self.input {
            self.frames_before += self.frames;
            self.input = input;
        }
        self.frames = frames;
        let now = Instant::now();
        if self
            .last_draw
            .is_some_and(|at| now.duration_since(at) < REDRAW)
        {
            return;
        }
        self.last_draw = Some(now);
        let done = (self.starts.get(input).copied().unwrap_or(0) + bytes).min(self.total);
        let line = render(
            done,
            self.total,
            self.frames_before + self.frames,
            now.duration_since(self.started),
        );
        let mut stderr = io::stderr().lock();
        let _ = write!(stderr, "\r{line}\x1b[K");
        let _ = stderr.flush();
        self.drawn = true;
    }

    /// Wipes the bar.
    pub(super) fn finish(&mut self) {
        if self.drawn {
            let _ = write!(io::stderr().lock(), "\r\x1b[K");
            self.drawn = false;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// "[#########.....] 45%  512/1140 MB  3.2 M packets/s  ETA 4 s"
fn render(done: u64, total: u64, frames: u64, elapsed: Duration) -> String {
    let fraction = if total == 0 {
        1.0
    } else {
        done as f64 / total as f64
    };
    let filled = ((fraction * WIDTH as f64) as usize).min(WIDTH);
    let secs = elapsed.as_secs_f64().max(1e-3);
    let eta = if fraction > 0.0 {
        secs / fraction - secs
    } else {
        0.0
    };
    format!(
        "[{}{}] {:>3.0}%  {}/{} MB  {:.1} M packets/s  ETA {:.0} s",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        fraction * 100.0,
        done >> 20,
        total >> 20,
        frames as f64 / secs / 1e6,
        eta.max(0.0)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_reads_well() {
        let line = render(512 << 20, 1024 << 20, 3_000_000, Duration::from_secs(1));
        assert_eq!(
            line,
            "[###############...............]  50%  512/1024 MB  3.0 M packets/s  ETA 1 s"
        );
    }

    #[test]
    fn no_bar_when_quiet_or_not_a_terminal_or_small() {
        let paths = [PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")];
        assert!(Progress::for_inputs(&paths, true, true).is_none());
        assert!(Progress::for_inputs(&paths, false, false).is_none());
        assert!(
            Progress::for_inputs(&paths, false, true).is_none(),
            "too small"
        );
    }
}
