"""An out-of-band reset injector, as content filters and censors run them beside a path.

injector.py IFACE NEEDLE TTL COUNT

Sniffs IFACE with an AF_PACKET socket (a copy of the traffic: it neither delays nor drops
anything). When a TCP segment over IPv4 arriving on IFACE carries NEEDLE in its payload, it
forges COUNT RST+ACK segments back to the sender in the name of the destination: source and
destination swapped, seq = the sniffed segment's ack (the next byte the real server would
send), ack = the end of the sniffed payload, its own TTL, a fresh random IP ID each, no DF,
a random window. The real segment still reaches the server, whose real answer follows.
Fires once per connection. Prints READY once listening, a line per injection.
"""
import os, random, socket, struct, sys, time

ETH_P_ALL, ETH_P_IP, PACKET_HOST = 0x0003, 0x0800, 0


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def forge(frame, ihl, ttl):
    eth_dst, eth_src = frame[0:6], frame[6:12]
    ip = frame[14:]
    src, dst = ip[12:16], ip[16:20]
    total_len = struct.unpack("!H", ip[2:4])[0]
    tcp = ip[ihl:total_len]
    sport, dport, seq, ack = struct.unpack("!HHII", tcp[0:12])
    doff = (tcp[12] >> 4) * 4
    payload_len = len(tcp) - doff
    # TCP header: ports swapped, seq = their ack, ack = their seq + payload, RST+ACK, no options.
    rst_seq, rst_ack = ack, (seq + payload_len) & 0xFFFFFFFF
    window = random.randrange(1024, 65535)
    head = struct.pack("!HHIIBBHHH", dport, sport, rst_seq, rst_ack, 5 << 4, 0x14, window, 0, 0)
    pseudo = dst + src + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(head))
    head = head[:16] + struct.pack("!H", checksum(pseudo + head)) + head[18:]
    iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(head), random.randrange(1, 65536), 0,
                      ttl, socket.IPPROTO_TCP, 0, dst, src)
    iph = iph[:10] + struct.pack("!H", checksum(iph)) + iph[12:]
    out = eth_src + eth_dst + struct.pack("!H", ETH_P_IP) + iph + head
    conn = (socket.inet_ntoa(src), sport, socket.inet_ntoa(dst), dport)
    return conn, out, rst_seq, rst_ack


def main():
    iface, needle, ttl, count = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3]), int(sys.argv[4])
    try:  # win the race against the real answer even on a busy machine
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
    except (AttributeError, OSError) as e:
        print("no real-time priority (%s); running at normal priority" % e, flush=True)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    s.settimeout(1)
    fired = set()
    stop = time.monotonic() + 600
    print("READY", flush=True)
    while time.monotonic() < stop:
        try:
            frame, addr = s.recvfrom(65536)
        except socket.timeout:
            continue
        if addr[2] != PACKET_HOST or len(frame) < 34 or frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        if ip[9] != socket.IPPROTO_TCP or len(ip) < ihl + 20:
            continue
        flags, doff = ip[ihl + 13], (ip[ihl + 12] >> 4) * 4
        total_len = struct.unpack("!H", ip[2:4])[0]
        if flags & 0x04 or not flags & 0x10 or needle not in ip[ihl + doff:total_len]:
            continue  # RSTs, segments without ACK, and everything without the needle
        forged = [forge(frame, ihl, ttl) for _ in range(count)]  # a fresh IP ID and window each
        conn, _, rst_seq, rst_ack = forged[0]
        if conn in fired:
            continue
        fired.add(conn)
        for _, out, _, _ in forged:
            s.send(out)
        print("injected %d RST+ACK to %s:%d in the name of %s:%d (seq %d, ack %d, TTL %d)"
              % (count, conn[0], conn[1], conn[2], conn[3], rst_seq, rst_ack, ttl), flush=True)


main()
