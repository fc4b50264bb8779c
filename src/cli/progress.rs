//! A progress bar on standard error while `analyze` reads big files: bytes read of the total,
//! packets a second, time left. Only on a terminal, and not with `--quiet`; redrawn a few
//! times a second at most, and wiped when the run ends so the report starts on a clean line.
//! indicatif draws it (bar, byte counts and ETA); only the packet rate is ours. A compressed
//! input has no known decompressed size, so then the bar becomes a spinner with the bytes of
//! capture read and the rate, without a percentage or ETA it could not honour.

use std::path::PathBuf;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Files smaller than this in all finish too fast to need a bar.
const WORTH_SHOWING: u64 = 8 << 20;
/// The same for compressed files, by their compressed size: captures shrink 3 to 100 times,
/// so a small compressed file can hold a long read.
const WORTH_SHOWING_COMPRESSED: u64 = 64 << 10;
/// How often the bar is redrawn, per second.
const REDRAWS_PER_SEC: u8 = 5;
/// "[#########.....]  45% 512 MiB/1.11 GiB  3.2 M packets/s  ETA 4s", within 80 columns.
const TEMPLATE: &str = "[{bar:24}] {percent:>3}% {bytes}/{total_bytes}  {msg}  ETA {eta}";
/// "⠙ 512 MiB of capture read  3.2 M packets/s" (a compressed input: no total to count to).
const OPEN_TEMPLATE: &str = "{spinner} {bytes} of capture read  {msg}";

/// The bar's state.
pub(super) struct Progress {
    bar: ProgressBar,
    /// Bytes of all inputs before each one.
    starts: Vec<u64>,
    started: Instant,
    /// The input being read, the frames read of it, and the frames of the inputs before it.
    input: usize,
    frames: u64,
    frames_before: u64,
    /// The bytes read of the input being read, and of the inputs before it (a spinner counts
    /// capture bytes read, decompressed; a bar places them by the files' sizes).
    bytes: u64,
    bytes_before: u64,
    counts_to_total: bool,
}

impl Progress {
    /// A bar for these inputs, if it is worth showing (a terminal, big enough, not quiet).
    pub(super) fn for_inputs(paths: &[PathBuf], quiet: bool, terminal: bool) -> Option<Progress> {
        if quiet || !terminal {
            return None;
        }
        let mut starts = Vec::with_capacity(paths.len());
        let mut total = 0u64;
        let mut compressed = false;
        for path in paths {
            starts.push(total);
            total += std::fs::metadata(path).map_or(0, |m| m.len());
            compressed |= rstscope_core::source::compression_of(path).is_some();
        }
        if total
            < if compressed {
                WORTH_SHOWING_COMPRESSED
            } else {
                WORTH_SHOWING
            }
        {
            return None;
        }
        let length = (!compressed).then_some(total);
        let bar = ProgressBar::with_draw_target(
            length,
            ProgressDrawTarget::stderr_with_hz(REDRAWS_PER_SEC),
        );
        bar.set_style(if compressed {
            open_style()
        } else {
            bar_style()
        });
        Some(Progress {
            bar,
            starts,
            started: Instant::now(),
            input: 0,
            frames: 0,
            frames_before: 0,
            bytes: 0,
            bytes_before: 0,
            counts_to_total: !compressed,
        })
    }

    /// Called now and then with the frames and bytes read so far of input `input`.
    pub(super) fn tick(&mut self, input: usize, frames: u64, bytes: u64) {
        if input != self.input {
            self.frames_before += self.frames;
            self.bytes_before += self.bytes;
            self.input = input;
        }
        self.frames = frames;
        self.bytes = bytes;
        let position = if self.counts_to_total {
            self.starts.get(input).copied().unwrap_or(0) + bytes
        } else {
            self.bytes_before + bytes
        };
        self.bar.set_position(position);
        let secs = self.started.elapsed().as_secs_f64();
        self.bar
            .set_message(packet_rate(self.frames_before + self.frames, secs));
    }

    /// Wipes the bar.
    pub(super) fn finish(&mut self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template(TEMPLATE)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("#.")
}

fn open_style() -> ProgressStyle {
    ProgressStyle::with_template(OPEN_TEMPLATE).unwrap_or_else(|_| ProgressStyle::default_spinner())
}

/// "3.2 M packets/s".
fn packet_rate(frames: u64, secs: f64) -> String {
    format!("{:.1} M packets/s", frames as f64 / secs.max(1e-3) / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_is_valid_and_the_rate_reads_well() {
        assert!(ProgressStyle::with_template(TEMPLATE).is_ok());
        assert!(ProgressStyle::with_template(OPEN_TEMPLATE).is_ok());
        assert_eq!(packet_rate(3_000_000, 1.0), "3.0 M packets/s");
        assert_eq!(packet_rate(0, 0.0), "0.0 M packets/s");
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
