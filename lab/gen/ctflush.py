"""Flush this namespace's conntrack table over netlink, as `conntrack -F` would (stdlib only;
the conntrack tool is not installed here). Sends IPCTNL_MSG_CT_DELETE without attributes for
AF_INET and AF_INET6 and prints how many entries there were (from /proc when present)."""
import socket, struct, sys

NETLINK_NETFILTER, NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_DELETE = 12, 1, 2
NLM_F_REQUEST, NLM_F_ACK = 1, 4

s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
for seq, family in enumerate((socket.AF_INET, socket.AF_INET6), 1):
    body = struct.pack("=BBH", family, 0, 0)
    hdr = struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE,
                      NLM_F_REQUEST | NLM_F_ACK, seq, 0)
    s.send(hdr + body)
    reply = s.recv(4096)
    err = struct.unpack("=i", reply[16:20])[0]
    if err not in (0, -2):  # -ENOENT: nothing to flush
        sys.exit("conntrack flush (family %d) failed: errno %d" % (family, -err))
print("conntrack table flushed", flush=True)
