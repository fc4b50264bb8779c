"""Delaying wires between tap devices in namespaces (this kernel has no netem).

wires.py SPEC [SPEC ...]     SPEC = NETNS_A,TAP_A,NETNS_B,TAP_B,DELAY_MS

One process serves every delayed link of a lab: each Ethernet frame read from one tap of a
pair is written to the other DELAY_MS later (the same delay both ways, so frames keep their
order). The wire is not a namespace: a frame leaves A's tap and arrives on B's, which is what
the tracer sees. Prints READY once every tap is attached; stops on SIGTERM or after 15 min.
"""
import ctypes, fcntl, heapq, os, select, signal, struct, sys, time

TUNSETIFF, IFF_TAP, IFF_NO_PI, CLONE_NEWNET = 0x400454CA, 0x0002, 0x1000, 0x40000000
libc = ctypes.CDLL(None, use_errno=True)


def setns(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + path)
    finally:
        os.close(fd)


def attach(netns, name):
    setns("/run/netns/" + netns)  # a tun fd belongs to the namespace it was opened in
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:  # keep the delays honest on a loaded machine
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(20))
    except (AttributeError, OSError):
        pass
    other, delay = {}, {}
    for spec in sys.argv[1:]:
        ns_a, tap_a, ns_b, tap_b, ms = spec.split(",")
        a, b = attach(ns_a, tap_a), attach(ns_b, tap_b)
        other[a], other[b] = b, a
        delay[a] = delay[b] = float(ms) / 1000.0
    fds = list(other)
    queue, seq = [], 0
    stop = time.monotonic() + 900
    print("READY", flush=True)
    while time.monotonic() < stop:
        wait = max(0.0, queue[0][0] - time.monotonic()) if queue else 1.0
        ready, _, _ = select.select(fds, [], [], wait)
        now = time.monotonic()
        for fd in ready:
            while True:
                try:
                    frame = os.read(fd, 65536)
                except (BlockingIOError, OSError):
                    break
                heapq.heappush(queue, (now + delay[fd], seq, other[fd], frame))
                seq += 1
        while queue and queue[0][0] <= time.monotonic():
            _, _, out, frame = heapq.heappop(queue)
            try:
                os.write(out, frame)
            except OSError:
                pass


main()
