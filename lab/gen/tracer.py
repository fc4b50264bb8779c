"""Read captures and trace every RST of the final capture back to the namespace that emitted it.

Every namespace of the lab is captured with `tcpdump -i any -y LINUX_SLL2` (TCP only, headers
and a little payload), which records for each frame the interface it crossed and whether it
arrived (host/broadcast/multicast/otherhost) or left (outgoing). A RST segment is recognised
on every link by its key: IP version, seq, the raw ack field, flags, window, TCP payload
length, and the IPv4 ID (nothing on the path rewrites these; TTL and, through a NAT, addresses
and ports do change, so they are not part of the key).

Tracing walks back from the RST as the final capture saw it: a segment that arrived on an
interface left the other end of that cable shortly before; a segment that left a namespace
either arrived on another of its interfaces shortly before (it was forwarded or bridged) or
did not -- then that namespace emitted it. A step that finds nothing makes the RST
untraceable, and the seed fails.
"""
import socket, struct

LINK_EN10MB, LINK_SLL, LINK_SLL2 = 1, 113, 276
PACKET_OUTGOING = 4
F = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10, "U": 0x20, "E": 0x40, "C": 0x80}
FLAG_ORDER = "FSRPAUEC"


class Untraceable(Exception):
    pass


def read_pcap(path):
    """Yield (ts, linktype, meta, l3_ethertype, l3_bytes) for each frame; meta = (ifindex, pkttype)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise ValueError("%s: not a pcap file" % path)
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(e + "I", data[20:24])[0] & 0x0FFFFFFF
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        ts = sec + frac / (1e9 if nano else 1e6)
        meta = (None, None)
        if linktype == LINK_EN10MB:
            if len(frame) < 14:
                yield ts, linktype, meta, None, b""
                continue
            et = struct.unpack("!H", frame[12:14])[0]
            l3 = frame[14:]
            if et == 0x8100 and len(frame) >= 18:
                et = struct.unpack("!H", frame[16:18])[0]
                l3 = frame[18:]
        elif linktype == LINK_SLL2:
            if len(frame) < 20:
                yield ts, linktype, meta, None, b""
                continue
            et = struct.unpack("!H", frame[0:2])[0]
            meta = (struct.unpack("!I", frame[4:8])[0], frame[10])
            l3 = frame[20:]
        elif linktype == LINK_SLL:
            if len(frame) < 16:
                yield ts, linktype, meta, None, b""
                continue
            meta = (None, struct.unpack("!H", frame[0:2])[0])
            et = struct.unpack("!H", frame[14:16])[0]
            l3 = frame[16:]
        else:
            raise ValueError("%s: link type %d not handled" % (path, linktype))
        yield ts, linktype, meta, et, l3


def tcp_of(et, l3):
    """IPv4/IPv6 + TCP header fields, or None."""
    if et == 0x0800 and len(l3) >= 20 and l3[0] >> 4 == 4 and l3[9] == 6:
        ihl = (l3[0] & 15) * 4
        tot = struct.unpack("!H", l3[2:4])[0]
        t = l3[ihl:]
        if len(t) < 20:
            return None
        d = {"v": 4, "src": socket.inet_ntop(socket.AF_INET, l3[12:16]),
             "dst": socket.inet_ntop(socket.AF_INET, l3[16:20]), "ttl": l3[8],
             "ip_id": struct.unpack("!H", l3[4:6])[0], "df": bool(l3[6] & 0x40)}
        l4len = tot - ihl
    elif et == 0x86DD and len(l3) >= 60 and l3[0] >> 4 == 6 and l3[6] == 6:
        t = l3[40:]
        d = {"v": 6, "src": socket.inet_ntop(socket.AF_INET6, l3[8:24]),
             "dst": socket.inet_ntop(socket.AF_INET6, l3[24:40]), "ttl": l3[7],
             "ip_id": None, "df": None}
        l4len = struct.unpack("!H", l3[4:6])[0]
    else:
        return None
    d["sport"], d["dport"], d["seq"], d["ack_raw"] = struct.unpack("!HHII", t[:12])
    doff = (t[12] >> 4) * 4
    d["flags"] = t[13]
    d["win"] = struct.unpack("!H", t[14:16])[0]
    d["plen"] = max(0, l4len - doff)
    d["payload"] = t[doff:doff + d["plen"]]
    return d


def flag_str(flags):
    return "".join(c for c in FLAG_ORDER if flags & F[c])


def key_of(d):
    return (d["v"], d["seq"], d["ack_raw"], d["flags"], d["win"], d["plen"],
            d["ip_id"] if d["v"] == 4 else -1)


class Occ:
    __slots__ = ("node", "ifname", "dir", "ts", "ttl", "d")

    def __init__(self, node, ifname, direction, ts, ttl, d):
        self.node, self.ifname, self.dir, self.ts, self.ttl, self.d = node, ifname, direction, ts, ttl, d

    def __repr__(self):
        return "%s:%s %s %.6f ttl %d" % (self.node, self.ifname, self.dir, self.ts, self.ttl)


def load_traces(paths, ifindex, excluded):
    """paths: node -> trace pcap. Returns key -> [Occ] for RST segments."""
    occs = {}
    for node, path in paths.items():
        names = ifindex.get(node, {})
        for ts, lt, (idx, ptype), et, l3 in read_pcap(path):
            d = tcp_of(et, l3)
            if d is None or not d["flags"] & F["R"]:
                continue
            ifname = names.get(idx, "if%s" % idx)
            if ifname == "lo" or (node, ifname) in excluded:
                continue
            direction = "out" if ptype == PACKET_OUTGOING else "in"
            occs.setdefault(key_of(d), []).append(Occ(node, ifname, direction, ts, d["ttl"], d))
    for v in occs.values():
        v.sort(key=lambda o: o.ts)
    return occs


def walk(start, occs, peer, delays, eps=0.002):
    """From an occurrence back to the emitter: returns (emitter node, chain of Occ)."""
    key = key_of(start.d)
    cands_all = occs.get(key, [])
    chain, cur = [start], start
    for _ in range(100):
        if cur.dir == "in":
            far = peer.get((cur.node, cur.ifname))
            if far is None:
                raise Untraceable("%r arrived on an interface with no known cable" % cur)
            slack = delays.get((cur.node, cur.ifname), 0.0) / 1000.0 + 0.6
            c = [o for o in cands_all if (o.node, o.ifname) == far and o.dir == "out"
                 and cur.ts - slack <= o.ts <= cur.ts + eps]
            c = [o for o in c if o.ts <= cur.ts] or c
            if not c:
                raise Untraceable("%r: no copy left %s:%s before it arrived" % (cur, far[0], far[1]))
            cur = max(c, key=lambda o: o.ts)
        else:
            c = [o for o in cands_all if o.node == cur.node and o.ifname != cur.ifname
                 and o.dir == "in" and cur.ts - 0.5 <= o.ts <= cur.ts + eps]
            c = [o for o in c if o.ts <= cur.ts] or c
            if not c:
                return cur.node, chain
            cur = max(c, key=lambda o: o.ts)
        chain.append(cur)
    raise Untraceable("trace of %r does not end" % start)


def final_frames(path):
    """All frames of the final capture: list of dicts (frame, ts, linktype, meta, tcp or None)."""
    out = []
    for i, (ts, lt, meta, et, l3) in enumerate(read_pcap(path), 1):
        out.append({"frame": i, "ts": ts, "linktype": lt, "ifindex": meta[0], "pkttype": meta[1],
                    "tcp": tcp_of(et, l3) if et is not None else None, "et": et})
    return out


def start_occ(fr, occs, node, ifnames, ifindex, used):
    """The trace occurrence of a final-capture RST frame: same key, TTL, interface and
    direction (where the capture tells them), within 0.25 s; identical copies are paired in
    order (the earliest occurrence not paired yet), as both tcpdumps saw them in order."""
    d = fr["tcp"]
    c = [o for o in occs.get(key_of(d), []) if o.node == node and o.ttl == d["ttl"]]
    if fr["ifindex"] is not None:
        name = ifindex.get(node, {}).get(fr["ifindex"])
        c = [o for o in c if o.ifname == name]
    elif ifnames is not None:
        c = [o for o in c if o.ifname in ifnames]
    if fr["pkttype"] is not None:
        want = "out" if fr["pkttype"] == PACKET_OUTGOING else "in"
        c = [o for o in c if o.dir == want]
    c = [o for o in c if abs(o.ts - fr["ts"]) < 0.25 and id(o) not in used]
    if not c:
        raise Untraceable("frame %d (%s) not found in %s's trace" % (fr["frame"], describe(d), node))
    o = min(c, key=lambda o: o.ts)
    used.add(id(o))
    return o


def describe(d):
    return "%s:%d > %s:%d %s seq %d" % (d["src"], d["sport"], d["dst"], d["dport"],
                                        flag_str(d["flags"]), d["seq"])
