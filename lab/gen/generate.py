#!/usr/bin/env python3
"""rstscope lab generator: seeded topologies and scenarios, recorded with traced ground truth.

usage: sudo python3 lab/gen/generate.py [--seed N ...] [--sweep A-B ...] [--scenario NAME ...]
                                        [--keep-work] OUT_DIR
       python3 lab/gen/generate.py --list              (the scenario catalogue)
       python3 lab/gen/generate.py --plan N [--scenario NAME]   (print a seed's plan; no root)

For each seed (times each --scenario, when some are named) it draws a plan from the seed
(plan.py), builds it in network namespaces rsg<PID>-* (netlab.py), runs bounded traffic
(scenarios.py), captures every namespace and the chosen capture point, traces every RST of
the capture back to the namespace that emitted it (trace.py) and writes
OUT_DIR/s<seed>-<scenario>.pcap and .labels.json. A seed whose traffic does not go as
planned (no reset where one was planned, a client step that ends otherwise, an untraceable
reset) is retried once, then reported as failed; the other seeds still run. Exit status: 0
all seeds written, 1 some failed, 2 usage. See lab/gen/README.md.
"""
import argparse, datetime, json, os, shutil, signal, subprocess, sys, tempfile, time, traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # keep lab/gen free of __pycache__

import plan as planmod  # noqa: E402
import tracer as tr  # noqa: E402
from netlab import Lab, LabError, CLIENT4, CLIENT6, SERVER4, SERVER6, link_addrs  # noqa: E402
from scenarios import (Misbehaved, Runner, TRUTH, classify, required_emitters, roles,  # noqa: E402
                       setup, PORT_EVENT)

LIVE = []  # labs to tear down on any exit


def log(msg):
    print("[gen] " + msg, file=sys.stderr, flush=True)


def on_signal(signum, _frame):
    raise KeyboardInterrupt("signal %d" % signum)


def cleanup_all():
    for lab in list(LIVE):
        try:
            lab.teardown()
        except Exception:
            pass
        LIVE.remove(lab)


# ---------------------------------------------------------------------------------- capture

def start_captures(lab, p):
    traces, procs = {}, []
    for node in lab.nodes:
        if node == "cap":
            continue
        path = os.path.join(lab.work, "trace-%s.pcap" % node)
        proc = lab.spawn(node, ["tcpdump", "-Z", "root", "--immediate-mode", "-B", "4096", "-i", "any",
                                "-y", "LINUX_SLL2", "-s", "200", "-U", "-n", "-w", path, "tcp"], "tcpdump-%s" % node)
        traces[node] = path
        procs.append(("tcpdump-%s" % node, proc))
    cap = p["capture"]
    final = os.path.join(lab.work, "final.pcap")
    if cap["point"] == "client":
        node, argv = "c", ["-i", "c0"]
    elif cap["point"] == "server":
        node, argv = "s", ["-i", "s0"]
    else:
        r = "r%d" % cap["router"]
        ifname = "%s%s" % (r, "a" if cap["side"] == "l" else "b")
        if cap["how"] == "iface":
            node, argv = r, ["-i", ifname]
        elif cap["how"] == "mirror":
            lab.mirror(r, ifname)
            node, argv = "cap", ["-i", "cap0"]
        else:
            node, argv = r, ["-i", "any", "-y", cap["linktype"]]
    # whole frames (the lab's MTU is 1500), a buffer that takes a burst in immediate mode
    proc = lab.spawn(node, ["tcpdump", "-Z", "root", "--immediate-mode", "-B", "8192", "-s", "2048"] + argv +
                     ["-U", "-n", "-w", final],
                     "tcpdump-final")
    procs.append(("tcpdump-final", proc))
    for name, proc in procs:
        lab.wait_line(name, proc, "listening on", timeout=15)
    return traces, final, procs


def stop_captures(lab, procs):
    time.sleep(0.2)
    for name, proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
    for name, proc in procs:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            lab.stop(proc, signal.SIGKILL)
        stats = {}
        for line in lab.read_log(name).splitlines():
            for what in ("packets captured", "packets received by filter", "packets dropped by kernel"):
                if line.strip().endswith(what) and line.split()[0].isdigit():
                    stats[what] = int(line.split()[0])
        if len(stats) < 3:
            raise Misbehaved("%s did not report its counts: %s" % (name, lab.read_log(name)[-300:]))
        if stats["packets dropped by kernel"] or stats["packets captured"] < stats["packets received by filter"]:
            raise Misbehaved("%s lost packets: %s" % (name, stats))


