"""The seed model: a seed (and optionally a forced scenario) -> a plan, as plain data.

Nothing here touches the system, so `generate.py --plan N` can print a plan without root.
Everything is drawn from random.Random("rstscope-lab-gen/<seed>") (string seeds are hashed
with SHA-512 by CPython's random module, so a seed gives the same plan on every machine and
Python 3 version). The scenario of a seed comes from a block permutation: seeds
K*b .. K*b+K-1 (K = the catalogue size) run every scenario exactly once, in an order drawn
from the block number b, so any K consecutive seeds cover the whole catalogue. The
scenario's main variant (family, stack, device kind, ...) cycles with the block number too,
so that three blocks show every main variant of every scenario.
"""
import math
import random

TTLS = [32, 64, 128, 255]
TTL_WEIGHTS = [1, 4, 2, 2]
MAX_ONE_WAY_MS = 160.0  # the sum of the per-link delays is scaled down to this

# name -> one-line description. The order is the catalogue's (and `--list`'s).
CATALOGUE = [
    ("refused-linux", "SYN to a closed port, refused by the Linux server's kernel"),
    ("stack-windows", "a Windows-like server stack (scapy): refusal, reset after ACKing a FIN, "
                      "bare RST with the ack field filled to a forgotten connection"),
    ("stack-bsd", "a BSD-like server stack (scapy): refusal, reset to a forgotten connection"),
    ("fw-reject-routed", "a routing firewall (TTL decremented) rejects SYNs with tcp reset"),
    ("fw-reject-bridge", "a transparent bridge firewall (no TTL decrement) rejects SYNs"),
    ("refused-onlink", "a host on the client's own L2 segment refuses a SYN"),
    ("refused-silent", "the capture holds only one SYN and the host's RST"),
    ("peer-abort", "the server application aborts (SO_LINGER {1,0}, or unread request data)"),
    ("local-abort", "the client aborts (SO_LINGER {1,0}): idle, rest unread, data in flight"),
    ("stale", "the server's address moves to a fresh host; the next segment is refused"),
    ("idle-timeout", "a stateful firewall drops an idle flow and resets the next segments"),
    ("fw-flush", "a stateful firewall loses its connection table mid-connection"),
    ("fw-policy", "a rule rejecting an established flow is added mid-transfer"),
    ("ips-reject", "an in-path IPS drops a request by payload match and resets it"),
    ("inject-own-ttl", "an out-of-band injector forges resets with its own TTL"),
    ("inject-ttl-copy", "an out-of-band injector copies the impersonated sender's TTL"),
    ("inject-ipid-copy", "an out-of-band injector copies the sender's TTL and IP ID pattern"),
    ("inject-late", "an out-of-band injector whose resets arrive after the real response"),
    ("nat-teardown", "a NAT gateway loses its state and resets both sides"),
    ("health-check", "connect and reset at once (SO_LINGER {1,0}), no data"),
    ("reset-after-close", "FIN both ways, then the client's RST (TCP_LINGER2 -1)"),
    ("scanner", "raw SYN probes with random TTLs; SYN-ACKs draw the client kernel's RST"),
    ("app-ttl", "a BGP-like app with its own IP TTL on a direct link; its kernel refuses later"),
    ("mixed", "several endpoint resets and one device reset in one capture"),
]
NAMES = [n for n, _ in CATALOGUE]
DESCRIPTIONS = dict(CATALOGUE)


def scenario_for(seed):
    k = len(NAMES)
    block = seed // k
    order = random.Random("rstscope-lab-gen/block/%d" % block).sample(NAMES, k)
    return order[seed % k], block


def loguniform(rng, lo, hi):
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def ttl(rng):
    return rng.choices(TTLS, TTL_WEIGHTS)[0]


def cycle(block, name, options):
    """The block's variant of a scenario: every len(options) blocks show every option."""
    off = sum(map(ord, name))
    return options[(block + off) % len(options)]


# ------------------------------------------------------------------------------------------
# Positions: node i of the path is 0 = client, 1..n = routers, n+1 = server. A bridge on link
# j (between nodes j and j+1) sits at j + 0.5. A reset "flow" is (emitter position, toward)
# with toward "c" (to the client) or "s" (to the server).

