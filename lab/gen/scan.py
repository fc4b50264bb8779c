"""A SYN scanner (scapy, raw IP socket): scan.py TARGET SPORT PORT:TTL [PORT:TTL ...]

Sends one SYN per port, each with its own IP TTL / hop limit, from source port SPORT+i, 40 ms
apart, then waits a second. It keeps no state: the kernel of the host it runs on has no socket
for these probes, so each SYN-ACK that comes back draws that kernel's own RST, and closed
ports answer with the target's RST+ACK.
"""
import random, sys, time

from scapy.config import conf
from scapy.layers.inet import IP, TCP
from scapy.layers.inet6 import IPv6
from scapy.sendrecv import send

conf.verb = 0
target, sport = sys.argv[1], int(sys.argv[2])
for i, spec in enumerate(sys.argv[3:]):
    port, ttl = map(int, spec.split(":"))
    ip = IPv6(dst=target, hlim=ttl) if ":" in target else IP(dst=target, ttl=ttl)
    send(ip / TCP(sport=sport + i, dport=port, flags="S", seq=random.randrange(1 << 32),
                  window=1024, options=[("MSS", 1460)]))
    print("probe port %d with TTL %d from port %d" % (port, ttl, sport + i), flush=True)
    time.sleep(0.04)
time.sleep(1.0)
