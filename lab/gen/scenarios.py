"""Scenario machinery: devices (nftables, injector, user-space stacks), servers, the traffic
of each event, and what each traced reset means (label scenario and note)."""
import json, os, signal, time

from netlab import HERE, PYTHON, SERVER4, SERVER6, NB4, NB6, CLIENT4, CLIENT6, LabError

APPS = os.path.join(HERE, "apps.py")

# One server port per kind of event, so a reset's flow says which event it belongs to.
PORT = {"http": 80, "idle": 8000, "stale": 8001, "blocked": 8002, "linger2": 8003, "probe": 8004,
        "abort": 8080, "unread": 8081, "rest": 8090, "flight": 8091, "dl-idle": 8092,
        "duplex": 8093, "fw": 8443, "bgp": 179}
PORT_EVENT = {v: k for k, v in PORT.items()}


class Misbehaved(Exception):
    """The traffic did not go as planned (worth one retry)."""


def server_addr(fam):
    return SERVER4 if fam == 4 else SERVER6


def server_specs(p):
    si = p.get("server_idle") or 8
    specs = []
    for a in ((SERVER4,) if p.get("disable_ipv6") else (SERVER4, SERVER6)):
        specs += ["%s,80,http,idle=8" % a, "%s,8000,http,idle=%g" % (a, si),
                  "%s,8001,http,idle=20" % a, "%s,8002,http,idle=%g" % (a, si),
                  "%s,8003,http" % a, "%s,8004,http" % a, "%s,8080,abort" % a,
                  "%s,8081,unread" % a, "%s,8090,stream,rest=20000" % a,
                  "%s,8091,stream,trickle=20" % a, "%s,8092,http" % a,
                  "%s,8093,duplex,idle=3" % a, "%s,8443,http" % a]
    return specs


# ------------------------------------------------------------------------------------ roles

def roles(p):
    n = p["routers"]
    r = {"c": {"kind": "host", "who": "the client host"},
         "s": {"kind": "host", "who": {"linux": "the server host (Linux kernel)",
                                       "windows": "the server host (Windows-like stack, scapy)",
                                       "bsd": "the server host (BSD-like stack, scapy)"}[p["stack"]]}}
    for i in range(1, n + 1):
        r["r%d" % i] = {"kind": "router", "who": "router r%d" % i}
    if p.get("switch"):
        r["sw"] = {"kind": "switch", "who": "the switch of the client's segment"}
        r["nb"] = {"kind": "host", "who": "a neighbour host on the client's own segment"}
    if p.get("spare"):
        r["t"] = {"kind": "host", "who": "the spare host that took over the server's address"}
    if p.get("bridge"):
        r["bfw"] = {"kind": "bridge", "who": "a transparent bridge"}
    if p["scenario"] == "app-ttl":
        r["r1"] = {"kind": "host", "who": "r1 as a host (a BGP-like speaker on a direct link)"}
    d = p.get("device")
    if d:
        at = d["at"]
        where = ("a transparent bridge firewall (Linux bridge, br_netfilter + nftables inet "
                 "forward; no TTL decrement) on link %d" % p["bridge"]["link"]) if at == "bfw" else \
            "router %s (nftables, TTL decremented)" % at
        kind = d["kind"]
        if kind == "fw-reject":
            r[at] = {"kind": "firewall", "who": "the firewall, " + where}
        elif kind in ("idle", "flush", "policy"):
            r[at] = {"kind": "firewall", "who": "the stateful firewall (conntrack), " + where}
        elif kind == "nat":
            r[at] = {"kind": "nat", "who": "the NAT gateway (nftables masquerade + conntrack) on %s" % at}
        elif kind == "ips":
            r[at] = {"kind": "ips", "who": "the in-path IPS (nftables payload match), " +
                     where.replace("firewall", "IPS")}
        elif kind == "injector":
            r[at] = {"kind": "injector", "who": "the out-of-band injector (AF_PACKET, %s) beside %s"
                     % (d["mode"], at)}
    return r


TRUTH = {"host": "peer", "firewall": "firewall", "nat": "firewall", "ips": "middlebox",
         "injector": "middlebox"}


# ---------------------------------------------------------------------------------- devices