def passes(m, side, emit, toward):
    """Does a reset from `emit` toward `toward` cross router m's `side` interface?"""
    if toward == "c":
        return m <= emit if side == "l" else m < emit
    return m >= emit if side == "r" else m > emit


def capture_candidates(n, flows, allowed):
    cands = []
    if "client" in allowed and any(t == "c" for _, t in flows):
        cands.append(({"point": "client"}, 4))
    if "server" in allowed and any(t == "s" for _, t in flows):
        cands.append(({"point": "server"}, 3))
    if "middle" in allowed:
        mids = []
        for m in range(1, n + 1):
            for side in "lr":
                if any(passes(m, side, e, t) for e, t in flows):
                    mids.append((m, side))
        if mids:
            w = 3.0 / len(mids)
            for m, side in mids:
                for how, hw in (("iface", 1.0), ("mirror", 1.0), ("any", 1.0)):
                    cands.append(({"point": "middle", "how": how, "router": m, "side": side},
                                  w * hw / 3.0))
    return cands


def draw_capture(rng, n, flows, allowed=("client", "server", "middle")):
    cands = capture_candidates(n, flows, allowed)
    if not cands:
        raise ValueError("no capture point sees any of the planned resets %r" % (flows,))
    cap = dict(rng.choices([c for c, _ in cands], [w for _, w in cands])[0])
    if cap.get("how") == "any":
        cap["linktype"] = rng.choice(["LINUX_SLL2", "LINUX_SLL"])
    return cap


# ------------------------------------------------------------------------------------------

def baseline(rng, fam, amount=None):
    """Normal traffic around the resets: FIN-closed downloads and keep-alive sessions."""
    amount = rng.choice([0, 1, 1, 2, 3, 4]) if amount is None else amount
    ops = []
    for _ in range(amount):
        f = fam if rng.random() < 0.85 else (6 if fam == 4 else 4)
        if rng.random() < 0.55:
            ops.append(["get", f, rng.choice([300, 700, 2500, 12000, 40000])])
        else:
            ops.append(["keepalive", f, rng.randint(2, 4)])
    split = rng.randint(0, len(ops))
    return {"before": ops[:split], "after": ops[split:]}


def draw(seed, scenario=None):
    rng = random.Random("rstscope-lab-gen/%d" % seed)
    auto, block = scenario_for(seed)
    name = scenario or auto
    if name not in DESCRIPTIONS:
        raise ValueError("unknown scenario %s" % name)
    n = rng.randint(1, 8)
    p = {"seed": seed, "scenario": name, "block": block, "routers": n,
         "ttl": {"c": ttl(rng), "s": ttl(rng)}, "delays": [], "extras": {}}
    for i in range(1, n + 1):
        p["ttl"]["r%d" % i] = ttl(rng)
    delays = [loguniform(rng, 0.1, 150.0) for _ in range(n + 1)]
    total = sum(delays)
    if total > MAX_ONE_WAY_MS:
        delays = [d * MAX_ONE_WAY_MS / total for d in delays]
    p["delays"] = [max(0.1, round(d, 1)) for d in delays]
    # A NAT somewhere on the path, sometimes (IPv4 only; decided again per scenario below).
    p["nat"] = {"router": rng.randint(1, n)} if rng.random() < 0.25 else None
    p["bridge"] = None    # {"link": j, "role": "firewall"|"ips"}
    p["switch"] = False   # the client's segment is a switch with a neighbour host "nb"
    p["spare"] = False    # a spare host "t" beside the last router (stale)
    p["device"] = None    # {"kind": ..., "at": node name, ...}
    p["stack"] = "linux"  # the server's stack
    p["silent"] = False
    p["disable_ipv6"] = False
    p["server_idle"] = None
    SCENARIO_DRAW[name](rng, p, block)
    if p["nat"] and (p["family"] == 6 or (p["device"] and p["device"]["at"] == "r%d" % p["nat"]["router"])):
        p["nat"] = None
    if p["nat"] and p["device"] and p["device"]["kind"] == "nat":
        p["nat"] = None
    return p


