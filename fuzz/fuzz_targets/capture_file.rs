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

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::capture_file_target(data, &PATH));