STATEFUL = """
table inet rsg_fw {
%(timeout)s
    chain forward {
        type filter hook forward priority filter; policy accept;
        ct state established,related accept
        ct state new tcp flags & (fin|syn|rst|ack) == syn accept
        meta l4proto tcp reject with tcp reset
    }
}
"""
CT_TIMEOUT = """
    ct timeout tcp-idle {
        protocol tcp; l3proto inet;
        policy = { established: %d, close_wait: %d, fin_wait: %d, last_ack: %d }
    }
    chain prerouting {
        type filter hook prerouting priority mangle; policy accept;
        meta l4proto tcp ct timeout set "tcp-idle"
    }
"""
NAT_GW = """
table ip rsg_natgw {
%(timeout)s
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "%(oif)s" masquerade
    }
    chain forward {
        type filter hook forward priority filter; policy accept;
        ct state established,related accept
        ct state new tcp flags & (fin|syn|rst|ack) == syn accept
        meta l4proto tcp reject with tcp reset
    }
}
"""
FW_REJECT = """
table inet rsg_fw {
    chain forward {
        type filter hook forward priority filter; policy accept;
        %s reject with tcp reset
    }
}
"""
IPS = """
table inet rsg_ips {
    chain forward {
        type filter hook forward priority filter; policy accept;
        tcp dport %d tcp doff 8 @th,256,96 0x474554202f626c6f636b6564 reject with tcp reset
    }
}
"""
STACK_DROP = """
table inet rsg_stack {
    chain prerouting {
        type filter hook prerouting priority raw; policy accept;
        meta l4proto tcp drop
    }
}
"""


def setup(lab, p, log):
    """Devices, stacks and servers; returns a state dict for the events."""
    st = {"notes": [], "injector": None, "stack": None}
    d = p.get("device")
    n = p["routers"]
    if d:
        at, kind = d["at"], d["kind"]
        if kind == "fw-reject":
            match = ("tcp dport %d tcp flags & (syn|ack) == syn" % d["port"] if d["style"] == "dport"
                     else "ct state new tcp dport %d" % d["port"])
            lab.nft(at, FW_REJECT % match)
            st["notes"].append("%s: nftables `%s reject with tcp reset`" % (at, match))
        elif kind in ("idle", "flush", "policy"):
            timeout = ""
            if kind == "idle":
                t = d["timeout"]
                timeout = CT_TIMEOUT % (t, t, t, t)
            lab.nft(at, STATEFUL % {"timeout": timeout})
        elif kind == "nat":
            timeout = ""
            if d["how"] == "timeout":
                t = d["timeout"]
                timeout = CT_TIMEOUT % (t, t, t, t)
            lab.nft(at, NAT_GW % {"timeout": timeout, "oif": "%sb" % at})
        elif kind == "ips":
            lab.nft(at, IPS % PORT["blocked"])
        elif kind == "injector":
            k = int(at[1:])
            cfg = dict(d)
            cfg.update({"left": "r%da" % k, "right": "r%db" % k})
            proc = lab.spawn(at, [PYTHON, "-u", os.path.join(HERE, "inject.py"), json.dumps(cfg)], "injector")
            lab.wait_line("injector", proc, "READY")
            st["injector"] = proc
    if p["stack"] != "linux":
        lab.nft("s", STACK_DROP)
        cfg = {"style": p["stack"], "iface": "s0", "mac": lab.macs[("s", "s0")],
               "gw_mac": lab.macs[("r%d" % n, "r%db" % n)], "addrs": [SERVER4, SERVER6],
               "listen": [PORT["http"], PORT["stale"]], "ipid": p.get("stack_ipid", 1)}
        proc = lab.spawn("s", [PYTHON, "-u", os.path.join(HERE, "stacks.py"), json.dumps(cfg)], "stack")
        lab.wait_line("stack", proc, "READY", timeout=30)
        st["stack"] = proc
    else:
        proc = lab.spawn("s", [PYTHON, "-u", APPS, "server"] + server_specs(p), "server")
        lab.wait_line("server", proc, "READY")
    if p.get("spare"):
        proc = lab.spawn("t", [PYTHON, "-u", APPS, "server", "%s,80,http" % SERVER4, "%s,80,http" % SERVER6], "spare")
        lab.wait_line("spare", proc, "READY")
    if p["scenario"] == "app-ttl":
        specs = ["192.0.2.1,179,bgp,ttl=%d" % p["app_ttl"], "2001:db8:c::1,179,bgp,ttl=%d" % p["app_ttl"]]
        proc = lab.spawn("r1", [PYTHON, "-u", APPS, "server"] + specs, "bgp")
        lab.wait_line("bgp", proc, "READY")
    return st


