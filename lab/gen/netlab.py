"""Build a plan's topology out of network namespaces, run processes in it, tear it down.

Node names: c (client), r1..rN (routers), s (server), and when the plan asks for them bfw (a
transparent bridge firewall / IPS on a link), sw (a switch on the client's segment) with nb (a
neighbour host on it), t (a spare host beside rN that can take the server's address) and cap
(a capture-only namespace fed by tc mirred). Namespace names are rsg<PID>-<node>.

Link i joins node i and node i+1 of the path (c = node 0, s = node N+1). Every path link is a
pair of tap devices joined by wires.py with the plan's one-way delay (this kernel has no netem);
the short attachments of bridges, the switch and the spare host are plain veth pairs.

Addresses (documentation ranges only; MACs 00:00:5e:00:53:xx):
  link 0      192.0.2.0/24      2001:db8:c::/64     c .10, r1 .1, nb .20, bfw .3
  link i      203.0.113.8i/29   2001:db8:ff:i::/64  left .8i+1, right .8i+2, bfw .8i+3
  link N      198.51.100.0/24   2001:db8:5::/64     rN .1, s .7 (t .7 too), bfw .3
No interface is ever created in, or moved to, the host's namespace.
"""
import json, os, signal, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = sys.executable

CLIENT4, CLIENT6 = "192.0.2.10", "2001:db8:c::10"
SERVER4, SERVER6 = "198.51.100.7", "2001:db8:5::7"
NB4, NB6 = "192.0.2.20", "2001:db8:c::20"


class LabError(Exception):
    pass


def link_subnet(i, n):
    if i == 0:
        return "192.0.2.0/24", "2001:db8:c::/64"
    if i == n:
        return "198.51.100.0/24", "2001:db8:5::/64"
    return "203.0.113.%d/29" % (8 * i), "2001:db8:ff:%x::/64" % i


def link_addrs(i, n):
    """(left v4, left v6), (right v4, right v6), (bridge v4, v6), prefix lengths."""
    if i == 0:
        return (CLIENT4, CLIENT6), ("192.0.2.1", "2001:db8:c::1"), ("192.0.2.3", "2001:db8:c::3"), (24, 64)
    if i == n:
        return (("198.51.100.1", "2001:db8:5::1"), (SERVER4, SERVER6),
                ("198.51.100.3", "2001:db8:5::3"), (24, 64))
    b = 8 * i
    return (("203.0.113.%d" % (b + 1), "2001:db8:ff:%x::1" % i),
            ("203.0.113.%d" % (b + 2), "2001:db8:ff:%x::2" % i),
            ("203.0.113.%d" % (b + 3), "2001:db8:ff:%x::3" % i), (29, 64))


def is_v6(line):
    """An `ip -batch` line about an IPv6 address, neighbour or route."""
    t = line.split()
    if len(t) < 3 or t[0] not in ("addr", "neigh", "route"):
        return False
    target = t[t.index("via") + 1] if t[2] == "default" and "via" in t else t[2]
    return ":" in target or (t[2] == "default" and "via" not in t and "-6" in t)


def path_nodes(n):
    return ["c"] + ["r%d" % i for i in range(1, n + 1)] + ["s"]


def end_ifaces(i, n):
    left = "c0" if i == 0 else "r%db" % i
    right = "s0" if i == n else "r%da" % (i + 1)
    return left, right


