//! Fuzzes whole capture files (pcap and pcapng, read by libpcap) through `pipeline::analyze`
//! and the reports (see `common::capture_file_target`).
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

#[allow(dead_code)]
mod common;

/// One file per fuzzing process, rewritten for every input: in /dev/shm (memory) when there is
/// one.
static PATH: LazyLock<PathBuf> = LazyLock::new(|| {
    let dir = std::path::Path::new("/dev/shm");
    let dir = if dir.is_dir() {
        dir.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    dir.join(format!("rstscope-fuzz-{}.cap", std::process::id()))
});

/// libFuzzer's `main` is C's, so SIGPIPE keeps its default action here, where the Rust runtime
/// ignores it in every Rust program: a compressed input whose capture breaks early closes the
/// feed's pipe, and the feed thread's next write must get EPIPE, not kill the process.
static IGNORE_SIGPIPE: std::sync::Once = std::sync::Once::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    IGNORE_SIGPIPE.call_once(|| {
        // SAFETY: setting a signal's disposition to SIG_IGN installs no handler; nothing else
        // in this process touches SIGPIPE.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        }
    });
    common::capture_file_target(data, &PATH)
});
