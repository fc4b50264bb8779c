#!/usr/bin/env bash
# make-samples.sh - record rstscope's sample captures in the network-namespace lab (lab/run.sh).
#
# Usage:   sudo samples/make-samples.sh [OUTPUT_DIR [SCENARIO...]]
#            OUTPUT_DIR  default: the directory of this script
#            SCENARIO    default: every sample below; `lab/run.sh --list` names them all
# Needs:   root, ip (iproute2), nft, tcpdump, python3, and a built rstscope (cargo build
#          --release), which records; ethtool and tc are used when present.
#
# The lab (topology, addresses, the python programs, every scenario) lives in lab/; see
# lab/run.sh and samples/README.md. Files are only copied into OUTPUT_DIR once every chosen
# scenario has run and been checked; the namespaces are deleted on exit, also on failure.

set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT_DIR=${1:-$SCRIPT_DIR}
(($# > 0)) && shift

SAMPLES=(
    fin-close refused-by-host firewall-reject peer-abort idle-timeout ipv6-refused
    ipv6-firewall-reject unread-data local-abort stale-connection ips-reject injected-reset
    health-check reset-after-close
)
if (($# == 0)); then
    set -- "${SAMPLES[@]}"
fi

exec "$SCRIPT_DIR/../lab/run.sh" "$OUT_DIR" "$@"