# ------------------------------------------------------------------------------------ labels

def path_string(p):
    n = p["routers"]
    nodes = ["c"] + ["r%d" % i for i in range(1, n + 1)] + ["s"]
    dev = p.get("device") or {}
    parts = []
    for i, node in enumerate(nodes):
        tags = ["ttl %d" % p["ttl"][node]]
        if p.get("nat") and node == "r%d" % p["nat"]["router"]:
            tags.append("NAT")
        if dev.get("at") == node:
            tags.append(dev["kind"])
        if p["stack"] != "linux" and node == "s":
            tags.append(p["stack"] + "-like")
        parts.append("%s(%s)" % (node, ", ".join(tags)))
        if i < len(nodes) - 1:
            link = "~%gms~" % p["delays"][i]
            br = p.get("bridge")
            if br and br["link"] == i:
                link = "%s [bfw(ttl %d, bridge %s)] --" % (link, p["ttl"]["bfw"], dev.get("kind", "?"))
            if p.get("switch") and i == 0:
                link = "-- [sw: nb(ttl %d)] %s" % (p["ttl"]["nb"], link)
            parts.append(link)
    s = " ".join(parts)
    if p.get("spare"):
        s += "  (spare host t(ttl %d) beside r%d)" % (p["ttl"]["t"], n)
    return s


def position(p, node):
    n = p["routers"]
    if node == "c":
        return "c, %d router(s) from the server" % n
    if node in ("s", "t"):
        return "%s, %d router(s) from the client" % (node, n)
    if node == "nb":
        return "nb, on the client's own L2 segment"
    if node == "bfw":
        return "bfw, a bridge on link %d, which does not count as a hop" % p["bridge"]["link"]
    return "%s, router %s of %d counted from the client" % (node, node[1:], n)


def capture_desc(p):
    cap = p["capture"]
    if cap["point"] == "client":
        return "Captured at the client (tcpdump on c0 in the client namespace)."
    if cap["point"] == "server":
        return "Captured at the server (tcpdump on s0 in the server namespace)."
    r = "r%d" % cap["router"]
    ifname = "%s%s" % (r, "a" if cap["side"] == "l" else "b")
    if cap["how"] == "iface":
        return "Captured in the middle: tcpdump on %s's interface %s (%s side)." % (
            r, ifname, "client" if cap["side"] == "l" else "server")
    if cap["how"] == "mirror":
        return ("Captured in the middle: a mirror port (tc mirred of both directions of %s's "
                "interface %s to a capture-only namespace)." % (r, ifname))
    return ("Captured in the middle: tcpdump -i any on %s (%s), so forwarded segments appear twice, "
            "before and after the router (one TTL apart); the second copy of a RST carries copy_of."
            % (r, cap["linktype"]))


def specifics(p):
    parts = ["IPv%d, %d router(s), one-way delay %.1f ms" % (p["family"], p["routers"], sum(p["delays"]))]
    if p.get("device"):
        parts.append("resets from " + roles(p)[p["device"]["at"]]["who"])
    if p.get("nat"):
        parts.append("a NAT (masquerade) on r%d" % p["nat"]["router"])
    if p["stack"] != "linux":
        parts.append("a %s-like server stack" % p["stack"])
    if p.get("switch"):
        parts.append("a neighbour host on the client's segment")
    if p.get("spare"):
        parts.append("a spare host beside r%d" % p["routers"])
    return "Seed %d: %s." % (p["seed"], "; ".join(parts))


def iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def flow_context(frames):
    """Per-flow ordered TCP packets of the final capture."""
    flows = {}
    for fr in frames:
        d = fr["tcp"]
        if d is None:
            continue
        k = frozenset([(d["src"], d["sport"]), (d["dst"], d["dport"])])
        flows.setdefault(k, []).append(fr)
    return flows


