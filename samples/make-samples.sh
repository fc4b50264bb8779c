#!/usr/bin/env bash
# make-samples.sh - record rstscope's sample captures in a throwaway network-namespace lab.
#
#   rs-client -- rs-r1 == rs-r2 -- rs-server        (-- veth pair, == the delayed link)
#
#   namespace   interface  IPv4              IPv6
#   rs-client   c0         192.0.2.10/24     2001:db8:c::10/64     c0 -- r1c
#   rs-r1       r1c        192.0.2.1/24      2001:db8:c::1/64
#               r1r2       203.0.113.1/30    2001:db8:ff::1/64     r1r2 == r2r1
#   rs-r2       r2r1       203.0.113.2/30    2001:db8:ff::2/64
#               r2s        198.51.100.1/24   2001:db8:5::1/64      r2s -- s0
#   rs-server   s0         198.51.100.7/24   2001:db8:5::7/64
#
#   r1 and r2 are routers (IPv4 and IPv6 forwarding on), so TTLs and hop limits really drop:
#   a packet the server sends reaches the client with TTL 62, one r2 sends with 63, one r1
#   sends with 64. The r1 == r2 link carries a 5 ms delay each way (netem, or a small user-space
#   wire when the kernel has no netem), so round trips take about 10 ms.
#
# Every address is a documentation range (RFC 5737, RFC 3849, RFC 7042 for the MACs). The lab
# has no link to the host's own namespace, so no lab packet can leave it. Traffic comes from
# small python3 programs (written to a temporary directory) run inside the namespaces; tcpdump
# records on the client's interface.
#
# Usage:   sudo samples/make-samples.sh [OUTPUT_DIR]     (default: the directory of this script)
# Needs:   root, ip (iproute2), nft, tcpdump, python3; ethtool and tc are used when present.
#
# Writes fin-close.pcap, refused-by-host.pcap, firewall-reject.pcap, peer-abort.pcap,
# idle-timeout.pcap and ipv6-refused.pcap. They are only copied into OUTPUT_DIR once all six
# scenarios have run and been checked. The namespaces are deleted on exit, also on failure.

set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT_DIR=${1:-$SCRIPT_DIR}

NS_CLIENT=rs-client
NS_R1=rs-r1
NS_R2=rs-r2
NS_SERVER=rs-server
ALL_NS=("$NS_CLIENT" "$NS_R1" "$NS_R2" "$NS_SERVER")

CLIENT4=192.0.2.10
CLIENT6=2001:db8:c::10
SERVER4=198.51.100.7
SERVER6=2001:db8:5::7

DELAY_MS=5          # each way on the r1 == r2 link
IDLE_SECS=8         # how long the client stays quiet in idle-timeout
CT_ESTABLISHED=5    # r2's conntrack timeout for established TCP, seconds

CREATED_NS=()
BG_PIDS=()
CAPTURE_PID=
WORK=

