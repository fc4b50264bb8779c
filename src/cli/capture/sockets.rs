//! Who owns this host's TCP sockets: a snapshot of `/proc/net/tcp` and `/proc/net/tcp6` (the
//! capture's network namespace; readable without root), taken at most every second while
//! tracing, so that a socket a RST killed, gone from the tables by the time its event is read,
//! can still be named "as of" the snapshot before. The process holding it is looked up in
//! `/proc/*/fd` when the RST is settled: that needs root (`--user root`) for other users'
//! processes; otherwise the owner is the socket's user.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use rstscope_core::kernel::{Process, SocketOwner};

/// How often the tables are read.
const EVERY: Duration = Duration::from_secs(1);
/// Beyond this many sockets, snapshots stop (they would cost more than they tell).
const AT_MOST: usize = 200_000;

/// (local, remote) -> (uid, inode).
type Table = HashMap<(SocketAddr, SocketAddr), (u32, u64)>;

#[derive(Default)]
pub(super) struct Snapshots {
    /// The two newest snapshots and their times (capture clock), newest first.
    tables: [(i64, Table); 2],
    last: Option<Instant>,
    /// Why snapshots stopped, if they did.
    pub(super) stopped: Option<String>,
    users: HashMap<u32, Option<String>>,
}

impl Snapshots {
    /// Takes a snapshot when the last is a second old.
    pub(super) fn refresh(&mut self, now_ns: i64) {
        if self.stopped.is_some() || self.last.is_some_and(|at| at.elapsed() < EVERY) {
            return;
        }
        self.last = Some(Instant::now());
        let mut table = Table::new();
        for (path, v6) in [("/proc/net/tcp", false), ("/proc/net/tcp6", true)] {
            if let Ok(text) = std::fs::read_to_string(path) {
                table.extend(parse_table(&text, v6));
            }
        }
        if table.len() > AT_MOST {
            self.stopped = Some(format!(
                "more than {AT_MOST} sockets: owners are not looked up"
            ));
            self.tables = Default::default();
            return;
        }
        self.tables.swap(0, 1);
        self.tables[0] = (now_ns, table);
    }

    /// The owner of the socket `local`-`remote` in the newest snapshot taken before
    /// `before_ns` that holds it (or the newest that does).
    pub(super) fn owner(
        &mut self,
        local: SocketAddr,
        remote: SocketAddr,
        before_ns: i64,
    ) -> Option<SocketOwner> {
        let found = self
            .tables
            .iter()
            .filter(|(at, _)| *at <= before_ns)
            .chain(self.tables.iter())
            .find_map(|(at, table)| {
                table
                    .get(&(local, remote))
                    .map(|&(uid, inode)| (*at, uid, inode))
            })?;
        let (as_of_ns, uid, inode) = found;
        let user = self
            .users
            .entry(uid)
            .or_insert_with(|| {
                nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
                    .ok()
                    .flatten()
                    .map(|u| u.name)
            })
            .clone();
        Some(SocketOwner {
            uid,
            user,
            inode,
            process: holder_of(inode),
            as_of_ns,
        })
    }
}

/// The rows of `/proc/net/tcp` (or `tcp6`): addresses, uid and inode, skipping sockets that
/// have no peer (listeners) and rows that do not parse.
fn parse_table(
    text: &str,
    v6: bool,
) -> impl Iterator<Item = ((SocketAddr, SocketAddr), (u32, u64))> + '_ {
    text.lines().skip(1).filter_map(move |line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let local = proc_address(fields.get(1)?, v6)?;
        let remote = proc_address(fields.get(2)?, v6)?;
        if remote.port() == 0 {
            return None;
        }
        let uid = fields.get(7)?.parse().ok()?;
        let inode = fields.get(9)?.parse().ok()?;
        Some(((local, remote), (uid, inode)))
    })
}

/// `0100007F:1F90` (the address as the kernel's 32-bit words in this host's byte order, the
/// port in hex).
fn proc_address(text: &str, v6: bool) -> Option<SocketAddr> {
    let (address, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |i: usize| -> Option<[u8; 4]> {
        let hex = address.get(i * 8..i * 8 + 8)?;
        Some(u32::from_str_radix(hex, 16).ok()?.to_ne_bytes())
    };
    let ip = if v6 {
        let mut bytes = [0u8; 16];
        for i in 0..4 {
            bytes[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
        }
        let ip = Ipv6Addr::from(bytes);
        ip.to_ipv4_mapped().map_or(IpAddr::V6(ip), IpAddr::V4)
    } else {
        if address.len() != 8 {
            return None;
        }
        IpAddr::V4(Ipv4Addr::from(word(0)?))
    };
    Some(SocketAddr::new(ip, port))
}

/// The process holding socket `inode` now, when this process may read the others' fds.
fn holder_of(inode: u64) -> Option<Process> {
    let wanted = format!("socket:[{inode}]");
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            std::fs::read_link(fd.path()).is_ok_and(|target| target.as_os_str() == wanted.as_str())
        });
        if holds {
            let name = std::fs::read_to_string(entry.path().join("comm")).ok()?;
            return Some(Process {
                pid,
                name: name.trim_end().to_string(),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_net_tcp_rows_give_both_ends_uid_and_inode() {
        let v4 = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 668 1 0 100 0 0 10 0\n   1: 0A0200C0:1F90 0B0200C0:C350 01 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0 20 4 30 10 -1\n";
        let rows: Vec<_> = parse_table(v4, false).collect();
        // The listener has no peer and is left out; bytes are in this host's order.
        let local = SocketAddr::new(
            IpAddr::V4(Ipv4Addr::from(
                u32::from_str_radix("0A0200C0", 16)
                    .unwrap_or(0)
                    .to_ne_bytes(),
            )),
            8080,
        );
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].0.0, local);
        assert_eq!(rows[0].0.1.port(), 50000);
        assert_eq!(rows[0].1, (1000, 4242));
        if cfg!(target_endian = "little") {
            assert_eq!(local.to_string(), "192.0.2.10:8080");
        }
        assert!(proc_address("nonsense", false).is_none());
        assert!(proc_address("0100007F:zz", false).is_none());
    }
}
