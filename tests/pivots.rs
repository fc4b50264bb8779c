//! Issue 16's pivots, checked against the tools they pivot into, on the Zeek corpus
//! (`../shared/corpus/zeek`, traces neither rstscope nor its authors made):
//!
//! - every flow's `community_id` equals the reference implementation's (the `communityid`
//!   Python package, which scripts/setup --tests installs);
//! - every flow's `tcp_stream` equals what tshark prints for the flow's first packet, and every
//!   reset's `tcp_stream`, `seq_relative` and `ack_relative` what it prints for the RST;
//! - with a trace cut into several files (editcap, as `tcpdump -C` rotates), each flow's
//!   stream is the one tshark gives in the file its first packet is in.
//!
//! A flow Wireshark does not dissect as TCP by default (inside Teredo on another port than
//! 3544, which only its heuristic finds) has no `tcp_stream`; tshark has no packet for it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/zeek")
}

fn traces() -> Vec<PathBuf> {
    let dir = corpus();
    let mut traces: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (the shared corpus sits beside the repo)",
                dir.display()
            )
        })
        .map(|entry| entry.unwrap_or_else(|e| panic!("{e}")).path())
        .filter(|path| {
            let name = path.to_string_lossy();
            name.ends_with(".pcap") || name.ends_with(".pcapng")
        })
        .collect();
    traces.sort();
    traces
}

fn s(path: &Path) -> &str {
    path.to_str()
        .unwrap_or_else(|| panic!("{path:?} is not UTF-8"))
}

/// `rstscope analyze --format json FILES...`.
fn report(files: &[PathBuf]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_rstscope"))
        .args(["analyze", "--format", "json"])
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("rstscope: {e}"));
    assert!(
        out.status.success(),
        "{files:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{files:?}: {e}"))
}

/// One TCP packet as tshark dissects it (not a header quoted in an ICMP error).
#[derive(Debug, Clone)]
struct Packet {
    frame: u64,
    ns: i64,
    /// The two ends, the lower first.
    ends: ((String, u16), (String, u16)),
    stream: u32,
    seq: u32,
    ack: Option<u32>,
}

fn last(field: &str) -> &str {
    // Tunnels list every layer's value, the outer first.
    field.rsplit(',').next().unwrap_or("")
}

fn number<T: std::str::FromStr>(field: &str, what: &str) -> T {
    last(field)
        .parse()
        .unwrap_or_else(|_| panic!("tshark {what} {field:?}"))
}

/// tshark's reading of every TCP packet of `file`.
fn tshark(file: &Path) -> Vec<Packet> {
    let fields = [
        "frame.number",
        "frame.time_epoch",
        "ip.src",
        "ip.dst",
        "ipv6.src",
        "ipv6.dst",
        "tcp.srcport",
        "tcp.dstport",
        "tcp.stream",
        "tcp.seq",
        "tcp.ack",
        "tcp.flags.ack",
    ];
    let mut args = vec![
        "-n",
        "-r",
        s(file),
        // Wireshark's defaults, said so that a user's preferences cannot change them.
        "-o",
        "tcp.relative_sequence_numbers:TRUE",
        "-o",
        "tcp.analyze_sequence_numbers:TRUE",
        "-Y",
        "tcp && !icmp && !icmpv6",
        "-T",
        "fields",
        "-E",
        "separator=\t",
    ];
    for field in fields {
        args.extend(["-e", field]);
    }
    let out = Command::new("tshark")
        .args(&args)
        .output()
        .unwrap_or_else(|e| panic!("tshark ({e}): scripts/setup --tests installs it"));
    assert!(
        out.status.success(),
        "tshark {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), fields.len(), "tshark line {line:?}");
            // The innermost IPv6 header when there is one (Teredo, 6in4), else IPv4's.
            let pick = |v4: &str, v6: &str| last(if v6.is_empty() { v4 } else { v6 }).to_string();
            let a = (pick(f[2], f[4]), number(f[6], "tcp.srcport"));
            let b = (pick(f[3], f[5]), number(f[7], "tcp.dstport"));
            let (secs, frac) = f[1].split_once('.').unwrap_or((f[1], "0"));
            let nanos: i64 = format!("{frac:0<9}")[..9]
                .parse()
                .unwrap_or_else(|_| panic!("time {:?}", f[1]));
            Packet {
                frame: number(f[0], "frame.number"),
                ns: number::<i64>(secs, "frame.time_epoch") * 1_000_000_000 + nanos,
                ends: if a <= b { (a, b) } else { (b, a) },
                stream: number(f[8], "tcp.stream"),
                seq: number(f[9], "tcp.seq"),
                ack: (last(f[11]) == "1").then(|| number(f[10], "tcp.ack")),
            }
        })
        .collect()
}