log() { printf '[make-samples] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

alive() {  # pid: running (not gone, not a zombie waiting to be reaped)
    local st
    st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [[ -n $st && $st != Z ]]
}

reap() {  # pid signal: stop one of this script's background processes; SIGKILL after 5 s
    local pid=$1 sig=$2 i
    kill -"$sig" "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    [[ -n $CAPTURE_PID ]] && reap "$CAPTURE_PID" INT
    local pid
    for pid in "${BG_PIDS[@]}"; do reap "$pid" TERM; done
    local ns
    for ns in "${CREATED_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
    [[ -n $WORK ]] && rm -rf "$WORK"
    if ((rc != 0)); then log "failed (exit $rc)${CREATED_NS[*]:+; lab removed}"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
# Background jobs call 'ip netns exec' directly, never through nsx: a function run with & is a
# forked shell, so $! would name that shell (which ignores SIGINT) instead of the program.

# ---------------------------------------------------------------------------------------------
# Preconditions

((EUID == 0)) || die "run as root (sudo $0)"
for cmd in ip nft tcpdump python3; do
    command -v "$cmd" >/dev/null || die "$cmd not found"
done
# The real interpreter, not a version-manager shim, so $! is the python process itself.
PYTHON=$(python3 -c 'import sys; print(sys.executable)')
for ns in "${ALL_NS[@]}"; do
    if ip netns list | awk '{print $1}' | grep -qx -- "$ns"; then
        die "namespace $ns already exists (an earlier run still going, or left over?); remove it with: ip netns del $ns"
    fi
done
mkdir -p "$OUT_DIR"
WORK=$(mktemp -d /tmp/rs-samples.XXXXXX)

# ---------------------------------------------------------------------------------------------
# The python programs

cat >"$WORK/server.py" <<'PY'
"""Lab server. Each argument is ADDR,PORT,MODE; connections are served one at a time.

http       read the request head, answer 200 with Connection: close, close (FIN)
keepalive  answer request after request on the same connection until EOF, reset or 30 s idle
abort      read only the first 24 bytes of the request, send part of a response, then close
           with SO_LINGER {on, 0 s}: the kernel discards the rest and sends RST
"""
import selectors, socket, struct, sys, time

DEADLINE = time.monotonic() + 120
BODY = b"".join(b"line %02d of a small text body from the rstscope lab\n" % i for i in range(12))


def log(*a):
    print(*a, flush=True)


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > 16384:
            raise ValueError("request head too long")
    return data


def response(keep):
    head = ("HTTP/1.1 200 OK\r\nServer: rstscope-lab\r\nContent-Type: text/plain\r\n"
            "Content-Length: %d\r\nConnection: %s\r\n\r\n" % (len(BODY), "keep-alive" if keep else "close"))
    return head.encode() + BODY


def serve(conn, mode):
    conn.settimeout(30 if mode == "keepalive" else 5)
    if mode == "http":
        if read_head(conn) is None:
            return "client closed before a request"
        conn.sendall(response(False))
        return "answered, closing with FIN"
    if mode == "keepalive":
        n = 0
        while True:
            try:
                if read_head(conn) is None:
                    return "client closed after %d requests" % n
            except (ConnectionResetError, socket.timeout) as e:
                return "connection ended after %d requests: %r" % (n, e)
            n += 1
            conn.sendall(response(True))
            log("  answered request %d" % n)
    if mode == "abort":
        part = conn.recv(24)
        log("  read %d bytes of the request: %r" % (len(part), part))
        conn.sendall(b"HTTP/1.1 200 OK\r\nServer: rstscope-lab\r\nContent-Type: text/plain\r\n"
                     b"Content-Length: 4096\r\n\r\n" + BODY[:300])
        time.sleep(0.1)  # let the partial response reach the wire (and be ACKed) first
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return "aborted mid-response with SO_LINGER {1,0}"
    raise ValueError("unknown mode " + mode)


def main():
    sel = selectors.DefaultSelector()
    for spec in sys.argv[1:]:
        addr, port, mode = spec.rsplit(",", 2)
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, int(port)))
        s.listen(8)
        sel.register(s, selectors.EVENT_READ, mode)
    log("READY")
    while time.monotonic() < DEADLINE:
        for key, _ in sel.select(timeout=1):
            conn, peer = key.fileobj.accept()
            log("accepted %s port %d from %s" % (key.data, key.fileobj.getsockname()[1], peer[0]))
            try:
                log("  " + serve(conn, key.data))
            except Exception as e:  # keep serving; the capture shows what happened
                log("  error: %r" % e)
            finally:
                conn.close()
    log("deadline reached")


main()
PY

cat >"$WORK/client.py" <<'PY'
"""Lab client: run one step and check that it ended the way the scenario says; exit 1 if not.

get HOST PORT PATH       a request with Connection: close, read to EOF       (expects FIN)
refused HOST PORT        a connection attempt that must be refused           (expects RST)
abort HOST PORT          send a request, read until the server resets        (expects RST)
idle HOST PORT SECS      one request, SECS of silence, a second request      (expects RST)
"""
import socket, sys, time

TIMEOUT = 5


def say(*a):
    print("client:", *a, flush=True)


