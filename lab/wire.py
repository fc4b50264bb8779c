"""A delaying wire between two tap devices in two namespaces, for kernels without netem.

wire.py NETNS_A TAP_A NETNS_B TAP_B DELAY_MS: every Ethernet frame read from one tap is written
to the other DELAY_MS later, so the two taps behave like the ends of a slow cable.
"""
import ctypes, fcntl, heapq, os, select, struct, sys, time

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
    setns(netns)  # the tun fd belongs to the namespace it was opened in
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


ns_a, tap_a, ns_b, tap_b, delay = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]) / 1000
a, b = attach(ns_a, tap_a), attach(ns_b, tap_b)
other = {a: b, b: a}
queue, seq = [], 0
stop = time.monotonic() + 900
print("READY", flush=True)
while time.monotonic() < stop:
    wait = max(0.0, queue[0][0] - time.monotonic()) if queue else 1.0
    ready, _, _ = select.select([a, b], [], [], wait)
    now = time.monotonic()
    for fd in ready:
        try:
            frame = os.read(fd, 65536)
        except OSError:
            continue
        heapq.heappush(queue, (now + delay, seq, other[fd], frame))
        seq += 1
    while queue and queue[0][0] <= time.monotonic():
        _, _, out, frame = heapq.heappop(queue)
        try:
            os.write(out, frame)
        except OSError:
            pass