def context(fr, flows, p, needle):
    d = fr["tcp"]
    k = frozenset([(d["src"], d["sport"]), (d["dst"], d["dport"])])
    before = [x for x in flows.get(k, []) if x["frame"] < fr["frame"]]
    mine = (d["src"], d["sport"])
    ctx = {"trigger": None, "answers_syn": False, "first_in_flow": True, "real_before": False}
    for x in reversed(before):
        t = x["tcp"]
        if (t["src"], t["sport"]) != mine and not t["flags"] & 0x04:
            ctx["trigger"] = (t["flags"], t["plen"])
            break
    sent_before = [x for x in before if (x["tcp"]["src"], x["tcp"]["sport"]) == mine]
    ctx["first_in_flow"] = not any(x["tcp"]["flags"] & 0x04 for x in sent_before)
    syns = [x for x in flows.get(k, []) if x["tcp"]["flags"] & 0x12 == 0x02]
    ctx["server_port"] = syns[0]["tcp"]["dport"] if syns else None
    if ctx["server_port"] is None:
        for port in (d["sport"], d["dport"]):
            if port in PORT_EVENT:
                ctx["server_port"] = port
    if ctx["trigger"] and ctx["trigger"][0] & 0x12 == 0x02 and d["flags"] & 0x10 and \
            not any(not x["tcp"]["flags"] & 0x04 for x in sent_before):
        ctx["answers_syn"] = True
    # injector: did the real response pass this capture point before the forged reset?
    req = [x for x in before if (x["tcp"]["src"], x["tcp"]["sport"]) != mine and needle and
           needle in x["tcp"]["payload"]]
    if req:
        ctx["real_before"] = any(x["frame"] > req[0]["frame"] and x["tcp"]["plen"] and
                                 (x["tcp"]["src"], x["tcp"]["sport"]) == mine for x in before)
    dev = p.get("device") or {}
    if dev.get("kind") == "nat":
        k_ = int(dev["at"][1:])
        _, _, _, _ = link_addrs(k_, p["routers"])
        (l4, _l6), _, _, _ = link_addrs(k_, p["routers"])
        ctx["src_is_gateway"] = d["src"] == l4
    return ctx


def build_labels(lab, p, traces, final):
    occs = tr.load_traces(traces, lab.ifindex, lab.excluded)
    frames = tr.final_frames(final)
    flows = flow_context(frames)
    cap = p["capture"]
    if cap["point"] == "client":
        node, ifnames = "c", {"c0"}
    elif cap["point"] == "server":
        node, ifnames = "s", {"s0"}
    else:
        node = "r%d" % cap["router"]
        ifname = "%s%s" % (node, "a" if cap["side"] == "l" else "b")
        ifnames = None if cap["how"] == "any" else {ifname}
    rl = roles(p)
    dev = p.get("device") or {}
    inj = []
    if dev.get("kind") == "injector":
        for line in lab.read_log("injector").splitlines():
            if line.startswith("{"):
                inj.append(json.loads(line))
    rsts, starts, used = [], {}, set()
    for fr in frames:
        d = fr["tcp"]
        if d is None or not d["flags"] & 0x04:
            continue
        o = tr.start_occ(fr, occs, node, ifnames, lab.ifindex, used)
        emitter, chain = tr.walk(o, occs, lab.peer, lab.delay_of)
        copy_of = None
        for c in chain[1:]:
            if id(c) in starts:
                copy_of = starts[id(c)]
                break
        starts[id(o)] = fr["frame"]
        role = rl.get(emitter)
        if role is None or role["kind"] not in TRUTH:
            raise tr.Untraceable("frame %d (%s) was emitted by %s (%s), which the plan gives no "
                                 "reason to reset" % (fr["frame"], tr.describe(d), emitter,
                                                      role["who"] if role else "?"))
        ctx = context(fr, flows, p, (dev.get("needle") or "").encode() or None)
        injlog = None
        if role["kind"] == "injector":
            for e in inj:
                if e.get("seq") == d["seq"] and (e.get("ip_id") is None or e.get("ip_id") == d["ip_id"]):
                    injlog = e
        label, what = classify(p, emitter, role, d, ctx, injlog)
        hops = sorted({c.node for c in chain if c.dir == "out" and c.node.startswith("r")
                       and c.node != emitter and rl.get(c.node, {}).get("kind") != "host"})
        if role["kind"] == "injector" and injlog:
            init = injlog.get("ttl")
        else:
            init = p["ttl"].get(emitter)
        note = "Sent by %s (%s; initial TTL %s, %d router(s) before this capture point): %s" % (
            role["who"], position(p, emitter), init, len(hops), what)
        entry = {"src": d["src"], "sport": d["sport"], "dst": d["dst"], "dport": d["dport"],
                 "seq": d["seq"], "truth": TRUTH[role["kind"]], "scenario": label, "note": note,
                 "frame": fr["frame"], "ts": iso(fr["ts"]), "flags": tr.flag_str(d["flags"]),
                 "ack": d["ack_raw"] if d["flags"] & 0x10 else None, "ttl": d["ttl"],
                 "ip_id": d["ip_id"], "sent_by": emitter}
        if copy_of is not None:
            entry["copy_of"] = copy_of
            entry["note"] += " (the same segment as frame %d, seen again on the router's other side)" % copy_of
        rsts.append(entry)
    return frames, rsts