def fail(msg):
    say("UNEXPECTED:", msg)
    sys.exit(1)


def connect(host, port):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    s.connect((host, port))
    return s


def request(host, path, keep, body=b""):
    h = "[%s]" % host if ":" in host else host
    method = "POST" if body else "GET"
    head = ("%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: rstscope-lab/1\r\nAccept: */*\r\n"
            % (method, path, h))
    if body:
        head += "Content-Type: text/plain\r\nContent-Length: %d\r\n" % len(body)
    head += "Connection: %s\r\n\r\n" % ("keep-alive" if keep else "close")
    return head.encode() + body


def read_response(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            fail("connection closed before a full response head")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(body) < length:
        chunk = s.recv(4096)
        if not chunk:
            fail("connection closed inside the body")
        body += chunk
    return head.split(b"\r\n")[0].decode(), body


def main():
    cmd, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if cmd == "get":
        path = sys.argv[4]
        s = connect(host, port)
        s.sendall(request(host, path, False))
        status, body = read_response(s)
        if s.recv(1) != b"":
            fail("data after the response")
        s.close()
        say("GET %s from %s port %d: %s, %d body bytes, closed by FIN" % (path, host, port, status, len(body)))
    elif cmd == "refused":
        try:
            s = connect(host, port)
        except ConnectionRefusedError:
            say("connection to %s port %d refused (RST), as expected" % (host, port))
            return
        s.close()
        fail("connection to %s port %d was accepted" % (host, port))
    elif cmd == "abort":
        s = connect(host, port)
        s.sendall(request(host, "/upload", False, body=b"x" * 200))
        got = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    fail("server closed with FIN after %d bytes" % len(got))
                got += chunk
        except ConnectionResetError:
            say("reset by the server after %d bytes of a response announcing 4096 body bytes" % len(got))
        s.close()
    elif cmd == "idle":
        secs = float(sys.argv[4])
        s = connect(host, port)
        s.sendall(request(host, "/first", True))
        status, _ = read_response(s)
        say("first request answered: %s; idle for %g s" % (status, secs))
        time.sleep(secs)
        try:
            s.sendall(request(host, "/second", True))
            chunk = s.recv(4096)
            fail("second request got %r instead of a reset" % chunk[:40])
        except ConnectionResetError:
            say("second request reset, as expected")
        s.close()
    else:
        fail("unknown command " + cmd)


main()
PY

cat >"$WORK/wire.py" <<'PY'
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
PY

# ---------------------------------------------------------------------------------------------
# Helpers

# wait_for_line FILE PATTERN PID WHAT: wait up to 10 s for PATTERN in FILE while PID lives.
wait_for_line() {
    local file=$1 pattern=$2 pid=$3 what=$4 i
    for ((i = 0; i < 100; i++)); do
        grep -q -- "$pattern" "$file" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || { cat "$file" >&2 || true; die "$what exited early"; }
        sleep 0.1
    done
    cat "$file" >&2 || true
    die "$what not ready after 10 s"
}

ETHTOOL_WARNED=
no_offload() {  # ns dev: software checksums, no segmentation offload, so captures show real checksums
    if command -v ethtool >/dev/null; then
        nsx "$1" ethtool -K "$2" tx off sg off tso off gso off gro off >/dev/null 2>&1 || true
    elif [[ -z $ETHTOOL_WARNED ]]; then
        log "ethtool not found: leaving checksum offload on (the client's own segments may show bad checksums)"
        ETHTOOL_WARNED=1
    fi
}

# addr ns dev mac v4/len v6/len
addr() {
    nsx "$1" ip link set dev "$2" address "$3"
    nsx "$1" ip addr add "$4" dev "$2"
    nsx "$1" ip -6 addr add "$5" dev "$2" nodad
}

# neigh ns dev ip mac: permanent neighbour entries, so no ARP or neighbour discovery is on the wire
neigh() { nsx "$1" ip neigh replace "$3" lladdr "$4" dev "$2" nud permanent; }

SERVER_RUNS=0
start_server() {  # specs...; sets SERVER_PID and SERVER_LOG
    SERVER_RUNS=$((SERVER_RUNS + 1))
    local out="$WORK/server.$SERVER_RUNS.log"
    ip netns exec "$NS_SERVER" "$PYTHON" -u "$WORK/server.py" "$@" >"$out" 2>&1 &
    SERVER_PID=$!
    SERVER_LOG=$out
    BG_PIDS+=("$SERVER_PID")
    wait_for_line "$out" READY "$SERVER_PID" "server"
}

stop_server() {
    reap "$SERVER_PID" TERM
    sed 's/^/    server: /' "$SERVER_LOG" | grep -v 'server: READY' >&2 || true
}

client() { nsx "$NS_CLIENT" timeout 30 "$PYTHON" -u "$WORK/client.py" "$@" | sed 's/^/    /' >&2; }

capture_start() {  # name
    CAPTURE_FILE="$WORK/$1.pcap"
    local err="$WORK/$1.tcpdump.log"
    # -U: write each packet as it arrives; --immediate-mode: hand packets over at once, so none
    # wait in a half-filled ring block when SIGINT stops the capture; -Z root: no privilege drop.
    ip netns exec "$NS_CLIENT" tcpdump -i c0 -w "$CAPTURE_FILE" -U --immediate-mode -Z root 2>"$err" &
    CAPTURE_PID=$!
    wait_for_line "$err" "listening on" "$CAPTURE_PID" "tcpdump"
    sleep 0.3
}

capture_stop() {  # expected RST segment count
    local expect=$1 err="${CAPTURE_FILE%.pcap}.tcpdump.log" rc=0 rsts
    sleep 0.5  # let the last segments arrive
    kill -INT "$CAPTURE_PID"
    wait "$CAPTURE_PID" || rc=$?
    CAPTURE_PID=
    ((rc == 0)) || { cat "$err" >&2; die "tcpdump exited with status $rc"; }
    grep -q '^0 packets dropped by kernel' "$err" || { cat "$err" >&2; die "tcpdump dropped packets"; }
    rsts=$(tcpdump -nn -r "$CAPTURE_FILE" 2>/dev/null | grep -c 'Flags \[R' || true)
    log "  $(basename "$CAPTURE_FILE"): $(tcpdump -nn -r "$CAPTURE_FILE" 2>/dev/null | wc -l) packets, $rsts with RST, $(stat -c %s "$CAPTURE_FILE") bytes"
    ((rsts == expect)) || { tcpdump -nn -v -r "$CAPTURE_FILE" >&2; die "expected $expect RST segments, found $rsts"; }
}

# ---------------------------------------------------------------------------------------------
# The lab

log "building the lab: ${ALL_NS[*]}"
for ns in "${ALL_NS[@]}"; do
    ip netns add "$ns"
    CREATED_NS+=("$ns")
    nsx "$ns" ip link set lo up
    # No router solicitations or DAD probes on new links: keep IPv6 chatter off the wire.
    nsx "$ns" sysctl -qw net.ipv6.conf.default.router_solicitations=0 net.ipv6.conf.default.accept_dad=0 \
        net.ipv6.conf.default.accept_ra=0
done

ip -n "$NS_CLIENT" link add c0 type veth peer name r1c netns "$NS_R1"
ip -n "$NS_R2" link add r2s type veth peer name s0 netns "$NS_SERVER"

# The r1 == r2 link: a veth pair with netem if this kernel has it, otherwise two taps joined by
# wire.py. Both give DELAY_MS each way.
WIRE=
ip -n "$NS_R1" link add r1r2 type veth peer name r2r1 netns "$NS_R2"
if nsx "$NS_R1" tc qdisc add dev r1r2 root netem delay "${DELAY_MS}ms" 2>/dev/null &&
    nsx "$NS_R2" tc qdisc add dev r2r1 root netem delay "${DELAY_MS}ms" 2>/dev/null; then
    WIRE="veth pair with netem delay ${DELAY_MS}ms on each end"
else
    ip -n "$NS_R1" link del r1r2
    nsx "$NS_R1" ip tuntap add dev r1r2 mode tap
    nsx "$NS_R2" ip tuntap add dev r2r1 mode tap
    ip netns exec "$NS_R1" "$PYTHON" -u "$WORK/wire.py" "/run/netns/$NS_R1" r1r2 "/run/netns/$NS_R2" r2r1 "$DELAY_MS" \
        >"$WORK/wire.log" 2>&1 &
    BG_PIDS+=("$!")
    wait_for_line "$WORK/wire.log" READY "$!" "wire.py"
    WIRE="no netem in this kernel: tap pair joined by wire.py, ${DELAY_MS} ms each way"
fi
log "r1 == r2 link: $WIRE"

MAC_C0=00:00:5e:00:53:0a MAC_R1C=00:00:5e:00:53:01
MAC_R1R2=00:00:5e:00:53:f1 MAC_R2R1=00:00:5e:00:53:f2
MAC_R2S=00:00:5e:00:53:02 MAC_S0=00:00:5e:00:53:07

addr "$NS_CLIENT" c0 $MAC_C0 "$CLIENT4/24" "$CLIENT6/64"
addr "$NS_R1" r1c $MAC_R1C 192.0.2.1/24 2001:db8:c::1/64
addr "$NS_R1" r1r2 $MAC_R1R2 203.0.113.1/30 2001:db8:ff::1/64
addr "$NS_R2" r2r1 $MAC_R2R1 203.0.113.2/30 2001:db8:ff::2/64
addr "$NS_R2" r2s $MAC_R2S 198.51.100.1/24 2001:db8:5::1/64
addr "$NS_SERVER" s0 $MAC_S0 "$SERVER4/24" "$SERVER6/64"

neigh "$NS_CLIENT" c0 192.0.2.1 $MAC_R1C
neigh "$NS_CLIENT" c0 2001:db8:c::1 $MAC_R1C
neigh "$NS_R1" r1c "$CLIENT4" $MAC_C0
neigh "$NS_R1" r1c "$CLIENT6" $MAC_C0
neigh "$NS_R1" r1r2 203.0.113.2 $MAC_R2R1
neigh "$NS_R1" r1r2 2001:db8:ff::2 $MAC_R2R1
neigh "$NS_R2" r2r1 203.0.113.1 $MAC_R1R2
neigh "$NS_R2" r2r1 2001:db8:ff::1 $MAC_R1R2
neigh "$NS_R2" r2s "$SERVER4" $MAC_S0
neigh "$NS_R2" r2s "$SERVER6" $MAC_S0
neigh "$NS_SERVER" s0 198.51.100.1 $MAC_R2S
neigh "$NS_SERVER" s0 2001:db8:5::1 $MAC_R2S

for pair in "$NS_CLIENT c0" "$NS_R1 r1c" "$NS_R1 r1r2" "$NS_R2 r2r1" "$NS_R2 r2s" "$NS_SERVER s0"; do
    read -r ns dev <<<"$pair"
    no_offload "$ns" "$dev"
    nsx "$ns" ip link set dev "$dev" up
done

for ns in "$NS_R1" "$NS_R2"; do
    nsx "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
done
nsx "$NS_CLIENT" ip route add default via 192.0.2.1
nsx "$NS_CLIENT" ip -6 route add default via 2001:db8:c::1
nsx "$NS_R1" ip route add 198.51.100.0/24 via 203.0.113.2
nsx "$NS_R1" ip -6 route add 2001:db8:5::/64 via 2001:db8:ff::2
nsx "$NS_R2" ip route add 192.0.2.0/24 via 203.0.113.1
nsx "$NS_R2" ip -6 route add 2001:db8:c::/64 via 2001:db8:ff::1
nsx "$NS_SERVER" ip route add default via 198.51.100.1
nsx "$NS_SERVER" ip -6 route add default via 2001:db8:5::1

# End-to-end check (not captured): nothing listens on port 9, so both families must be refused.
client refused "$SERVER4" 9
client refused "$SERVER6" 9
sleep 2  # let link-up multicast reports die down before the first capture

# ---------------------------------------------------------------------------------------------
# Scenarios

log "1/6 fin-close: two requests, each closed with FIN"
start_server "$SERVER4,80,http"
capture_start fin-close
client get "$SERVER4" 80 /index.html
client get "$SERVER4" 80 /about.html
capture_stop 0
stop_server

log "2/6 refused-by-host: a closed port on the server, then a normal request"
start_server "$SERVER4,80,http"
capture_start refused-by-host
client refused "$SERVER4" 8081
client get "$SERVER4" 80 /index.html
capture_stop 1
stop_server

log "3/6 firewall-reject: r1 resets SYNs to port 8443 (the server does listen there)"
nsx "$NS_R1" nft -f - <<'NFT'
table inet rs_lab_r1 {
    chain forward {
        type filter hook forward priority filter; policy accept;
        tcp dport 8443 reject with tcp reset
    }
}
NFT
start_server "$SERVER4,80,http" "$SERVER4,8443,http"
capture_start firewall-reject
client refused "$SERVER4" 8443
client get "$SERVER4" 80 /index.html
capture_stop 1
stop_server
nsx "$NS_R1" nft delete table inet rs_lab_r1

log "4/6 peer-abort: the server reads part of the request and aborts mid-response"
start_server "$SERVER4,8080,abort"
capture_start peer-abort
client abort "$SERVER4" 8080
capture_stop 1
stop_server

log "5/6 idle-timeout: r2 forgets an idle flow after ${CT_ESTABLISHED} s and resets the next segment"
R2_RULES=$(cat <<NFT
table inet rs_lab_r2 {
    chain forward {
        type filter hook forward priority filter; policy accept;
        ct state established,related accept
        ct state new tcp flags & (fin|syn|rst|ack) == syn accept
        meta l4proto tcp reject with tcp reset
    }
}
NFT
)
# Prefer an nftables ct timeout policy (scoped to this table); fall back to the per-namespace
# conntrack sysctl when the kernel or nft lacks ct timeout objects.
if nsx "$NS_R2" nft -f - <<NFT 2>/dev/null
$R2_RULES
table inet rs_lab_r2 {
    ct timeout tcp-idle {
        protocol tcp; l3proto inet;
        policy = { established: $CT_ESTABLISHED }
    }
    chain prerouting {
        type filter hook prerouting priority mangle; policy accept;
        meta l4proto tcp ct timeout set "tcp-idle"
    }
}
NFT
then
    log "  r2: nftables ct timeout policy, established: ${CT_ESTABLISHED} s"
else
    nsx "$NS_R2" nft delete table inet rs_lab_r2 2>/dev/null || true
    nsx "$NS_R2" nft -f - <<<"$R2_RULES"
    nsx "$NS_R2" sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_established="$CT_ESTABLISHED"
    log "  r2: no ct timeout objects; net.netfilter.nf_conntrack_tcp_timeout_established=${CT_ESTABLISHED} in r2"
fi
start_server "$SERVER4,8000,keepalive"
capture_start idle-timeout
client idle "$SERVER4" 8000 "$IDLE_SECS"
capture_stop 1
stop_server
nsx "$NS_R2" nft delete table inet rs_lab_r2

log "6/6 ipv6-refused: a closed port on the server over IPv6, then a normal request"
start_server "$SERVER6,80,http"
capture_start ipv6-refused
client refused "$SERVER6" 8081
client get "$SERVER6" 80 /index.html
capture_stop 1
stop_server

# ---------------------------------------------------------------------------------------------
# Publish

for name in fin-close refused-by-host firewall-reject peer-abort idle-timeout ipv6-refused; do
    install -m 0644 "$WORK/$name.pcap" "$OUT_DIR/$name.pcap"
    if [[ -n ${SUDO_UID:-} && -n ${SUDO_GID:-} ]]; then
        chown "$SUDO_UID:$SUDO_GID" "$OUT_DIR/$name.pcap"
    fi
done
log "wrote six captures to $OUT_DIR"
