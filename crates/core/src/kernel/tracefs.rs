//! A private ftrace instance that records the two reset tracepoints (Linux, root only).
//!
//! `instances/rstscope-PID` under tracefs keeps rstscope off the global buffer and out of
//! other tracers' way; it is removed when the [`Instance`] is dropped, and an instance left by
//! an rstscope that died (its PID gone) is removed when the next one starts. The trace clock is
//! `mono` (CLOCK_MONOTONIC), and `buffer_percent` 0 makes a reader's poll() wake at the first
//! event. Pages are read from `per_cpu/cpuN/trace_pipe_raw` without blocking.

use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::events::{ResetDecoder, ResetEvent, ResetEventKind};
use super::format::EventFormat;
use super::ring::{Page, PageLayout};

/// Where tracefs is, or is mounted.
const TRACEFS: &str = "/sys/kernel/tracing";
const PREFIX: &str = "rstscope-";

/// A running instance and its per-CPU pipes.
pub struct Instance {
    dir: PathBuf,
    pipes: Vec<File>,
    /// `per_cpu/cpuN/stats`, open from the start so that they stay readable after the
    /// process gives up root.
    stats: Vec<File>,
    layout: PageLayout,
    decoders: Vec<ResetDecoder>,
    page: Vec<u8>,
    /// Pages whose header said events were lost before them.
    pub lost_pages: u64,
}

/// Finds tracefs, mounting it when absent (a fresh mount namespace has none).
pub fn tracefs_root() -> io::Result<PathBuf> {
    let root = Path::new(TRACEFS);
    if root.join("events").is_dir() {
        return Ok(root.to_path_buf());
    }
    let status = std::process::Command::new("mount")
        .args(["-t", "tracefs", "nodev", TRACEFS])
        .status()?;
    if status.success() && root.join("events").is_dir() {
        Ok(root.to_path_buf())
    } else {
        Err(io::Error::other(format!(
            "tracefs is not mounted at {TRACEFS} and mounting it failed"
        )))
    }
}

/// Removes instances of rstscope processes that no longer run.
pub fn clear_stale(root: &Path) {
    let Ok(entries) = fs::read_dir(root.join("instances")) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(PREFIX)) else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = fs::remove_dir(entry.path());
        }
    }
}

/// Disables and removes the instance of the rstscope process `pid` (which has exited, or is
/// about to: its pipes must be closed before the directory can go, so removal is retried for
/// a second).
pub fn remove_instance_of(pid: u32) {
    let Ok(root) = tracefs_root() else {
        return;
    };
    let dir = root.join("instances").join(format!("{PREFIX}{pid}"));
    if !dir.exists() {
        return;
    }
    disable_and_remove(&dir, 100);
}

