#!/usr/bin/env bash
# lab/run.sh - record TCP reset scenarios in a throwaway network-namespace lab.
#
#   client -- r1 == r2 -- server        (-- veth pair, == the delayed link)
#                     \-- spare         (a standby host that can take over the server's address)
#
#   namespace   interface  IPv4              IPv6
#   client      c0         192.0.2.10/24     2001:db8:c::10/64     c0 -- r1c
#   r1          r1c        192.0.2.1/24      2001:db8:c::1/64
#               r1r2       203.0.113.1/30    2001:db8:ff::1/64     r1r2 == r2r1
#   r2          r2r1       203.0.113.2/30    2001:db8:ff::2/64
#               r2s        198.51.100.1/24   2001:db8:5::1/64      r2s -- s0
#               r2t        (none)                                  r2t -- t0
#   server      s0         198.51.100.7/24   2001:db8:5::7/64
#   spare       t0         198.51.100.7/24   2001:db8:5::7/64      (reached only through a
#                                                                   host route on r2)
#
#   Namespace names carry this script's PID (rsl<PID>-client, rsl<PID>-r1, ...), so several
#   runs can share a machine. r1 and r2 are routers (IPv4 and IPv6 forwarding on), so TTLs and
#   hop limits really drop: a packet the server sends reaches the client with TTL 62, one r2
#   sends with 63, one r1 sends with 64. The r1 == r2 link carries a 5 ms delay each way
#   (netem, or a small user-space wire when the kernel has no netem), so round trips take
#   about 10 ms.
#
# Every address is a documentation range (RFC 5737, RFC 3849, RFC 7042 for the MACs). The lab
# has no link to the host's own namespace, so no lab packet can leave it. Traffic comes from
# the small python3 programs next to this script, run inside the namespaces; `rstscope capture`
# records on the client's interface c0 (`-w`), announcing each reset as it goes.
#
# Usage:   sudo lab/run.sh [--rstscope BIN] [--live DIR] [--pairs] OUTPUT_DIR [SCENARIO...]
#          lab/run.sh --list                            (the scenarios, one a line)
#            --rstscope BIN  the rstscope binary that records (default: $RSTSCOPE, then
#                            target/release/rstscope, target/debug/rstscope, rstscope on PATH)
#            --live DIR      also keep, per scenario, what the capture printed while it ran:
#                            SCENARIO.lines (each line prefixed with the Unix time it was
#                            printed) and SCENARIO.json (its final report)
#            --pairs         also capture at the server's interface s0 (tcpdump), for
#                            `rstscope compare`: SCENARIO.server.pcap beside SCENARIO.pcap
# Needs:   root, ip (iproute2), nft, tcpdump (to count the RSTs independently), python3;
#          ethtool and tc are used when present.
#
# Writes SCENARIO.pcap for each scenario into OUTPUT_DIR, only once every chosen scenario has
# run and been checked (the RST count of its capture, no drops, and what the client saw). The
# namespaces and every process the script started are removed on exit, also on failure or
# interruption.

set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# name|description, in the order they run.
SCENARIOS=(
    "fin-close|two requests, each closed with FIN"
    "refused-by-host|a closed port on the server (the server's kernel refuses), then a normal request"
    "firewall-reject|r1 resets SYNs to port 8443 in the server's name, then a normal request"
    "ipv6-refused|a closed port on the server over IPv6, then a normal request"
    "ipv6-firewall-reject|r1 resets IPv6 SYNs to port 8443 in the server's name, then a normal request"
    "peer-abort|the server reads part of the request and aborts mid-response (SO_LINGER 0)"
    "unread-data|the server answers 413 and closes with the request body unread (kernel RST)"
    "local-abort|the client aborts a download with SO_LINGER 0"
    "stale-connection|the server's address moves to a spare host without the connection"
    "ips-reject|r2 (an IPS next to the server) drops a request for /blocked and resets it"
    "injected-reset|an injector beside r1 forges resets for blocked.example; the real answer follows"
    "health-check|the client connects and resets at once, without data; then a normal request"
    "reset-after-close|FIN both ways, then the client's RST (TCP_LINGER2 -1: no FIN_WAIT2 state)"
    "idle-timeout|stateful firewall r2 forgets an idle flow and resets the next segment"
    "nat-peer-abort|r1 masquerades the client (source NAT); the server aborts mid-response"
    "ttl-copy-reject|r2 resets SYNs to port 8444 in the server's name with the server's TTL"
)

