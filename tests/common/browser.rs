//! The browser the HTML tests render in: Debian's Chromium, headless and offline, with a fresh
//! profile each time; and what a screenshot holds.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn chromium() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromium"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!("the browser test needs `chromium` on PATH (scripts/setup installs Debian's chromium)")
        })
}

/// Chromium, headless and offline, with a fresh profile in `profile`.
pub fn browser(profile: &Path, args: &[&str]) -> Output {
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium {args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Width, height and the number of distinct colours of a PNG.
pub fn png_facts(path: &Path) -> (u32, u32, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buffer).unwrap();
    let bytes = &buffer[..info.buffer_size()];
    let channels = info.color_type.samples();
    let colours: BTreeSet<&[u8]> = bytes.chunks(channels).take(2_000_000).collect();
    (info.width, info.height, colours.len())
}

/// How many pixels of `path` (an RGB or RGBA PNG) have exactly the colour `rgb`, in its
/// first `rows` rows.
pub fn pixels_of(path: &Path, rgb: [u8; 3], rows: u32) -> usize {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buffer).unwrap();
    let channels = info.color_type.samples();
    let row_bytes = info.width as usize * channels;
    let upto = (rows.min(info.height) as usize) * row_bytes;
    buffer[..upto]
        .chunks(channels)
        .filter(|px| px.len() >= 3 && px[..3] == rgb)
        .count()
}