class Lab:
    def __init__(self, plan, work, log):
        self.plan, self.work, self.log = plan, work, log
        self.prefix = "rsg%d" % os.getpid()
        self.n = plan["routers"]
        self.created = []
        self.procs = []        # (name, Popen)
        self.peer = {}         # (node, if) -> (node, if): the other end of a cable
        self.macs = {}         # (node, if) -> mac
        self.ifaces = {}       # node -> [ifnames]
        self.wire_specs = []
        self.mac_next = 1
        self.nodes = []
        self.ifindex = {}      # node -> {ifindex: name}
        self.excluded = set()  # (node, if) not part of the path (mirror ports)
        self.delay_of = {}     # (node, if) -> one-way delay of its cable, ms

    # -------------------------------------------------------------------------- primitives
    def ns(self, node):
        return "%s-%s" % (self.prefix, node)

    def run(self, argv, input=None, check=True, timeout=30):
        p = subprocess.run(argv, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise LabError("%s failed (%d): %s" % (" ".join(argv[:8]), p.returncode,
                                                   (p.stderr or p.stdout).strip()[:400]))
        return p

    def nsx(self, node, argv, **kw):
        return self.run(["ip", "netns", "exec", self.ns(node)] + argv, **kw)

    def batch(self, node, lines):
        if self.plan.get("disable_ipv6"):
            lines = [l for l in lines if not is_v6(l)]
        if lines:
            self.run(["ip", "-n", self.ns(node), "-batch", "-"], input="\n".join(lines) + "\n")

    def sh(self, node, script):
        if script:
            self.nsx(node, ["sh", "-c", script])

    def nft(self, node, text):
        self.nsx(node, ["nft", "-f", "-"], input=text)

    def spawn(self, node, argv, name, env=None):
        out = open(os.path.join(self.work, name + ".log"), "w")
        p = subprocess.Popen(["ip", "netns", "exec", self.ns(node)] + argv, stdout=out,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True, env=env)
        out.close()
        self.procs.append((name, p))
        return p

    def logfile(self, name):
        return os.path.join(self.work, name + ".log")

    def read_log(self, name):
        try:
            with open(self.logfile(name)) as f:
                return f.read()
        except OSError:
            return ""

    def wait_line(self, name, proc, pattern, timeout=10.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if pattern in self.read_log(name):
                return
            if proc.poll() is not None:
                raise LabError("%s exited early (%s): %s" % (name, proc.returncode,
                                                              self.read_log(name)[-600:]))
            time.sleep(0.02)
        raise LabError("%s not ready after %g s: %s" % (name, timeout, self.read_log(name)[-600:]))

    def stop(self, proc, sig=signal.SIGTERM, grace=3.0):
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(5)

    def teardown(self):
        for name, p in reversed(self.procs):
            try:
                self.stop(p, signal.SIGTERM, 2.0)
            except Exception:
                pass
        self.procs = []
        for ns in reversed(self.created):
            subprocess.run(["ip", "netns", "del", ns], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        self.created = []

    def mac(self):
        m = "00:00:5e:00:53:%02x" % self.mac_next
        self.mac_next += 1
        if self.mac_next > 0xFE:
            raise LabError("out of documentation MAC addresses")
        return m

    # ------------------------------------------------------------------------------- build
    def add_node(self, node, ttl, router=False):
        ns = self.ns(node)
        existing = self.run(["ip", "netns", "list"]).stdout.split()
        if ns in existing:
            raise LabError("namespace %s already exists (left over from an earlier run with this "
                           "PID?); remove it with: ip netns del %s" % (ns, ns))
        self.run(["ip", "netns", "add", ns])
        self.created.append(ns)
        self.nodes.append(node)
        self.ifaces[node] = []
        kv = ["net.ipv4.ip_default_ttl=%d" % ttl,
              "net.ipv6.conf.all.hop_limit=%d" % ttl, "net.ipv6.conf.default.hop_limit=%d" % ttl,
              "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.all.accept_dad=0",
              "net.ipv6.conf.default.router_solicitations=0",
              "net.ipv6.conf.default.accept_ra=0", "net.ipv6.conf.all.accept_ra=0",
              "net.ipv6.conf.default.mldv2_unsolicited_report_interval=1",
              "net.ipv6.conf.default.mldv1_unsolicited_report_interval=1"]
        if router:
            kv += ["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"]
        if self.plan.get("disable_ipv6"):
            kv += ["net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]
        self.nsx(node, ["sysctl", "-qw"] + kv)
        self.run(["ip", "-n", ns, "link", "set", "lo", "up"])

    def cable(self, a, ifa, b, ifb, delay_ms=None):
        if delay_ms is None:
            self.run(["ip", "-n", self.ns(a), "link", "add", ifa, "type", "veth", "peer", "name",
                      ifb, "netns", self.ns(b)])
        else:
            self.run(["ip", "-n", self.ns(a), "tuntap", "add", "dev", ifa, "mode", "tap"])
            self.run(["ip", "-n", self.ns(b), "tuntap", "add", "dev", ifb, "mode", "tap"])
            self.wire_specs.append("%s,%s,%s,%s,%s" % (self.ns(a), ifa, self.ns(b), ifb, delay_ms))
        self.delay_of[(a, ifa)] = self.delay_of[(b, ifb)] = delay_ms or 0.0
        self.peer[(a, ifa)] = (b, ifb)
        self.peer[(b, ifb)] = (a, ifa)
        self.ifaces[a].append(ifa)
        self.ifaces[b].append(ifb)
        self.macs[(a, ifa)] = self.mac()
        self.macs[(b, ifb)] = self.mac()

    def build(self):
        p, n = self.plan, self.n
        ttl = p["ttl"]
        for node in path_nodes(n):
            self.add_node(node, ttl[node], router=node.startswith("r"))
        br = p.get("bridge")
        if br:
            self.add_node("bfw", ttl["bfw"])
        if p.get("switch"):
            self.add_node("sw", 64)
            self.add_node("nb", ttl["nb"])
        if p.get("spare"):
            self.add_node("t", ttl["t"])
        cap = p["capture"]
        if cap["point"] == "middle" and cap["how"] == "mirror":
            self.add_node("cap", 64)

        # cables
        self.link_ends = {}   # link i -> ((node, if) left end, (node, if) right end)
        for i in range(n + 1):
            nodes = path_nodes(n)
            a, b = nodes[i], nodes[i + 1]
            ifa, ifb = end_ifaces(i, n)
            self.ifaces_for_link(i, a, ifa, b, ifb)
        if p.get("spare"):
            self.cable("r%d" % n, "r%dt" % n, "t", "t0")
        if cap["point"] == "middle" and cap["how"] == "mirror":
            self.cable("r%d" % cap["router"], "r%dm" % cap["router"], "cap", "cap0")
            self.excluded.add(("r%d" % cap["router"], "r%dm" % cap["router"]))

        if self.wire_specs:
            wp = self.spawn("c", [PYTHON, "-u", os.path.join(HERE, "wires.py")] + self.wire_specs, "wires")
            self.wait_line("wires", wp, "READY")

        self.configure()

    def ifaces_for_link(self, i, a, ifa, b, ifb):
        p = self.plan
        delay = p["delays"][i]
        br = p.get("bridge")
        if br and br["link"] == i:
            self.cable(a, ifa, "bfw", "bfa", delay)
            self.cable("bfw", "bfb", b, ifb)
            self.link_ends[i] = ((a, ifa), (b, ifb))
        elif p.get("switch") and i == 0:
            self.cable(a, ifa, "sw", "swc")
            self.cable("sw", "swr", b, ifb, delay)
            self.cable("nb", "n0", "sw", "swn")
            self.link_ends[i] = ((a, ifa), (b, ifb))
        else:
            self.cable(a, ifa, b, ifb, delay)
            self.link_ends[i] = ((a, ifa), (b, ifb))

    def configure(self):
        p, n = self.plan, self.n
        cmds = {node: [] for node in self.nodes}
        later = {node: [] for node in self.nodes}   # neighbours and routes, once links are up
        shell = {node: [] for node in self.nodes}
        for (node, ifname), mac in self.macs.items():
            cmds[node].append("link set dev %s address %s" % (ifname, mac))
        # bridges
        for node, ports in (("bfw", ["bfa", "bfb"]), ("sw", ["swc", "swr", "swn"])):
            if node in self.nodes:
                cmds[node].append("link add br0 type bridge")
                cmds[node].append("link set dev br0 address %s" % self.mac())
                for port in ports:
                    cmds[node].append("link set dev %s master br0" % port)
                cmds[node].append("link set dev br0 up")
        self.addr = {}  # node -> {4: addr, 6: addr} (its main addresses)
        for i in range(n + 1):
            (la, ra) = self.link_ends[i]
            (l4, l6), (r4, r6), (b4, b6), (p4, p6) = link_addrs(i, n)
            for (node, ifname), a4, a6 in ((la, l4, l6), (ra, r4, r6)):
                cmds[node].append("addr add %s/%d dev %s" % (a4, p4, ifname))
                cmds[node].append("addr add %s/%d dev %s nodad" % (a6, p6, ifname))
                self.addr.setdefault(node, {4: a4, 6: a6})
            lmac, rmac = self.macs[la], self.macs[ra]
            for (node, ifname), addr4, addr6, mac in ((la, r4, r6, rmac), (ra, l4, l6, lmac)):
                later[node].append("neigh replace %s lladdr %s dev %s nud permanent" % (addr4, mac, ifname))
                later[node].append("neigh replace %s lladdr %s dev %s nud permanent" % (addr6, mac, ifname))
            if p.get("bridge") and p["bridge"]["link"] == i:
                cmds["bfw"].append("addr add %s/%d dev br0" % (b4, p4))
                cmds["bfw"].append("addr add %s/%d dev br0 nodad" % (b6, p6))
                later["bfw"].append("route add default dev br0")
                later["bfw"].append("route add ::/0 dev br0")
                self.addr["bfw"] = {4: b4, 6: b6}
        if "nb" in self.nodes:
            cmds["nb"].append("addr add %s/24 dev n0" % NB4)
            cmds["nb"].append("addr add %s/64 dev n0 nodad" % NB6)
            later["nb"].append("route add default via 192.0.2.1")
            later["nb"].append("route add default via 2001:db8:c::1")
            r1a = self.macs[("r1", "r1a")]
            later["nb"].append("neigh replace 192.0.2.1 lladdr %s dev n0 nud permanent" % r1a)
            later["nb"].append("neigh replace 2001:db8:c::1 lladdr %s dev n0 nud permanent" % r1a)
            n0 = self.macs[("nb", "n0")]
            later["r1"].append("neigh replace %s lladdr %s dev r1a nud permanent" % (NB4, n0))
            later["r1"].append("neigh replace %s lladdr %s dev r1a nud permanent" % (NB6, n0))
            if p.get("nb_static_neigh"):
                c0 = self.macs[("c", "c0")]
                later["nb"].append("neigh replace %s lladdr %s dev n0 nud permanent" % (CLIENT4, c0))
                later["nb"].append("neigh replace %s lladdr %s dev n0 nud permanent" % (CLIENT6, c0))
                later["c"].append("neigh replace %s lladdr %s dev c0 nud permanent" % (NB4, n0))
                later["c"].append("neigh replace %s lladdr %s dev c0 nud permanent" % (NB6, n0))
            self.addr["nb"] = {4: NB4, 6: NB6}
        if "t" in self.nodes:
            rt = self.macs[("r%d" % n, "r%dt" % n)]
            cmds["t"] += ["addr add %s/24 dev t0" % SERVER4, "addr add %s/64 dev t0 nodad" % SERVER6]
            later["t"] += ["neigh replace 198.51.100.1 lladdr %s dev t0 nud permanent" % rt,
                          "neigh replace 2001:db8:5::1 lladdr %s dev t0 nud permanent" % rt]
            t0 = self.macs[("t", "t0")]
            later["r%d" % n] += ["neigh replace %s lladdr %s dev r%dt nud permanent" % (SERVER4, t0, n),
                                "neigh replace %s lladdr %s dev r%dt nud permanent" % (SERVER6, t0, n)]
            self.addr["t"] = {4: SERVER4, 6: SERVER6}
        # links up (taps, veths, bridge ports), offloads off
        for node in self.nodes:
            for ifname in self.ifaces[node]:
                cmds[node].append("link set dev %s up" % ifname)
                shell[node].append("ethtool -K %s tx off sg off tso off gso off gro off >/dev/null 2>&1" % ifname)
        if "cap" in self.nodes:
            shell["cap"].append("sysctl -qw net.ipv6.conf.cap0.disable_ipv6=1")
            cmds["cap"].append("link set dev cap0 arp off")
            m = "r%d" % p["capture"]["router"]
            shell[m].append("sysctl -qw net.ipv6.conf.%sm.disable_ipv6=1" % m)
            cmds[m].append("link set dev %sm arp off" % m)
        # routes
        later["c"] += ["route add default via 192.0.2.1", "route add default via 2001:db8:c::1"]
        later["s"] += ["route add default via 198.51.100.1", "route add default via 2001:db8:5::1"]
        if "t" in self.nodes:
            later["t"] += ["route add default via 198.51.100.1", "route add default via 2001:db8:5::1"]
        for i in range(1, n + 1):
            r = "r%d" % i
            for j in range(n + 1):
                if j in (i - 1, i):
                    continue
                s4, s6 = link_subnet(j, n)
                if j < i - 1:
                    (g4, g6), _, _, _ = link_addrs(i - 1, n)
                else:
                    _, (g4, g6), _, _ = link_addrs(i, n)
                later[r] += ["route add %s via %s" % (s4, g4), "route add %s via %s" % (s6, g6)]
        for node in self.nodes:
            self.batch(node, cmds[node])
            self.batch(node, later[node])
            self.sh(node, "; ".join(shell[node]))
        if "bfw" in self.nodes:
            self.nsx("bfw", ["sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=1",
                             "net.bridge.bridge-nf-call-ip6tables=1"])
        if p.get("nat"):
            k = p["nat"]["router"]
            self.nft("r%d" % k, NAT_RULES % {"oif": "r%db" % k})
        for node in self.nodes:
            out = self.run(["ip", "-n", self.ns(node), "-j", "link", "show"]).stdout
            self.ifindex[node] = {l["ifindex"]: l["ifname"] for l in json.loads(out)}

    def mirror(self, router, ifname):
        dev = "%sm" % router
        self.nsx(router, ["tc", "qdisc", "add", "dev", ifname, "clsact"])
        for d in ("ingress", "egress"):
            self.nsx(router, ["tc", "filter", "add", "dev", ifname, d, "protocol", "all", "u32",
                              "match", "u32", "0", "0", "action", "mirred", "egress", "mirror",
                              "dev", dev])

    def addr_of(self, node, fam):
        return self.addr[node][fam]


NAT_RULES = """
table ip rsg_nat {
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "%(oif)s" masquerade
    }
}
"""