def lab_doc(p):
    n = p["routers"]
    dev = p.get("device")
    doc = {"path": path_string(p), "routers": n,
           "client_initial_ttl": p["ttl"]["c"], "server_initial_ttl": p["ttl"]["s"],
           "router_initial_ttls": {"r%d" % i: p["ttl"]["r%d" % i] for i in range(1, n + 1)},
           "node_initial_ttls": dict(p["ttl"]),
           "link_delays_ms": p["delays"], "one_way_delay_ms": round(sum(p["delays"]), 1),
           "delay_method": "tap pairs joined by a user-space wire (lab/gen/wires.py); this kernel has no netem",
           "reset_sources_by_role": {}, "client": [CLIENT4, CLIENT6], "server": [SERVER4, SERVER6],
           "seed": p["seed"], "scenario": p["scenario"], "family": p["family"],
           "server_stack": p["stack"], "capture": p["capture"], "events": p["events"],
           "baseline": p["baseline"], "nat": p.get("nat"), "bridge": p.get("bridge"),
           "generator": "lab/gen/generate.py"}
    if dev:
        doc["device"] = dev
        doc["reset_sources_by_role"][dev["at"]] = roles(p)[dev["at"]]["kind"]
    if p.get("switch"):
        doc["neighbour"] = {"addr": ["192.0.2.20", "2001:db8:c::20"], "static_neighbours": p.get("nb_static_neigh")}
    return doc


def visible_fn(p):
    n = p["routers"]

    def visible(dev):
        at = dev["at"]
        pos = p["bridge"]["link"] + 0.5 if at == "bfw" else int(at[1:])
        flows = [(e, t) for e, t in p["flows"] if e == pos]
        cap = p["capture"]
        for e, t in flows:
            if cap["point"] == "client" and t == "c":
                return True
            if cap["point"] == "server" and t == "s":
                return True
            if cap["point"] == "middle":
                sides = "lr" if cap["how"] == "any" else cap["side"]
                if any(planmod.passes(cap["router"], s, e, t) for s in sides):
                    return True
        return False
    return visible


# ------------------------------------------------------------------------------------- seeds