type Ends = ((String, u16), (String, u16));

fn endpoint(value: &Value) -> (String, u16) {
    let ip = value["ip"]
        .as_str()
        .unwrap_or_else(|| panic!("ip in {value}"));
    let port = value["port"]
        .as_u64()
        .unwrap_or_else(|| panic!("port in {value}"));
    (
        ip.to_string(),
        u16::try_from(port).unwrap_or_else(|e| panic!("{e}")),
    )
}

fn flow_ends(flow: &Value) -> Ends {
    let (a, b) = (endpoint(&flow["client"]), endpoint(&flow["server"]));
    if a <= b { (a, b) } else { (b, a) }
}

fn ns(ts: &Value) -> i64 {
    let text = ts.as_str().unwrap_or_else(|| panic!("time {ts}"));
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .timestamp_nanos_opt()
        .unwrap_or_else(|| panic!("{text} out of range"))
}

fn flows(report: &Value) -> &Vec<Value> {
    report["flows"]
        .as_array()
        .unwrap_or_else(|| panic!("no flows in {report}"))
}

/// The stream tshark gives the first packet of each (ends, time): a flow's first packet.
fn first_streams(packets: &[Packet]) -> HashMap<(Ends, i64), u32> {
    let mut first = HashMap::new();
    for p in packets {
        first.entry((p.ends.clone(), p.ns)).or_insert(p.stream);
    }
    first
}