scenario_names() { local s; for s in "${SCENARIOS[@]}"; do printf '%s\n' "${s%%|*}"; done; }

if [[ ${1:-} == --list ]]; then
    scenario_names
    exit 0
fi
usage() {
    printf 'usage: %s [--rstscope BIN] [--live DIR] [--pairs] OUTPUT_DIR [SCENARIO...]\n       %s --list\n' "$0" "$0" >&2
    exit 2
}
RSTSCOPE_BIN=${RSTSCOPE:-}
LIVE_DIR=
PAIRS=
while [[ ${1:-} == -* ]]; do
    case $1 in
    --rstscope) (($# >= 2)) || usage; RSTSCOPE_BIN=$2; shift 2 ;;
    --live) (($# >= 2)) || usage; LIVE_DIR=$2; shift 2 ;;
    --pairs) PAIRS=1; shift ;;
    *) usage ;;
    esac
done
(($# >= 1)) || usage
OUT_DIR=$1
shift
CHOSEN=("$@")
if ((${#CHOSEN[@]} == 0)); then
    mapfile -t CHOSEN < <(scenario_names)
fi
for name in "${CHOSEN[@]}"; do
    # A here-string, not a pipe: under pipefail, grep -q quitting early fails the pipe.
    grep -qx -- "$name" <<<"$(scenario_names)" || {
        printf '[lab] error: unknown scenario %s (known: %s)\n' "$name" "$(scenario_names | tr '\n' ' ')" >&2
        exit 2
    }
done

PREFIX="rsl$$"
NS_CLIENT=$PREFIX-client
NS_R1=$PREFIX-r1
NS_R2=$PREFIX-r2
NS_SERVER=$PREFIX-server
NS_SPARE=$PREFIX-spare
ALL_NS=("$NS_CLIENT" "$NS_R1" "$NS_R2" "$NS_SERVER" "$NS_SPARE")

CLIENT4=192.0.2.10
CLIENT6=2001:db8:c::10
SERVER4=198.51.100.7
SERVER6=2001:db8:5::7

DELAY_MS=5          # each way on the r1 == r2 link
IDLE_SECS=8         # how long the client stays quiet in idle-timeout
CT_ESTABLISHED=5    # r2's conntrack timeout for established TCP, seconds
INJECT_TTL=48       # the injector's own initial TTL
INJECT_COUNT=3      # forged RST+ACKs per matching request

CREATED_NS=()
BG_PIDS=()
CAPTURE_PID=
SERVER_CAPTURE_PID=
CAPTURE_NAME=
STAMP_PID=
WORK=
STARTED=$SECONDS

log() { printf '[lab] %s\n' "$*" >&2; }
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
    [[ -n $STAMP_PID ]] && reap "$STAMP_PID" TERM
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

((EUID == 0)) || die "run as root (sudo $0): the lab creates network namespaces"
for cmd in ip nft tcpdump python3; do
    command -v "$cmd" >/dev/null || die "$cmd not found (install iproute2, nftables, tcpdump and python3)"
done
if [[ -z $RSTSCOPE_BIN ]]; then
    for candidate in "$LAB_DIR/../target/release/rstscope" "$LAB_DIR/../target/debug/rstscope" \
        "$(command -v rstscope || true)"; do
        [[ -n $candidate && -x $candidate ]] && { RSTSCOPE_BIN=$candidate; break; }
    done
    [[ -n $RSTSCOPE_BIN ]] || die "no rstscope binary: build it (cargo build --release) or pass --rstscope BIN"
fi
[[ -x $RSTSCOPE_BIN ]] || die "$RSTSCOPE_BIN is not an executable rstscope binary"
RSTSCOPE_BIN=$(realpath "$RSTSCOPE_BIN")
for file in server.py client.py wire.py injector.py; do
    [[ -f $LAB_DIR/$file ]] || die "$LAB_DIR/$file is missing"
done
# The real interpreter, not a version-manager shim, so $! is the python process itself.
PYTHON=$(python3 -c 'import sys; print(sys.executable)')
for ns in "${ALL_NS[@]}"; do
    if grep -qx -- "$ns" <<<"$(ip netns list | awk '{print $1}')"; then
        die "namespace $ns already exists (left over from an earlier run with this PID?); remove it with: ip netns del $ns"
    fi
done
mkdir -p "$OUT_DIR"
[[ -z $LIVE_DIR ]] || mkdir -p "$LIVE_DIR"
WORK=$(mktemp -d /tmp/rstscope-lab.XXXXXX)

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

# addr ns dev mac [v4/len v6/len]
addr() {
    nsx "$1" ip link set dev "$2" address "$3"
    if (($# > 3)); then
        nsx "$1" ip addr add "$4" dev "$2"
        nsx "$1" ip -6 addr add "$5" dev "$2" nodad
    fi
}

# neigh ns dev ip mac: permanent neighbour entries, so no ARP or neighbour discovery is on the wire
neigh() { nsx "$1" ip neigh replace "$3" lladdr "$4" dev "$2" nud permanent; }

SERVER_RUNS=0
start_server() {  # specs...; sets SERVER_PID and SERVER_LOG
    SERVER_RUNS=$((SERVER_RUNS + 1))
    local out="$WORK/server.$SERVER_RUNS.log"
    ip netns exec "$NS_SERVER" "$PYTHON" -u "$LAB_DIR/server.py" "$@" >"$out" 2>&1 &
    SERVER_PID=$!
    SERVER_LOG=$out
    BG_PIDS+=("$SERVER_PID")
    wait_for_line "$out" READY "$SERVER_PID" "server"
}

stop_server() {
    reap "$SERVER_PID" TERM
    sed 's/^/    server: /' "$SERVER_LOG" | grep -v 'server: READY' >&2 || true
}

client() { nsx "$NS_CLIENT" timeout 30 "$PYTHON" -u "$LAB_DIR/client.py" "$@" | sed 's/^/    /' >&2; }

# stamp_lines: copy standard input to standard output, each line prefixed with the Unix time
# (microseconds) it arrived, so the tests can tell how soon after its packet a reset was told.
stamp_lines() {
    local line
    while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done
}

capture_start() {  # name
    CAPTURE_NAME=$1
    CAPTURE_FILE="$WORK/$1.pcap"
    local err="$WORK/$1.capture.log" fifo="$WORK/$1.fifo"
    mkfifo "$fifo"
    stamp_lines <"$fifo" >"$WORK/$1.lines" &
    STAMP_PID=$!
    # The running lines go to standard output (through the stamp), the final report to a file.
    # --no-kernel: the live report is compared with `analyze` of the written file, which has
    # only the packets (the kernel's word is tested in tests/kernel_capture.rs).
    ip netns exec "$NS_CLIENT" "$RSTSCOPE_BIN" capture c0 -w "$CAPTURE_FILE" --format json \
        --no-kernel -o "$WORK/$1.json" >"$fifo" 2>"$err" &
    CAPTURE_PID=$!
    wait_for_line "$err" "capturing on c0" "$CAPTURE_PID" "rstscope capture"
    if [[ -n $PAIRS ]]; then
        # The server's end of the path, recorded independently of rstscope.
        ip netns exec "$NS_SERVER" tcpdump -i s0 -U -n -s 0 -w "$WORK/$1.server.pcap" \
            2>"$WORK/$1.tcpdump.log" &
        SERVER_CAPTURE_PID=$!
        BG_PIDS+=("$SERVER_CAPTURE_PID")
        wait_for_line "$WORK/$1.tcpdump.log" "listening on s0" "$SERVER_CAPTURE_PID" "tcpdump on s0"
    fi
    sleep 0.3
}

capture_stop() {  # expected RST segment count: N, or MIN-MAX
    local expect=$1 err="$WORK/$CAPTURE_NAME.capture.log" rc=0 rsts drops
    local min=${expect%-*} max=${expect#*-}
    # Let the last segments arrive, and let rstscope announce the resets while it still runs
    # (about a second after each RST), so the lines are the live ones, not the final flush.
    local i
    for ((i = 0; i < 30; i++)); do
        (($(wc -l <"$WORK/$CAPTURE_NAME.lines") >= min)) && break
        sleep 0.1
    done
    sleep 0.5
    kill -INT "$CAPTURE_PID"
    wait "$CAPTURE_PID" || rc=$?
    CAPTURE_PID=
    if [[ -n $SERVER_CAPTURE_PID ]]; then
        kill -INT "$SERVER_CAPTURE_PID"
        wait "$SERVER_CAPTURE_PID" || true
        SERVER_CAPTURE_PID=
        grep -q "0 packets dropped by kernel" "$WORK/$CAPTURE_NAME.tcpdump.log" ||
            { cat "$WORK/$CAPTURE_NAME.tcpdump.log" >&2; die "tcpdump on s0 dropped packets"; }
    fi
    wait "$STAMP_PID" || true
    ((rc == 0)) || { cat "$err" >&2; die "rstscope capture exited with status $rc"; }
    drops=$("$PYTHON" -c 'import json, sys
i = json.load(open(sys.argv[1]))["inputs"][0]
print(i.get("dropped_by_kernel", -1) + i.get("dropped_by_interface", 0))' "$WORK/$CAPTURE_NAME.json")
    ((drops == 0)) || { cat "$err" >&2; die "rstscope capture dropped packets ($drops)"; }
    # tcpdump counts the RSTs, so the check does not rest on rstscope reading its own file.
    rsts=$(tcpdump -nn -r "$CAPTURE_FILE" 2>/dev/null | grep -c 'Flags \[R' || true)
    log "  $(basename "$CAPTURE_FILE"): $(tcpdump -nn -r "$CAPTURE_FILE" 2>/dev/null | wc -l) packets, $rsts with RST, $(stat -c %s "$CAPTURE_FILE") bytes, $(wc -l <"$WORK/$CAPTURE_NAME.lines") line(s) announced"
    ((rsts >= min && rsts <= max)) || { tcpdump -nn -v -r "$CAPTURE_FILE" >&2; die "expected $expect RST segments, found $rsts"; }
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
ip -n "$NS_R2" link add r2t type veth peer name t0 netns "$NS_SPARE"

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
    ip netns exec "$NS_R1" "$PYTHON" -u "$LAB_DIR/wire.py" "/run/netns/$NS_R1" r1r2 "/run/netns/$NS_R2" r2r1 "$DELAY_MS" \
        >"$WORK/wire.log" 2>&1 &
    BG_PIDS+=("$!")
    wait_for_line "$WORK/wire.log" READY "$!" "wire.py"
    WIRE="no netem in this kernel: tap pair joined by wire.py, ${DELAY_MS} ms each way"
fi
log "r1 == r2 link: $WIRE"

MAC_C0=00:00:5e:00:53:0a MAC_R1C=00:00:5e:00:53:01
MAC_R1R2=00:00:5e:00:53:f1 MAC_R2R1=00:00:5e:00:53:f2
MAC_R2S=00:00:5e:00:53:02 MAC_S0=00:00:5e:00:53:07
MAC_R2T=00:00:5e:00:53:03 MAC_T0=00:00:5e:00:53:08

addr "$NS_CLIENT" c0 $MAC_C0 "$CLIENT4/24" "$CLIENT6/64"
addr "$NS_R1" r1c $MAC_R1C 192.0.2.1/24 2001:db8:c::1/64
addr "$NS_R1" r1r2 $MAC_R1R2 203.0.113.1/30 2001:db8:ff::1/64
addr "$NS_R2" r2r1 $MAC_R2R1 203.0.113.2/30 2001:db8:ff::2/64
addr "$NS_R2" r2s $MAC_R2S 198.51.100.1/24 2001:db8:5::1/64
addr "$NS_R2" r2t $MAC_R2T
addr "$NS_SERVER" s0 $MAC_S0 "$SERVER4/24" "$SERVER6/64"
addr "$NS_SPARE" t0 $MAC_T0 "$SERVER4/24" "$SERVER6/64"

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
neigh "$NS_R2" r2t "$SERVER4" $MAC_T0
neigh "$NS_SERVER" s0 198.51.100.1 $MAC_R2S
neigh "$NS_SERVER" s0 2001:db8:5::1 $MAC_R2S
neigh "$NS_SPARE" t0 198.51.100.1 $MAC_R2T

for pair in "$NS_CLIENT c0" "$NS_R1 r1c" "$NS_R1 r1r2" "$NS_R2 r2r1" "$NS_R2 r2s" "$NS_R2 r2t" \
    "$NS_SERVER s0" "$NS_SPARE t0"; do
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
nsx "$NS_SPARE" ip route add default via 198.51.100.1

# End-to-end check (not captured): nothing listens on port 9, so both families must be refused.
client refused "$SERVER4" 9
client refused "$SERVER6" 9
sleep 2  # let link-up multicast reports die down before the first capture

# ---------------------------------------------------------------------------------------------
# Scenarios: one function each, named after the scenario. Each leaves the lab as it found it.

R1_REJECT_8443=$(cat <<'NFT'
table inet rs_lab_r1 {
    chain forward {
        type filter hook forward priority filter; policy accept;
        tcp dport 8443 reject with tcp reset
    }
}
NFT
)

run_fin-close() {
    start_server "$SERVER4,80,http"
    capture_start fin-close
    client get "$SERVER4" 80 /index.html
    client get "$SERVER4" 80 /about.html
    capture_stop 0
    stop_server
}

run_refused-by-host() {
    start_server "$SERVER4,80,http"
    capture_start refused-by-host
    client refused "$SERVER4" 8081
    client get "$SERVER4" 80 /index.html
    capture_stop 1
    stop_server
}

firewall_reject() {  # name server-address: r1 rejects SYNs to 8443 (the server does listen there)
    nsx "$NS_R1" nft -f - <<<"$R1_REJECT_8443"
    start_server "$2,80,http" "$2,8443,http"
    capture_start "$1"
    client refused "$2" 8443
    client get "$2" 80 /index.html
    capture_stop 1
    stop_server
    nsx "$NS_R1" nft delete table inet rs_lab_r1
}

run_firewall-reject() { firewall_reject firewall-reject "$SERVER4"; }
run_ipv6-firewall-reject() { firewall_reject ipv6-firewall-reject "$SERVER6"; }

run_ipv6-refused() {
    start_server "$SERVER6,80,http"
    capture_start ipv6-refused
    client refused "$SERVER6" 8081
    client get "$SERVER6" 80 /index.html
    capture_stop 1
    stop_server
}

run_peer-abort() {
    start_server "$SERVER4,8080,abort"
    capture_start peer-abort
    client abort "$SERVER4" 8080
    capture_stop 1
    stop_server
}

run_unread-data() {
    start_server "$SERVER4,8080,unread"
    capture_start unread-data
    client unread "$SERVER4" 8080
    capture_stop 1
    stop_server
}

run_local-abort() {
    start_server "$SERVER4,8080,stream"
    capture_start local-abort
    client download "$SERVER4" 8080
    capture_stop 1
    stop_server
}

run_stale-connection() {
    # The spare host gets the server's address the way a failover would move it: r2 starts
    # routing 198.51.100.7 to it. It never saw the connection, so its kernel resets the next
    # segment. The old server keeps its socket, cut off, until the scenario ends.
    local flag="$WORK/stale.moved" out="$WORK/stale.client.log" pid
    start_server "$SERVER4,8000,keepalive"
    capture_start stale-connection
    ip netns exec "$NS_CLIENT" timeout 30 "$PYTHON" -u "$LAB_DIR/client.py" stale "$SERVER4" 8000 "$flag" \
        >"$out" 2>&1 &
    pid=$!
    BG_PIDS+=("$pid")
    wait_for_line "$out" "waiting for the server address" "$pid" "client"
    nsx "$NS_R2" ip route add "$SERVER4/32" dev r2t
    touch "$flag"
    wait "$pid" || { sed 's/^/    /' "$out" >&2; die "the client saw something else"; }
    sed 's/^/    /' "$out" >&2
    capture_stop 1
    nsx "$NS_R2" ip route del "$SERVER4/32" dev r2t
    stop_server
}

run_ips-reject() {
    # r2, the router next to the server, drops requests that start with "GET /blocked" and
    # answers them with a TCP reset in the server's name. nftables has no substring match, so
    # the rule compares the payload at a fixed offset: 32 bytes into the TCP header (doff 8,
    # the timestamp option Linux sends), 12 bytes: "GET /blocked".
    nsx "$NS_R2" nft -f - <<'NFT'
table inet rs_lab_ips {
    chain forward {
        type filter hook forward priority filter; policy accept;
        tcp dport 80 tcp doff 8 @th,256,96 0x474554202f626c6f636b6564 reject with tcp reset
    }
}
NFT
    start_server "$SERVER4,80,http"
    capture_start ips-reject
    client get "$SERVER4" 80 /index.html
    client blocked "$SERVER4" 80 /blocked/page.html
    capture_stop 1
    stop_server
    nsx "$NS_R2" nft delete table inet rs_lab_ips
}

run_injected-reset() {
    # The injector watches r1's client-side interface and forges resets from the server's
    # address; it sits nearest the client, so its resets win the race against the real answer.
    # The race has a 10 ms margin (the round trip to the server); the injector runs with a
    # real-time priority so that a loaded machine cannot make it lose.
    local out="$WORK/injector.log" pid
    ip netns exec "$NS_R1" "$PYTHON" -u "$LAB_DIR/injector.py" r1c blocked.example "$INJECT_TTL" "$INJECT_COUNT" \
        >"$out" 2>&1 &
    pid=$!
    BG_PIDS+=("$pid")
    wait_for_line "$out" READY "$pid" "injector"
    start_server "$SERVER4,80,http"
    capture_start injected-reset
    client get "$SERVER4" 80 /index.html
    client injected "$SERVER4" 80 blocked.example
    # INJECT_COUNT forged resets, then the client's kernel resets each segment of the real
    # answer (ACK, data, FIN) it no longer has a socket for.
    capture_stop "$((INJECT_COUNT + 1))-$((INJECT_COUNT + 3))"
    stop_server
    reap "$pid" TERM
    grep -v READY "$out" | sed 's/^/    /' >&2 || true
    grep -q '^injected' "$out" || die "the injector did not fire"
}

run_health-check() {
    start_server "$SERVER4,80,http"
    capture_start health-check
    client probe "$SERVER4" 80
    client get "$SERVER4" 80 /index.html
    capture_stop 1
    stop_server
}

run_reset-after-close() {
    start_server "$SERVER4,8000,keepalive"
    capture_start reset-after-close
    client linger2 "$SERVER4" 8000
    capture_stop 1
    stop_server
}

run_idle-timeout() {
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
}

run_nat-peer-abort() {
    # r1 translates the client's address and ports (nftables masquerade) on the way to the
    # server; the server aborts mid-response. The client's capture and the server's name the
    # client differently: `compare` must find the flow by its packets.
    nsx "$NS_R1" nft -f - <<'NFT'
table ip rs_lab_nat {
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "r1r2" masquerade
    }
}
NFT
    start_server "$SERVER4,8080,abort"
    capture_start nat-peer-abort
    client abort "$SERVER4" 8080
    capture_stop 1
    stop_server
    nsx "$NS_R1" nft delete table ip rs_lab_nat
}

run_ttl-copy-reject() {
    # r2 resets SYNs to 8444 (the server listens there) in the server's name and gives its
    # RST the TTL the server's packets leave r2 with (63, so 62 at the client, as the
    # server's): from the client's capture alone it reads as the server's refusal. The
    # server's capture sees the server's other connections before and after, and never this
    # SYN: the reset never left the server.
    nsx "$NS_R2" nft -f - <<'NFT'
table ip rs_lab_ttlcopy {
    chain forward {
        type filter hook forward priority filter; policy accept;
        tcp dport 8444 reject with tcp reset
    }
    chain output {
        type filter hook output priority filter; policy accept;
        tcp flags & rst == rst ip ttl set 63
    }
}
NFT
    start_server "$SERVER4,80,http" "$SERVER4,8444,http"
    capture_start ttl-copy-reject
    client get "$SERVER4" 80 /index.html
    client refused "$SERVER4" 8444
    client get "$SERVER4" 80 /about.html
    capture_stop 1
    stop_server
    nsx "$NS_R2" nft delete table ip rs_lab_ttlcopy
}

# Run the chosen scenarios in the order of SCENARIOS.
total=${#CHOSEN[@]} n=0
for entry in "${SCENARIOS[@]}"; do
    name=${entry%%|*}
    grep -qx -- "$name" <<<"$(printf '%s\n' "${CHOSEN[@]}")" || continue
    n=$((n + 1))
    log "$n/$total $name: ${entry#*|}"
    "run_$name"
done

# ---------------------------------------------------------------------------------------------
# Publish

publish() {  # file directory
    install -m 0644 "$1" "$2/"
    if [[ -n ${SUDO_UID:-} && -n ${SUDO_GID:-} ]]; then
        chown "$SUDO_UID:$SUDO_GID" "$2/$(basename "$1")"
    fi
}
for name in "${CHOSEN[@]}"; do
    publish "$WORK/$name.pcap" "$OUT_DIR"
    [[ -z $PAIRS ]] || publish "$WORK/$name.server.pcap" "$OUT_DIR"
    if [[ -n $LIVE_DIR ]]; then
        publish "$WORK/$name.lines" "$LIVE_DIR"
        publish "$WORK/$name.json" "$LIVE_DIR"
    fi
done
log "wrote $total capture(s) to $OUT_DIR in $((SECONDS - STARTED)) s"