# ----------------------------------------------------------------------------------- events

class Runner:
    def __init__(self, lab, p, st, log):
        self.lab, self.p, self.st, self.log = lab, p, st, log
        self.steps = 0
        self.rtt = 2 * sum(p["delays"]) / 1000.0

    def client(self, *args, bg=False, timeout=40):
        self.steps += 1
        name = "client.%d" % self.steps
        argv = [PYTHON, "-u", APPS, "client"] + [str(a) for a in args]
        proc = self.lab.spawn("c", argv, name)
        if bg:
            return proc, name
        self.finish(proc, name, timeout)

    def finish(self, proc, name, timeout=40):
        try:
            rc = proc.wait(timeout)
        except Exception:
            self.lab.stop(proc)
            raise Misbehaved("%s did not finish" % name)
        out = self.lab.read_log(name).strip()
        for line in out.splitlines():
            self.log("    " + line)
        if rc != 0:
            raise Misbehaved("client step %s %s" % (name, out.splitlines()[-1] if out else "failed"))

    def baseline(self, ops):
        for op in ops:
            host = server_addr(op[1])
            if op[0] == "get":
                self.client("get", host, PORT["http"], op[2])
            else:
                self.client("keepalive", host, PORT["http"], op[2])

    def flag(self):
        path = os.path.join(self.lab.work, "flag.%d" % self.steps)
        return path

    def device_action(self):
        d = self.p["device"]
        at = d["at"]
        if d["kind"] == "flush" or (d["kind"] == "nat" and d["how"] == "flush"):
            out = self.lab.nsx(at, [PYTHON, os.path.join(HERE, "ctflush.py")]).stdout.strip()
            self.log("    %s: %s" % (at, out))
        elif d["kind"] == "policy":
            for m in ("tcp dport %d" % PORT["duplex"], "tcp sport %d" % PORT["duplex"]):
                self.lab.nsx(at, ["nft", "insert", "rule", "inet", "rsg_fw", "forward"] +
                             m.split() + ["reject", "with", "tcp", "reset"])
            self.log("    %s: inserted `tcp dport/sport %d reject with tcp reset`" % (at, PORT["duplex"]))

    def event(self, ev):
        kind, fam = ev[0], ev[1]
        S = server_addr(fam)
        if kind == "refused":
            self.client("refused", S, ev[2])
        elif kind == "fw-refused":
            self.client("refused", S, PORT["fw"])
        elif kind == "refused-nb":
            self.client("refused", NB4 if fam == 4 else NB6, ev[2])
        elif kind == "refused-r1":
            self.client("refused", "192.0.2.1" if fam == 4 else "2001:db8:c::1", ev[2])
        elif kind == "abort":
            self.client("abort", S, PORT["abort"])
        elif kind == "unread":
            self.client("unread", S, PORT["unread"])
        elif kind == "download-abort":
            port = {"idle": PORT["dl-idle"], "rest": PORT["rest"], "flight": PORT["flight"]}[ev[2]]
            self.client("download", S, port, ev[2])
        elif kind in ("stale", "forget"):
            flag = self.flag()
            proc, name = self.client("stale", S, PORT["stale"], flag, bg=True)
            self.lab.wait_line(name, proc, "WAITING", timeout=15)
            time.sleep(self.rtt + 0.05)  # let the client's last ACK arrive first
            if kind == "stale":
                n = self.p["routers"]
                host = "%s/%d" % (S, 32 if fam == 4 else 128)
                self.lab.nsx("r%d" % n, ["ip"] + (["-6"] if fam == 6 else []) +
                             ["route", "add", host, "dev", "r%dt" % n])
                self.log("    r%d: route %s now points to the spare host" % (n, host))
            else:
                os.kill(self.st["stack"].pid, signal.SIGUSR1)
                time.sleep(0.1)
            open(flag, "w").close()
            self.finish(proc, name)
        elif kind == "keepalive-close":
            self.client("keepalive", S, PORT["http"], 2)
            time.sleep(0.2 + self.rtt)
        elif kind == "idle":
            self.client("idle", S, PORT["idle"], ev[2])
            si = self.p.get("server_idle") or 8
            time.sleep(max(0.3, si - ev[2]) + 0.5 + self.rtt)
        elif kind == "duplex":
            proc, name = self.client("duplex", S, PORT["duplex"], bg=True)
            self.lab.wait_line(name, proc, "RUNNING", timeout=15)
            time.sleep(ev[2])
            self.device_action()
            self.finish(proc, name)
            time.sleep(0.3 + self.rtt)
        elif kind == "blocked":
            self.client("blocked", S, PORT["blocked"])
            time.sleep((self.p.get("server_idle") or 1) + 0.4 + self.rtt)
        elif kind == "injected":
            ka = self.p["device"]["mode"] == "ipid-copy" or self.p["device"].get("keepalive")
            self.client("injected", S, PORT["http"], self.p["device"]["needle"], *(["ka"] if ka else []))
            time.sleep(0.3 + self.rtt)
        elif kind == "probe":
            self.client("probe", S, PORT["probe"])
        elif kind == "linger2":
            self.client("linger2", S, PORT["linger2"])
        elif kind == "scan":
            ports, ttls, sport = ev[2], ev[3], ev[4]
            self.steps += 1
            name = "scan.%d" % self.steps
            proc = self.lab.spawn("c", [PYTHON, "-u", os.path.join(HERE, "scan.py"), S, str(sport)] +
                                  ["%d:%d" % pt for pt in zip(ports, ttls)], name)
            self.finish(proc, name, timeout=60)
        elif kind == "bgp":
            self.client("bgp", "192.0.2.1" if fam == 4 else "2001:db8:c::1", PORT["bgp"], ev[2])
        else:
            raise LabError("unknown event %s" % kind)

    def run(self):
        p = self.p
        self.baseline(p["baseline"]["before"])
        for ev in p["events"]:
            self.log("  event %s" % json.dumps(ev))
            self.event(ev)
        self.baseline(p["baseline"]["after"])
        time.sleep(0.4 + 2 * self.rtt)