def attempt(p, out_dir, keep_work):
    work = tempfile.mkdtemp(prefix="rsg-%d-" % p["seed"])
    lab = Lab(p, work, log)
    LIVE.append(lab)
    ok = False
    try:
        lab.build()
        st = setup(lab, p, log)
        traces, final, procs = start_captures(lab, p)
        time.sleep(0.3)
        try:
            Runner(lab, p, st, log).run()
        finally:
            stop_captures(lab, procs)
        frames, rsts = build_labels(lab, p, traces, final)
        if not rsts:
            raise Misbehaved("no RST in the capture")
        emitters = {r["sent_by"] for r in rsts}
        need = required_emitters(p, visible_fn(p))
        if need - emitters:
            raise Misbehaved("planned resets from %s missing at the capture point (got %s)"
                             % (", ".join(sorted(need - emitters)), ", ".join(sorted(emitters))))
        if p.get("silent") and len(frames) != 2:
            raise Misbehaved("the silent capture holds %d frames, not SYN + RST" % len(frames))
        name = "s%d-%s" % (p["seed"], p["scenario"])
        doc = {"capture_point": p["capture"]["point"], "scenario": p["scenario"],
               "description": "%s. %s %s" % ((lambda s: s[0].upper() + s[1:])(planmod.DESCRIPTIONS[p["scenario"]]),
                                             specifics(p), capture_desc(p)),
               "lab": lab_doc(p), "packets": len(frames), "rsts": rsts}
        os.makedirs(out_dir, exist_ok=True)
        shutil.copyfile(final, os.path.join(out_dir, name + ".pcap"))
        with open(os.path.join(out_dir, name + ".labels.json"), "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        uid, gid = os.environ.get("SUDO_UID"), os.environ.get("SUDO_GID")
        if uid and gid:
            for ext in (".pcap", ".labels.json"):
                os.chown(os.path.join(out_dir, name + ext), int(uid), int(gid))
        ok = True
        counts = {}
        for r in rsts:
            counts[r["truth"]] = counts.get(r["truth"], 0) + 1
        return name, len(frames), counts
    finally:
        lab.teardown()
        if lab in LIVE:
            LIVE.remove(lab)
        if keep_work or not ok:
            dst = os.path.join(tempfile.gettempdir(), "rsg-last-%d-%s" % (p["seed"], p["scenario"]))
            if keep_work or os.environ.get("RSG_KEEP_FAILED"):
                shutil.rmtree(dst, ignore_errors=True)
                shutil.move(work, dst)
                log("  work files kept in %s" % dst)
            else:
                shutil.rmtree(work, ignore_errors=True)
        else:
            shutil.rmtree(work, ignore_errors=True)


def run_seed(seed, scenario, out_dir, keep_work):
    p = planmod.draw(seed, scenario)
    log("seed %d: %s, %d router(s), IPv%d, capture %s%s" % (
        seed, p["scenario"], p["routers"], p["family"], p["capture"]["point"],
        "" if p["capture"]["point"] != "middle" else " (%s on r%d)" % (p["capture"]["how"], p["capture"]["router"])))
    log("  path %s" % path_string(p))
    err = None
    for n in (1, 2):
        t0 = time.monotonic()
        try:
            name, packets, counts = attempt(p, out_dir, keep_work)
            log("  wrote %s: %d packets, resets %s, %.1f s" % (
                name, packets, " ".join("%s=%d" % kv for kv in sorted(counts.items())), time.monotonic() - t0))
            return None, time.monotonic() - t0
        except (Misbehaved, tr.Untraceable, LabError) as e:
            err = "%s: %s" % (type(e).__name__, e)
            log("  attempt %d failed after %.1f s: %s" % (n, time.monotonic() - t0, err))
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as e:
            err = "internal error: %r" % e
            log("  attempt %d failed: %s" % (n, traceback.format_exc()))
    return err, None


def parse_range(s):
    a, _, b = s.partition("-")
    a, b = int(a), int(b or a)
    if b < a:
        raise argparse.ArgumentTypeError("empty seed range %s" % s)
    return list(range(a, b + 1))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="generate.py", description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, action="append", default=[], metavar="N")
    ap.add_argument("--sweep", type=parse_range, action="append", default=[], metavar="A-B")
    ap.add_argument("--scenario", action="append", default=[], metavar="NAME",
                    help="force this scenario (repeatable: each seed runs each named scenario)")
    ap.add_argument("--list", action="store_true", help="print the scenario catalogue and exit")
    ap.add_argument("--plan", type=int, metavar="N", help="print seed N's plan as JSON and exit")
    ap.add_argument("--keep-work", action="store_true", help="keep every namespace capture in /tmp/rsg-last-SEED")
    ap.add_argument("out_dir", nargs="?")
    a = ap.parse_args(argv)
    if a.list:
        for name, desc in planmod.CATALOGUE:
            print("%-18s %s" % (name, desc))
        return 0
    for s in a.scenario:
        if s not in planmod.DESCRIPTIONS:
            ap.error("unknown scenario %s (see --list)" % s)
    if a.plan is not None:
        print(json.dumps(planmod.draw(a.plan, a.scenario[0] if a.scenario else None), indent=1))
        return 0
    seeds = list(a.seed) + [s for r in a.sweep for s in r]
    if not seeds or not a.out_dir:
        ap.error("give OUT_DIR and at least one --seed or --sweep")
    if os.geteuid() != 0:
        print("generate.py: run as root (sudo): the lab creates network namespaces", file=sys.stderr)
        return 2
    for cmd in ("ip", "nft", "tcpdump", "tc", "ethtool"):
        if not shutil.which(cmd):
            print("generate.py: %s not found" % cmd, file=sys.stderr)
            return 2
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    failures, times = [], []
    started = time.monotonic()
    try:
        for seed in seeds:
            for scen in (a.scenario or [None]):
                err, secs = run_seed(seed, scen, a.out_dir, a.keep_work)
                name = "s%d-%s" % (seed, scen or planmod.draw(seed)["scenario"])
                if err:
                    failures.append((name, err))
                else:
                    times.append((name, secs))
    except KeyboardInterrupt as e:
        log("interrupted (%s); lab removed" % e)
        cleanup_all()
        return 130
    finally:
        cleanup_all()
    total = time.monotonic() - started
    summary = {"written": [n for n, _ in times], "failed": [{"capture": n, "error": e} for n, e in failures],
               "seconds": {n: round(s, 1) for n, s in times}, "total_seconds": round(total, 1)}
    if a.out_dir and os.path.isdir(a.out_dir):
        with open(os.path.join(a.out_dir, "generate-summary.json"), "w") as f:
            json.dump(summary, f, indent=1)
    log("done: %d written, %d failed, %.0f s (%.1f s per capture)" % (
        len(times), len(failures), total, total / max(1, len(times) + len(failures))))
    for n, e in failures:
        log("FAILED %s: %s" % (n, e))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
