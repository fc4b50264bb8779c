//! `rstscope-synth`: writes a deterministic synthetic capture, for benchmarks and tests.
//! The generator is this crate's library; this binary only reads the flags, opens the output and
//! prints the one-line summary to stderr.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;
use rstscope_synth::{Config, Summary, generate};

/// Writes a synthetic pcap: about CONCURRENT TCP connections open at once, interleaved in time
/// order, of every kind rstscope explains (handshakes, exchanges, bulk transfers,
/// retransmissions, FIN closes both ways, refused SYNs, firewall rejects, peer and local
/// aborts, resets after FIN, health checks, idle timeouts, injected resets, in-path rejects,
/// stale connections), over IPv4 and IPv6, from documentation address ranges only.
/// The same seed gives the same bytes.
#[derive(Debug, Parser)]
#[command(
    name = "rstscope-synth",
    version,
    max_term_width = 100,
    after_help = "Examples:\n  rstscope-synth --packets 10000000 --seed 1 --snaplen 128 --concurrent 100000 -o trace.pcap\n  rstscope-synth --full-size --max-bytes 2000000000 --packets 1000000000 -o full.pcap\n\nA one-line summary (packets, bytes, flows, resets by kind) goes to stderr."
)]
struct Args {
    /// Stop after this many packets.
    #[arg(long, default_value_t = 10_000_000)]
    packets: u64,

    /// Also stop once the file holds this many bytes (e.g. 2000000000 for a 2 GB trace).
    #[arg(long, value_name = "BYTES")]
    max_bytes: Option<u64>,

    /// Seed of the generator: same seed and flags, same file.
    #[arg(long, default_value_t = 1)]
    seed: u64,

    /// Cut frames longer than this, as `tcpdump -s` does (the records keep the wire length).
    #[arg(long, default_value_t = 65_535, value_parser = clap::value_parser!(u32).range(64..=262_144))]
    snaplen: u32,

    /// About this many connections open at any time.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    concurrent: u32,

    /// Full-size data segments (frames of about 1500 bytes) and mostly bulk transfers.
    #[arg(long)]
    full_size: bool,

    /// The share of connections over IPv6, from 0 to 1.
    #[arg(long, default_value_t = 0.2, value_name = "SHARE")]
    ipv6_share: f64,

    /// Packets per second of capture time, on average (300000: about 3.3 µs apart).
    #[arg(long, default_value_t = 300_000.0, value_name = "PPS")]
    rate: f64,

    /// Where to write the pcap; `-` writes to standard output.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
}

impl Args {
    fn config(&self) -> Result<Config> {
        if !(0.0..=1.0).contains(&self.ipv6_share) {
            bail!(
                "--ipv6-share must be between 0 and 1, not {}",
                self.ipv6_share
            );
        }
        if !(self.rate.is_finite() && self.rate > 0.0) {
            bail!("--rate must be a positive number of packets per second");
        }
        Ok(Config {
            packets: self.packets,
            max_bytes: self.max_bytes,
            seed: self.seed,
            snaplen: self.snaplen,
            concurrent: self.concurrent,
            full_size: self.full_size,
            ipv6_share: self.ipv6_share,
            rate: self.rate,
            ..Config::default()
        })
    }
}

/// Writes the trace; None when standard output was closed early (a broken pipe, as from
/// `| head`, counts as success).
fn run(args: &Args) -> Result<Option<Summary>> {
    let config = args.config()?;
    if args.output.as_os_str() == "-" {
        let stdout = io::stdout().lock();
        return match generate(&config, BufWriter::with_capacity(1 << 20, stdout)) {
            Ok(summary) => Ok(Some(summary)),
            Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(None),
            Err(error) => Err(error).context("cannot write the trace to standard output"),
        };
    }
    let path = &args.output;
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let summary = generate(&config, &mut out)
        .and_then(|summary| out.flush().map(|()| summary))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(Some(summary))
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(Some(summary)) => {
            eprintln!("rstscope-synth: {summary}");
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("rstscope-synth: {error:#}");
            ExitCode::FAILURE
        }
    }
}
