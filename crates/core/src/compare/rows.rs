//! The packets around a matched flow's resets as both points saw them, for the drawings: each
//! packet once, with its frame at each point that saw it, in time order on the first clock.

use super::*;

/// Packets drawn before and after each RST.
const AROUND: usize = 4;
/// Rows kept per flow.
const ROWS_KEPT: usize = 40;

/// The flow's packets around its RSTs, each with its frame at each point.
pub(super) fn two_point_rows(
    pair: &Pair,
    a: &FlowPackets,
    b: &FlowPackets,
    clock: &Clock,
) -> Vec<TwoPointPacket> {
    let matched_b: HashSet<usize> = pair.packets.pairs.iter().map(|p| p.1).collect();
    let b_of_a: HashMap<usize, usize> = pair.packets.pairs.iter().copied().collect();
    // (time on the first clock, from the client, the packet, frames)
    let mut all: Vec<(Timestamp, bool, Pkt, [Option<u64>; 2])> = Vec::new();
    for (i, (p, from_client)) in a.packets.iter().enumerate() {
        let frame_b = b_of_a.get(&i).map(|&j| b.packets[j].0.frame);
        all.push((p.ts, *from_client, *p, [Some(p.frame), frame_b]));
    }
    for (j, (p, from_client)) in b.packets.iter().enumerate() {
        if matched_b.contains(&j) {
            continue;
        }
        let from_client = *from_client != pair.flow.flipped;
        all.push((clock.on_first(p.ts), from_client, *p, [None, Some(p.frame)]));
    }
    all.sort_by_key(|row| row.0);
    let mut wanted = vec![false; all.len()];
    for (index, row) in all.iter().enumerate() {
        if row.2.flags.rst() {
            let from = index.saturating_sub(AROUND);
            let to = (index + AROUND + 1).min(all.len());
            wanted[from..to].iter_mut().for_each(|w| *w = true);
        }
    }
    all.into_iter()
        .zip(wanted)
        .filter(|(_, wanted)| *wanted)
        .take(ROWS_KEPT)
        .map(|((ts, from_client, p, frames), _)| TwoPointPacket {
            ts: format_ts(ts),
            from: if from_client { "client" } else { "server" },
            flags: p.flags.to_string(),
            seq: p.seq,
            len: p.len,
            frames,
        })
        .collect()
}