# ---------------------------------------------------------------------------- classification

DEVICE_LABEL = {
    "fw-reject": ("policy_reject", "the firewall's rule rejected a SYN to port %(port)d with a reset "
                                  "in the server's name"),
    "idle": ("idle_timeout", "its conntrack entry had expired after %(timeout)d s idle; the firewall "
                             "rejected the next segment of the connection it no longer knew"),
    "flush": ("state_loss", "its connection table had been flushed (conntrack flush, like a "
                            "failover); it rejected the next segment of the connection"),
    "policy": ("policy_change", "a rule rejecting this established flow had just been added; "
                                "the firewall rejected its next segment"),
    "nat": ("nat_teardown", "the NAT gateway had lost its translation state (%(how)s); it reset "
                            "the next segment"),
    "ips": ("ips_block", "the IPS matched 'GET /blocked' in the payload, dropped the request and "
                         "reset the connection"),
    "injector": ("injection", "forged by the out-of-band injector (%(mode)s); the real packets "
                              "still passed"),
}


def what_it_answered(ctx):
    t = ctx.get("trigger")
    if not t:
        return "a segment not seen at this capture point"
    fl, plen = t
    if fl & 0x02 and fl & 0x10:
        return "a SYN-ACK"
    if fl & 0x02:
        return "a SYN"
    if fl & 0x01:
        return "a FIN" + (" with data" if plen else "")
    if plen:
        return "a data segment"
    return "an ACK"