#[test]
fn community_ids_are_the_reference_implementations() {
    let mut tuples = String::new();
    let mut ours = Vec::new();
    for trace in traces() {
        for flow in flows(&report(std::slice::from_ref(&trace))) {
            let (client, server) = (endpoint(&flow["client"]), endpoint(&flow["server"]));
            tuples.push_str(&format!(
                "{} {} {} {}\n",
                client.0, server.0, client.1, server.1
            ));
            let id = flow["community_id"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            ours.push((
                trace.file_name().map(|n| n.to_owned()),
                flow["id"].clone(),
                id,
            ));
        }
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let input = dir.path().join("tuples.txt");
    std::fs::write(&input, tuples).unwrap_or_else(|e| panic!("{e}"));
    let script = "import sys, communityid\n\
        c = communityid.CommunityID()\n\
        for line in open(sys.argv[1]):\n\
        \x20   a, b, pa, pb = line.split()\n\
        \x20   print(c.calc(communityid.FlowTuple.make_tcp(a, b, int(pa), int(pb))))\n";
    let out = Command::new("python3")
        .args(["-c", script, s(&input)])
        .output()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    assert!(
        out.status.success(),
        "the communityid package (python3 -m pip install communityid; scripts/setup --tests \
         installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reference: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(reference.len(), ours.len());
    let differ: Vec<_> = ours
        .iter()
        .zip(&reference)
        .filter(|((_, _, id), want)| id != *want)
        .collect();
    assert!(differ.is_empty(), "{} differ: {differ:?}", differ.len());
    // 83 traces, 232 flows when this was written.
    assert!(ours.len() >= 200, "only {} flows compared", ours.len());
}

#[test]
fn tcp_streams_and_relative_numbers_are_tsharks() {
    let (mut flows_compared, mut resets_compared, mut unseen) = (0, 0, 0);
    let mut differ = Vec::new();
    for trace in traces() {
        let name = trace.file_name().map(|n| n.to_string_lossy().to_string());
        let packets = tshark(&trace);
        let first = first_streams(&packets);
        let by_frame: HashMap<u64, &Packet> = packets.iter().map(|p| (p.frame, p)).collect();
        for flow in flows(&report(std::slice::from_ref(&trace))) {
            let want = first.get(&(flow_ends(flow), ns(&flow["first_ts"])));
            let got = flow["tcp_stream"].as_u64();
            match (want, got) {
                (None, None) => unseen += 1,
                (Some(&want), Some(got)) if u64::from(want) == got => flows_compared += 1,
                _ => differ.push(format!(
                    "{name:?} flow {}: {got:?}, tshark {want:?}",
                    flow["id"]
                )),
            }
            for reset in flow["resets"].as_array().into_iter().flatten() {
                let frame = reset["frame"].as_u64().unwrap_or_default();
                let Some(p) = by_frame.get(&frame) else {
                    assert!(reset["tcp_stream"].is_null(), "{name:?} frame {frame}");
                    continue;
                };
                let ours = (
                    reset["tcp_stream"].as_u64(),
                    reset["seq_relative"].as_u64(),
                    reset["ack_relative"].as_u64(),
                );
                let theirs = (
                    Some(u64::from(p.stream)),
                    Some(u64::from(p.seq)),
                    p.ack.map(u64::from),
                );
                if ours == theirs {
                    resets_compared += 1;
                } else {
                    differ.push(format!(
                        "{name:?} frame {frame}: {ours:?}, tshark {theirs:?}"
                    ));
                }
            }
        }
    }
    eprintln!("{flows_compared} flows, {resets_compared} resets as tshark; {unseen} unseen");
    assert!(
        differ.is_empty(),
        "{} differ:\n{}",
        differ.len(),
        differ.join("\n")
    );
    // 230 flows (2 more in Teredo only Wireshark's heuristic finds) and 43 resets when this
    // was written.
    assert!(
        flows_compared >= 200,
        "only {flows_compared} flows compared"
    );
    assert!(
        resets_compared >= 40,
        "only {resets_compared} resets compared"
    );
    assert!(unseen <= 5, "{unseen} flows Wireshark does not see");
}

/// A trace cut into files of 40 frames, read as one capture: flows go on across the files,
/// and each is numbered in the file its first packet is in, from 0 in every file.
#[test]
fn each_input_file_counts_its_own_streams() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let trace = corpus().join("wikipedia.pcap");
    let out = Command::new("editcap")
        .args([
            "-F",
            "pcap",
            "-c",
            "40",
            s(&trace),
            s(&dir.path().join("part.pcap")),
        ])
        .output()
        .unwrap_or_else(|e| panic!("editcap ({e}): it comes with tshark (scripts/setup --tests)"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut parts: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap_or_else(|e| panic!("{e}"))
        .map(|entry| entry.unwrap_or_else(|e| panic!("{e}")).path())
        .collect();
    parts.sort();
    assert!(parts.len() >= 3, "{parts:?}");
    let firsts: Vec<_> = parts.iter().map(|p| first_streams(&tshark(p))).collect();
    let report = report(&parts);
    let mut later_inputs = 0;
    for flow in flows(&report) {
        let input = flow["tcp_stream_input"]
            .as_u64()
            .unwrap_or_else(|| panic!("no tcp_stream_input in {flow}"));
        let key = (flow_ends(flow), ns(&flow["first_ts"]));
        let want = firsts[usize::try_from(input).unwrap_or(usize::MAX)]
            .get(&key)
            .copied()
            .map(u64::from);
        assert_eq!(flow["tcp_stream"].as_u64(), want, "flow {flow}");
        later_inputs += usize::from(input > 0);
    }
    assert!(later_inputs > 0, "no flow starts after the first file");
}

/// With `--anonymize` the Community ID is the anonymised addresses' (so it tells nothing the
/// report does not), not the real ones'.
#[test]
fn anonymised_community_ids_hash_the_anonymised_addresses() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/idle-timeout.pcap");
    let run = |extra: &[&str]| -> Value {
        let out = Command::new(env!("CARGO_BIN_EXE_rstscope"))
            .args(["analyze", "--format", "json"])
            .args(extra)
            .arg(&sample)
            .output()
            .unwrap_or_else(|e| panic!("rstscope: {e}"));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"))
    };
    let key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    let real = run(&[]);
    let anonymised = run(&["--anonymize", "--anonymize-key", key]);
    let (real, anonymised) = (&flows(&real)[0], &flows(&anonymised)[0]);
    assert_ne!(real["client"], anonymised["client"]);
    assert_ne!(real["community_id"], anonymised["community_id"]);
    let (client, server) = (
        endpoint(&anonymised["client"]),
        endpoint(&anonymised["server"]),
    );
    let script = format!(
        "import communityid\n\
         print(communityid.CommunityID().calc(communityid.FlowTuple.make_tcp(\
         '{}', '{}', {}, {})))",
        client.0, server.0, client.1, server.1
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        anonymised["community_id"].as_str(),
        Some(String::from_utf8_lossy(&out.stdout).trim())
    );
}
