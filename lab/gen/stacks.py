"""User-space TCP responders (scapy) that answer like Windows or BSD stacks.

stacks.py CONFIG_JSON      CONFIG: {"style": "windows"|"bsd", "iface", "mac", "gw_mac",
                                    "addrs": [v4, v6], "listen": [ports], "ipid": N}

Runs in a server namespace whose own kernel has been told (nftables, prerouting) to drop
every TCP segment, so only this program answers: it reads frames on IFACE (AF_PACKET) and
writes its answers there. A small state machine per connection: handshake, one HTTP-like
answer per request head (GET /size/N for N bytes; "Connection: close" -> FIN after it), and
the close. SIGUSR1 forgets every connection (a reboot that keeps the address). Prints READY,
then a line per reset it sends.

What is emulated, and where it was learnt:
  Windows  TTL / hop limit 128; DF on every packet; one global IP ID counter incremented for
           every packet the host sends (nmap's TI=I, SS=S); SYN to a closed port -> RST+ACK,
           seq 0, ack = SYN seq + 1, window 0 (nmap T5: W=0 S=Z A=S+ F=AR); a segment for a
           connection it does not have -> a bare RST, seq = the segment's ack, the ack field
           filled (seq + len) although the ACK flag is off, window 0 (nmap T4/T6: S=A A=O F=R);
           when the client closes a kept-alive connection it ACKs the FIN and then resets
           (RST+ACK, window 0) instead of sending its own FIN, as Windows servers that abort
           on close do. SYN-ACK: window 8192, MSS 1460, NOP, WS 8, NOP, NOP, SACK permitted.
           (Fingerprint fields as printed by nmap -O for Windows 7/10 hosts.)
  BSD      TTL / hop limit 64; DF; IP ID 0 on DF packets (FreeBSD's ip_fillid with
           net.inet.ip.rfc6864=1); SYN to a closed port -> RST+ACK, seq 0, ack = seq + 1,
           window 0; a segment for an unknown connection -> bare RST, seq = its ack, ack field
           0, window 0; an orderly FIN close. SYN-ACK: window 65535, MSS 1460, NOP, WS 6,
           SACK permitted. (From FreeBSD's tcp_respond()/tcp_dropwithreset() as the author
           remembers them; not verified against a live FreeBSD host here.)
  Neither emulates TCP timestamps (the SYN-ACK carries none, so the client does not use them).
"""
import json, os, random, signal, socket, struct, sys, time

from scapy.layers.inet import IP, TCP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Raw

ETH_P_ALL, PACKET_HOST = 0x0003, 0
F_FIN, F_SYN, F_RST, F_PSH, F_ACK = 0x01, 0x02, 0x04, 0x08, 0x10

cfg = json.loads(sys.argv[1])
WIN = cfg["style"] == "windows"
TTL = 128 if WIN else 64
state = {"ipid": cfg.get("ipid", 1) & 0xFFFF}
conns = {}
rng = random.Random()


def log(*a):
    print(*a, flush=True)


def forget(*_):
    log("FORGOT %d connection(s)" % len(conns))
    conns.clear()


signal.signal(signal.SIGUSR1, forget)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
sock.bind((cfg["iface"], 0))
sock.settimeout(0.5)


def send(d, flags, seq, ack, payload=b"", window=None, options=None):
    if d["v"] == 4:
        if WIN:
            ipid = state["ipid"]
            state["ipid"] = (state["ipid"] + 1) & 0xFFFF
        else:
            ipid = 0
        ip = IP(src=d["dst"], dst=d["src"], ttl=TTL, id=ipid, flags="DF")
    else:
        if WIN:
            state["ipid"] = (state["ipid"] + 1) & 0xFFFF
        ip = IPv6(src=d["dst"], dst=d["src"], hlim=TTL)
    if window is None:
        window = 1026 if WIN else 1024
    tcp = TCP(sport=d["dport"], dport=d["sport"], seq=seq & 0xFFFFFFFF, ack=ack & 0xFFFFFFFF,
              flags=flags, window=window, options=options or [])
    pkt = Ether(src=cfg["mac"], dst=cfg["gw_mac"]) / ip / tcp
    if payload:
        pkt = pkt / Raw(payload)
    sock.send(bytes(pkt))


def parse(frame):
    if len(frame) < 14:
        return None
    et = struct.unpack("!H", frame[12:14])[0]
    ip = frame[14:]
    if et == 0x0800 and len(ip) >= 20 and ip[9] == 6:
        ihl = (ip[0] & 15) * 4
        tot = struct.unpack("!H", ip[2:4])[0]
        d = {"v": 4, "src": socket.inet_ntop(socket.AF_INET, ip[12:16]),
             "dst": socket.inet_ntop(socket.AF_INET, ip[16:20])}
        tcp = ip[ihl:tot]
    elif et == 0x86DD and len(ip) >= 40 and ip[6] == 6:
        plen = struct.unpack("!H", ip[4:6])[0]
        d = {"v": 6, "src": socket.inet_ntop(socket.AF_INET6, ip[8:24]),
             "dst": socket.inet_ntop(socket.AF_INET6, ip[24:40])}
        tcp = ip[40:40 + plen]
    else:
        return None
    if d["dst"] not in cfg["addrs"] or len(tcp) < 20:
        return None
    d["sport"], d["dport"], d["seq"], d["ack"] = struct.unpack("!HHII", tcp[:12])
    d["flags"] = tcp[13]
    d["payload"] = tcp[(tcp[12] >> 4) * 4:]
    return d