def classify(p, node, role, d, ctx, inj_log):
    """(label scenario, what happened) for a reset that `node` emitted."""
    dev = p.get("device") or {}
    kind = role["kind"]
    if kind in ("firewall", "nat", "ips", "injector"):
        label, text = DEVICE_LABEL[dev["kind"]]
        text = text % dev
        if dev["kind"] == "nat" and ctx.get("src_is_gateway"):
            text += " (the server's segment was addressed to the gateway's own public address, " \
                    "which had no socket for it: the gateway kernel's own RST)"
        if kind == "injector":
            text += "; the real response %s" % ("had already reached this capture point" if ctx.get("real_before")
                                                 else "had not reached this capture point yet")
            if inj_log:
                text += "; forged with TTL %s, IP ID %s" % (inj_log.get("ttl"), inj_log.get("ip_id"))
        return label, text
    port = ctx.get("server_port")
    ev = PORT_EVENT.get(port)
    who = role["who"]
    if ctx.get("answers_syn"):
        if node == "r1" and p["scenario"] == "app-ttl":
            return "refused", "r1's kernel refused a SYN to its closed port %s at its default TTL " \
                              "(its BGP-like application had used IP TTL %d)" % (port, p["app_ttl"])
        return "refused", "%s answered a SYN to closed port %s" % (who.split(" (")[0], port)
    if node == "t":
        return "stale", "the host that took over the server's address had no socket for this " \
                        "connection and answered %s" % what_it_answered(ctx)
    if node == "s":
        if p["stack"] != "linux":
            if ev == "stale":
                extra = ""
                if d["flags"] & 0x10 == 0 and d["ack_raw"]:
                    extra = " (ack field %d filled although the ACK flag is off)" % d["ack_raw"]
                return "stale", "the %s-like stack had forgotten the connection (a reboot) and " \
                                "answered %s with a bare RST%s" % (p["stack"], what_it_answered(ctx), extra)
            if p["stack"] == "windows" and ctx.get("trigger") and ctx["trigger"][0] & 0x01:
                return "abort_on_close", "the Windows-like stack ACKed the client's FIN, then reset " \
                                         "instead of sending its own FIN"
        if ev == "abort":
            return "abort", "the server application closed with SO_LINGER {1,0} mid-response"
        if ev == "unread":
            return "unread_data", "the server application closed with request data unread: its " \
                                  "kernel sent RST instead of FIN"
        return "no_socket", "the server host answered %s for a connection it no longer had" % what_it_answered(ctx)
    if node == "c":
        if ev in ("rest", "flight", "dl-idle"):
            if ctx.get("first_in_flow"):
                how = {"rest": "with the rest of the download unread in its buffer",
                       "flight": "while the download was still in flight",
                       "dl-idle": "on an idle keep-alive connection"}[ev]
                return "local_abort", "the client application aborted %s (SO_LINGER {1,0})" % how
            return "local_abort", "after its abort the client's kernel answered %s still in flight" \
                                  % what_it_answered(ctx)
        if ev == "probe":
            return "health_check", "the client connected and reset at once (SO_LINGER {1,0}), no data"
        if ev == "linger2":
            return "reset_after_close", "after FINs both ways the client (TCP_LINGER2 -1, no " \
                                        "FIN_WAIT2) answered the server's FIN with a reset"
        if p["scenario"] == "scanner":
            return "no_socket", "the client's kernel answered %s to a raw scanner SYN (scapy, " \
                                "random TTL) it had no socket for" % what_it_answered(ctx)
        if p["stack"] == "windows" and ev == "http":
            return "no_socket", "the client's kernel answered %s after the Windows-like reset" % what_it_answered(ctx)
        return "no_socket", "the client's kernel answered %s for a connection it no longer had " \
                            "(reset earlier on the path or by the peer)" % what_it_answered(ctx)
    if node == "nb":
        return "refused", "the neighbour host answered %s" % what_it_answered(ctx)
    if node == "r1":
        return "refused", "r1's kernel answered %s" % what_it_answered(ctx)
    return "unexpected", "%s sent this reset" % who


def required_emitters(p, visible):
    """Nodes whose resets must appear at this capture point for the seed to count as planned."""
    d = p.get("device")
    need = set()
    if d and visible(d):
        need.add(d["at"])
    sc = p["scenario"]
    if sc in ("refused-linux", "stack-windows", "stack-bsd", "peer-abort", "refused-silent") and \
            p["capture"]["point"] != "server":
        need.add("s")
    if sc == "refused-onlink":
        need.add("nb")
    if sc == "stale":
        need.add("t")
    if sc == "app-ttl":
        need.add("r1")
    if sc in ("local-abort", "health-check", "reset-after-close") and p["capture"]["point"] != "client":
        need.add("c")
    if sc in ("local-abort", "health-check", "reset-after-close") and p["capture"]["point"] == "client":
        need.add("c")
    return need