/// Turns an instance's two events off and removes its directory, trying `attempts` times 10 ms
/// apart (it goes only once every pipe of it is closed).
fn disable_and_remove(dir: &Path, attempts: u32) {
    for name in ["tcp_send_reset", "tcp_receive_reset"] {
        let _ = fs::write(dir.join(format!("events/tcp/{name}/enable")), "0");
    }
    for attempt in 0..attempts {
        if fs::remove_dir(dir).is_ok() || !dir.exists() {
            return;
        }
        if attempt + 1 < attempts {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

impl Instance {
    /// Creates `instances/rstscope-PID` recording `tcp_send_reset` and `tcp_receive_reset`.
    pub fn create(buffer_kib: u32) -> io::Result<Instance> {
        let root = tracefs_root()?;
        clear_stale(&root);
        let dir = root
            .join("instances")
            .join(format!("{PREFIX}{}", std::process::id()));
        match fs::create_dir(&dir) {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err(err),
        }
        // From here on, a failure removes the directory (Drop).
        let mut instance = Instance {
            dir,
            pipes: Vec::new(),
            stats: Vec::new(),
            layout: PageLayout::default(),
            decoders: Vec::new(),
            page: vec![0; 4096],
            lost_pages: 0,
        };
        let events = root.join("events");
        if let Some(layout) = fs::read_to_string(events.join("header_page"))
            .ok()
            .and_then(|t| PageLayout::parse(&t))
        {
            instance.layout = layout;
        }
        for (name, kind) in [
            ("tcp_send_reset", ResetEventKind::Sent),
            ("tcp_receive_reset", ResetEventKind::Received),
        ] {
            let text = fs::read_to_string(events.join("tcp").join(name).join("format"))?;
            let format = EventFormat::parse(&text).map_err(io::Error::other)?;
            instance.decoders.push(ResetDecoder::new(format, kind));
        }
        instance.write("trace_clock", "mono")?;
        instance.write("buffer_size_kb", &buffer_kib.to_string())?;
        let _ = instance.write("buffer_percent", "0");
        for name in ["tcp_send_reset", "tcp_receive_reset"] {
            instance.write(&format!("events/tcp/{name}/enable"), "1")?;
        }
        instance.write("tracing_on", "1")?;
        let mut cpu = 0;
        loop {
            let path = instance
                .dir
                .join(format!("per_cpu/cpu{cpu}/trace_pipe_raw"));
            if !path.exists() {
                break;
            }
            let pipe = fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(path)?;
            instance.pipes.push(pipe);
            instance.stats.push(File::open(
                instance.dir.join(format!("per_cpu/cpu{cpu}/stats")),
            )?);
            cpu += 1;
        }
        Ok(instance)
    }

    /// The instance's directory under tracefs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The decoder of `tcp_send_reset` (whether the kernel names reasons).
    pub fn send_decoder(&self) -> Option<&ResetDecoder> {
        self.decoders.first()
    }

    fn write(&self, file: &str, value: &str) -> io::Result<()> {
        fs::write(self.dir.join(file), value)
            .map_err(|err| io::Error::new(err.kind(), format!("{file}: {err}")))
    }

    /// Reads every page the pipes hold now and hands each reset event to `sink`.
    pub fn drain(&mut self, sink: &mut dyn FnMut(ResetEvent)) -> io::Result<()> {
        for index in 0..self.pipes.len() {
            loop {
                let read = self.pipes[index].read(&mut self.page);
                let n = match read {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                    Err(err) => return Err(err),
                };
                let Some(bytes) = self.page.get(..n) else {
                    break;
                };
                let page = Page::parse(bytes, self.layout).map_err(io::Error::other)?;
                self.lost_pages += u64::from(page.missed);
                for (ts, record) in page.events {
                    let Some(id) = ResetDecoder::record_id(record) else {
                        continue;
                    };
                    if let Some(event) = self
                        .decoders
                        .iter()
                        .find(|d| d.id() == id)
                        .and_then(|d| d.decode(ts, record))
                    {
                        sink(event);
                    }
                }
            }
        }
        Ok(())
    }

    /// Events the kernel dropped or overwrote, summed over the CPUs (`per_cpu/cpuN/stats`,
    /// read afresh from the start of each file).
    pub fn lost_events(&self) -> u64 {
        use std::os::unix::fs::FileExt;
        let mut text = vec![0; 1024];
        self.stats
            .iter()
            .filter_map(|file| {
                let n = file.read_at(&mut text, 0).ok()?;
                Some(String::from_utf8_lossy(text.get(..n)?).into_owned())
            })
            .map(|stats| {
                stats
                    .lines()
                    .filter_map(|line| {
                        let (key, value) = line.split_once(':')?;
                        matches!(key.trim(), "overrun" | "dropped events")
                            .then(|| value.trim().parse::<u64>().ok())
                            .flatten()
                    })
                    .sum::<u64>()
            })
            .sum()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // The pipes must be closed before the directory can go.
        self.pipes.clear();
        self.stats.clear();
        disable_and_remove(&self.dir, 1);
    }
}