def answer(c, d):
    buf = c["buf"]
    while b"\r\n\r\n" in buf:
        head, _, buf = buf.partition(b"\r\n\r\n")
        n = 700
        try:
            path = head.split(b" ", 2)[1]
            if path.startswith(b"/size/"):
                n = int(path[6:])
        except (IndexError, ValueError):
            pass
        keep = b"\r\nconnection: keep-alive" in head.lower()
        line = b"served by a %s-like stack\n" % cfg["style"].encode()
        body = line * (n // len(line) + 1)
        resp = (b"HTTP/1.1 200 OK\r\nServer: %s-like\r\nContent-Length: %d\r\nConnection: %s\r\n\r\n"
                % (cfg["style"].encode(), n, b"keep-alive" if keep else b"close")) + body[:n]
        for i in range(0, len(resp), 1400):
            part = resp[i:i + 1400]
            send(d, "PA", c["snd_nxt"], c["rcv_nxt"], part)
            c["snd_nxt"] += len(part)
        if not keep:
            send(d, "FA", c["snd_nxt"], c["rcv_nxt"])
            c["snd_nxt"] += 1
            c["state"] = "FIN_WAIT"
    c["buf"] = buf


def segment(d):
    key = (d["src"], d["sport"], d["dport"])
    f, plen = d["flags"], len(d["payload"])
    c = conns.get(key)
    if f & F_RST:
        conns.pop(key, None)
        return
    if c is None:
        if f & F_SYN and not f & F_ACK:
            if d["dport"] in cfg["listen"]:
                iss = rng.randrange(1 << 32)
                c = conns[key] = {"state": "SYN_RCVD", "iss": iss, "snd_nxt": iss + 1,
                                  "rcv_nxt": d["seq"] + 1, "buf": b""}
                opts = ([("MSS", 1460), ("NOP", None), ("WScale", 8), ("NOP", None), ("NOP", None),
                         ("SAckOK", b"")] if WIN else
                        [("MSS", 1460), ("NOP", None), ("WScale", 6), ("SAckOK", b""), ("EOL", None)])
                send(d, "SA", iss, c["rcv_nxt"], window=8192 if WIN else 65535, options=opts)
            else:
                send(d, "RA", 0, d["seq"] + 1 + plen, window=0)
                log("RESET refused port %d" % d["dport"])
            return
        if f & F_ACK:
            ackfield = (d["seq"] + plen + (1 if f & F_FIN else 0)) if WIN else 0
            send(d, "R", d["ack"], ackfield, window=0)
            log("RESET no connection for port %d (ack field %d)" % (d["dport"], ackfield))
        else:
            send(d, "RA", 0, d["seq"] + plen + (1 if f & F_FIN else 0), window=0)
            log("RESET no connection, no ACK, port %d" % d["dport"])
        return
    if f & F_SYN:
        if c["state"] == "SYN_RCVD":
            send(d, "SA", c["iss"], c["rcv_nxt"], window=8192 if WIN else 65535)
        return
    if c["state"] == "SYN_RCVD" and f & F_ACK and d["ack"] == c["snd_nxt"]:
        c["state"] = "ESTAB"
    if plen:
        if d["seq"] == c["rcv_nxt"] and c["state"] == "ESTAB":
            c["buf"] += d["payload"]
            c["rcv_nxt"] += plen
            before = c["snd_nxt"]
            answer(c, d)
            if c["snd_nxt"] == before:
                send(d, "A", c["snd_nxt"], c["rcv_nxt"])
        else:
            send(d, "A", c["snd_nxt"], c["rcv_nxt"])
    if f & F_FIN:
        c["rcv_nxt"] = d["seq"] + plen + 1
        if c["state"] == "ESTAB":
            if WIN:
                send(d, "A", c["snd_nxt"], c["rcv_nxt"])
                time.sleep(0.001)
                send(d, "RA", c["snd_nxt"], c["rcv_nxt"], window=0)
                log("RESET after ACKing the client's FIN on port %d" % d["dport"])
                conns.pop(key, None)
            else:
                send(d, "FA", c["snd_nxt"], c["rcv_nxt"])
                c["snd_nxt"] += 1
                c["state"] = "LAST_ACK"
        elif c["state"] == "FIN_WAIT":
            send(d, "A", c["snd_nxt"], c["rcv_nxt"])
            conns.pop(key, None)
        return
    if c["state"] == "LAST_ACK" and f & F_ACK and d["ack"] == c["snd_nxt"]:
        conns.pop(key, None)


log("READY")
stop = time.monotonic() + 300
while time.monotonic() < stop:
    try:
        frame, addr = sock.recvfrom(65536)
    except socket.timeout:
        continue
    except InterruptedError:
        continue
    if addr[2] != PACKET_HOST:
        continue
    d = parse(frame)
    if d is not None:
        segment(d)