def n_of(p):
    return p["routers"]


def pick_router(rng, p):
    return rng.randint(1, p["routers"])


def device_pos(p):
    d = p["device"]
    if d["at"] == "bfw":
        return p["bridge"]["link"] + 0.5
    return int(d["at"][1:])


def set_routed_or_bridge(rng, p, kind, role):
    """Place a firewall/IPS: in a router (decrements TTL) or a bridge on a link (does not)."""
    if kind == "bridge":
        j = rng.randint(0, p["routers"])
        p["bridge"] = {"link": j, "role": role}
        p["ttl"]["bfw"] = ttl(rng)
        return "bfw"
    return "r%d" % pick_router(rng, p)


# ---------------------------------------------------------------------------- scenario draws
# Each sets p["family"], p["device"], p["events"] (what the traffic does, in order),
# p["flows"] (the resets it plans, for the capture point) and p["capture"].

def ends(p):
    return 0, p["routers"] + 1


def d_refused_linux(rng, p, block):
    fam = cycle(block, "refused-linux", [4, 6])
    p["family"] = fam
    ports = rng.sample([81, 444, 8444, 3389, 25, 5432], rng.randint(1, 2))
    p["events"] = [["refused", fam, port] for port in ports]
    c, s = ends(p)
    p["flows"] = [(s, "c")]
    p["baseline"] = baseline(rng, fam)
    p["capture"] = draw_capture(rng, p["routers"], p["flows"])


def d_stack(style):
    def f(rng, p, block):
        name = "stack-" + style
        fam = cycle(block, name, [4, 6])
        p["family"] = fam
        p["stack"] = style
        p["ttl"]["s"] = 128 if style == "windows" else 64
        p["stack_ipid"] = rng.randint(1, 60000)
        ev = [["refused", fam, rng.choice([81, 445, 3389, 8444])]]
        opt = [["keepalive-close", fam], ["forget", fam]]
        rng.shuffle(opt)
        ev += opt[:rng.randint(1, 2)] if style == "windows" else [["forget", fam]]
        rng.shuffle(ev)
        p["events"] = ev
        c, s = ends(p)
        p["flows"] = [(s, "c")]
        p["baseline"] = baseline(rng, fam)
        p["capture"] = draw_capture(rng, p["routers"], p["flows"])
    return f


def d_fw_reject(kind):
    def f(rng, p, block):
        name = "fw-reject-" + kind
        fam = cycle(block, name, [4, 6])
        p["family"] = fam
        at = set_routed_or_bridge(rng, p, kind, "firewall")
        style = rng.choice(["dport", "ct-new"])
        p["device"] = {"kind": "fw-reject", "at": at, "port": 8443, "style": style}
        ev = [["fw-refused", fam, 8443] for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.5:
            ev.insert(rng.randint(0, len(ev)), ["refused", fam, 8444])
        p["events"] = ev
        p["flows"] = [(device_pos(p), "c")]
        p["baseline"] = baseline(rng, fam)
        p["capture"] = draw_capture(rng, p["routers"], p["flows"])
    return f


def d_refused_onlink(rng, p, block):
    fam = cycle(block, "refused-onlink", [4, 6])
    p["family"] = fam
    p["switch"] = True
    p["ttl"]["nb"] = ttl(rng)
    p["nb_static_neigh"] = rng.random() < 0.5  # else ARP / ND appear on the wire
    p["events"] = [["refused-nb", fam, rng.choice([22, 80, 443, 8080])]
                   for _ in range(rng.randint(1, 2))]
    if rng.random() < 0.5:
        p["events"].append(["refused", fam, 81])
    p["flows"] = [(0.5, "c")]
    p["baseline"] = baseline(rng, fam)
    p["capture"] = {"point": "client"}


def d_refused_silent(rng, p, block):
    p["family"] = 4
    p["silent"] = True
    p["disable_ipv6"] = True
    p["events"] = [["refused", 4, rng.choice([81, 444, 8444, 3389])]]
    p["flows"] = [(p["routers"] + 1, "c")]
    p["baseline"] = {"before": [], "after": []}
    p["nat"] = None
    p["capture"] = {"point": rng.choice(["client", "server"])}


def d_peer_abort(rng, p, block):
    fam = cycle(block, "peer-abort", [4, 6])
    p["family"] = fam
    mode = cycle(block // 2, "peer-abort", ["abort", "unread"])
    p["events"] = [[mode, fam]]
    if rng.random() < 0.4:
        p["events"].append([rng.choice(["abort", "unread"]), fam])
    p["flows"] = [(p["routers"] + 1, "c")]
    p["baseline"] = baseline(rng, fam)
    p["capture"] = draw_capture(rng, p["routers"], p["flows"])


def d_local_abort(rng, p, block):
    fam, at_server = cycle(block, "local-abort", [(6, True), (4, False), (4, True), (6, False)])
    p["family"] = fam
    modes = ["idle", "rest", "flight"]
    first = cycle(block, "local-abort-mode", modes)
    p["events"] = [["download-abort", fam, first]]
    if rng.random() < 0.5:
        p["events"].append(["download-abort", fam, rng.choice(modes)])
    p["flows"] = [(0, "s")]
    p["baseline"] = baseline(rng, fam)
    p["capture"] = {"point": "server"} if at_server else draw_capture(rng, p["routers"], p["flows"])


def d_stale(rng, p, block):
    fam = cycle(block, "stale", [4, 6])
    p["family"] = fam
    p["spare"] = True
    p["ttl"]["t"] = rng.choice([p["ttl"]["s"], ttl(rng)])
    p["events"] = [["stale", fam]]
    p["flows"] = [(p["routers"] + 1, "c")]
    p["baseline"] = baseline(rng, fam)
    p["capture"] = draw_capture(rng, p["routers"], p["flows"], ("client", "middle"))
    cap = p["capture"]
    if cap["point"] == "middle" and cap["router"] == p["routers"] and cap.get("how") != "any":
        cap["side"] = "l"  # the spare host hangs off rN's third port, not its server side


def stateful(rng, p, name, kind_options):
    kind = rng.choice(kind_options)
    return set_routed_or_bridge(rng, p, kind, "firewall")


def d_idle(rng, p, block):
    fam = cycle(block, "idle-timeout", [4, 6])
    p["family"] = fam
    at = stateful(rng, p, "idle-timeout", ["routed", "routed", "bridge"])
    ct = rng.choice([3, 4])
    silence = ct + rng.choice([1.0, 1.5])
    p["device"] = {"kind": "idle", "at": at, "timeout": ct, "silence": silence}
    p["server_idle"] = silence + 1.0
    p["events"] = [["idle", fam, silence]]
    pos = device_pos(p)
    p["flows"] = [(pos, "c"), (pos, "s")]
    p["baseline"] = baseline(rng, fam, rng.choice([0, 1, 2]))
    p["capture"] = draw_capture(rng, p["routers"], p["flows"])


def d_flush(rng, p, block):
    fam = cycle(block, "fw-flush", [4, 6])
    p["family"] = fam
    at = stateful(rng, p, "fw-flush", ["routed", "bridge"])
    p["device"] = {"kind": "flush", "at": at}
    p["events"] = [["duplex", fam, rng.uniform(0.3, 0.8)]]
    pos = device_pos(p)
    p["flows"] = [(pos, "c"), (pos, "s")]
    p["server_idle"] = 1.5
    p["baseline"] = baseline(rng, fam)
    p["capture"] = draw_capture(rng, p["routers"], p["flows"])


def d_policy(rng, p, block):
    fam = cycle(block, "fw-policy", [6, 4])
    p["family"] = fam
    at = stateful(rng, p, "fw-policy", ["routed", "bridge", "routed"])
    p["device"] = {"kind": "policy", "at": at, "port": 8000}
    p["events"] = [["duplex", fam, rng.uniform(0.3, 0.8)]]
    pos = device_pos(p)
    p["flows"] = [(pos, "c"), (pos, "s")]
    p["server_idle"] = 1.5
    p["baseline"] = baseline(rng, fam)
    p["capture"] = draw_capture(rng, p["routers"], p["flows"])


def d_ips(rng, p, block):
    fam = cycle(block, "ips-reject", [4, 6])
    p["family"] = fam
    kind = rng.choice(["routed", "routed", "bridge"])
    at = set_routed_or_bridge(rng, p, kind, "ips")
    p["device"] = {"kind": "ips", "at": at}
    p["server_idle"] = rng.choice([0.8, 1.2])
    p["events"] = [["blocked", fam] for _ in range(rng.randint(1, 2))]
    pos = device_pos(p)
    p["flows"] = [(pos, "c"), (0, "s")]
    p["baseline"] = baseline(rng, fam, rng.choice([1, 2, 3]))
    p["capture"] = draw_capture(rng, p["routers"], p["flows"])


def d_inject(mode):
    def f(rng, p, block):
        name = "inject-" + mode
        fam = 4 if mode == "ipid-copy" else cycle(block, name, [4, 6])
        p["family"] = fam
        k = pick_router(rng, p)
        targets = cycle(block // 2, name, [["c"], ["c", "s"], ["c"], ["s", "c"]])
        dev = {"kind": "injector", "at": "r%d" % k, "mode": mode, "targets": targets,
               "count": rng.choice([1, 2, 3]), "needle": "blocked.example",
               "flags": rng.choice(["RA", "RA", "R"]),
               "window": rng.choice([0, None]),
               "df": rng.random() < 0.3}
        dev["keepalive"] = mode == "ipid-copy" or rng.random() < 0.4
        if mode == "own-ttl":
            dev["ttl"] = rng.choice([40, 48, 59, 100, 120, 200, 250])
        if mode == "ipid-copy":
            dev["step"] = rng.randint(1, 3)
            dev["ttl_copy"] = rng.random() < 0.6
            if not dev["ttl_copy"]:
                dev["ttl"] = rng.choice([48, 64, 128])
        if mode == "late":
            dev["late_seq"] = rng.choice(["stale", "current"])
            dev["ttl_copy"] = rng.random() < 0.5
            if not dev["ttl_copy"]:
                dev["ttl"] = rng.choice([48, 64, 128, 250])
        else:
            # The forged resets should win the race: the real answer must travel at least a
            # few ms from the injection point to the server and back.
            beyond = sum(p["delays"][k:])
            if beyond < 3.0:
                p["delays"][k] = round(p["delays"][k] + rng.uniform(3.0, 12.0), 1)
        p["device"] = dev
        p["events"] = [["injected", fam]]
        if rng.random() < 0.3:
            p["events"].append(["injected", fam])
        p["flows"] = [(k, t) for t in targets] + [(0, "s"), (p["routers"] + 1, "c")]
        p["baseline"] = baseline(rng, fam)
        if "s" in targets and rng.random() < 0.5:
            p["capture"] = {"point": "server"}   # the forged reset seen at the receiving server
        else:
            p["capture"] = draw_capture(rng, p["routers"], [(k, t) for t in targets])
    return f


def d_nat(rng, p, block):
    p["family"] = 4
    k = pick_router(rng, p)
    how = cycle(block, "nat-teardown", ["flush", "timeout"])
    p["device"] = {"kind": "nat", "at": "r%d" % k, "how": how, "timeout": 3}
    p["nat"] = None
    if how == "flush":
        p["events"] = [["duplex", 4, rng.uniform(0.3, 0.8)]]
        p["server_idle"] = 1.5
    else:
        p["events"] = [["idle", 4, 4.5]]
        p["server_idle"] = 5.5
    p["flows"] = [(k, "c"), (k, "s")]
    p["baseline"] = baseline(rng, 4, rng.choice([0, 1, 2]))
    p["capture"] = draw_capture(rng, p["routers"], p["flows"])


def d_health(rng, p, block):
    fam = cycle(block, "health-check", [4, 6])
    p["family"] = fam
    p["events"] = [["probe", fam] for _ in range(rng.randint(1, 3))]
    p["flows"] = [(0, "s")]
    p["baseline"] = baseline(rng, fam)
    p["capture"] = draw_capture(rng, p["routers"], p["flows"])


def d_rac(rng, p, block):
    fam = cycle(block, "reset-after-close", [6, 4])
    p["family"] = fam
    p["events"] = [["linger2", fam]]
    p["flows"] = [(0, "s")]
    p["baseline"] = baseline(rng, fam)
    p["capture"] = draw_capture(rng, p["routers"], p["flows"])


def d_scanner(rng, p, block):
    fam = cycle(block, "scanner", [4, 6])
    p["family"] = fam
    ports = sorted(set([80, 8443] + rng.sample([21, 22, 23, 25, 110, 139, 443, 445, 3389, 8080],
                                                rng.randint(2, 6))))
    hops = p["routers"]
    p["events"] = [["scan", fam, ports, [rng.randint(hops + 2, 255) for _ in ports],
                    rng.randint(1024, 60000)]]
    p["flows"] = [(0, "s"), (p["routers"] + 1, "c")]
    p["nat"] = None  # raw probes through a NAT would be rewritten; keep the scanner's view
    p["baseline"] = baseline(rng, fam, rng.choice([0, 1, 2]))
    p["capture"] = draw_capture(rng, p["routers"], p["flows"])


def d_app_ttl(rng, p, block):
    fam = cycle(block, "app-ttl", [4, 6])
    p["family"] = fam
    app_ttl = cycle(block // 2, "app-ttl", [255, 1])
    p["app_ttl"] = app_ttl
    p["events"] = [["bgp", fam, app_ttl], ["refused-r1", fam, rng.choice([180, 646, 8179])]]
    p["flows"] = [(1, "c")]
    p["baseline"] = baseline(rng, fam)
    p["capture"] = {"point": "client"}


def d_mixed(rng, p, block):
    fam = rng.choice([4, 6])
    p["family"] = fam
    pool = [["refused", None, 81], ["abort", None], ["unread", None],
            ["download-abort", None, "rest"], ["download-abort", None, "flight"],
            ["probe", None], ["linger2", None]]
    ev = [list(e) for e in rng.sample(pool, rng.randint(2, 4))]
    for e in ev:
        e[1] = rng.choice([4, 6])
    at = set_routed_or_bridge(rng, p, rng.choice(["routed", "routed", "bridge"]), "firewall")
    p["device"] = {"kind": "fw-reject", "at": at, "port": 8443, "style": "dport"}
    ev.insert(rng.randint(0, len(ev)), ["fw-refused", rng.choice([4, 6]), 8443])
    p["events"] = ev
    p["flows"] = [(device_pos(p), "c"), (0, "s"), (p["routers"] + 1, "c")]
    p["baseline"] = baseline(rng, fam, rng.choice([2, 3, 4]))
    p["capture"] = draw_capture(rng, p["routers"], p["flows"], ("client", "middle"))


SCENARIO_DRAW = {
    "refused-linux": d_refused_linux,
    "stack-windows": d_stack("windows"),
    "stack-bsd": d_stack("bsd"),
    "fw-reject-routed": d_fw_reject("routed"),
    "fw-reject-bridge": d_fw_reject("bridge"),
    "refused-onlink": d_refused_onlink,
    "refused-silent": d_refused_silent,
    "peer-abort": d_peer_abort,
    "local-abort": d_local_abort,
    "stale": d_stale,
    "idle-timeout": d_idle,
    "fw-flush": d_flush,
    "fw-policy": d_policy,
    "ips-reject": d_ips,
    "inject-own-ttl": d_inject("own-ttl"),
    "inject-ttl-copy": d_inject("ttl-copy"),
    "inject-ipid-copy": d_inject("ipid-copy"),
    "inject-late": d_inject("late"),
    "nat-teardown": d_nat,
    "health-check": d_health,
    "reset-after-close": d_rac,
    "scanner": d_scanner,
    "app-ttl": d_app_ttl,
    "mixed": d_mixed,
}
assert set(SCENARIO_DRAW) == set(NAMES)
