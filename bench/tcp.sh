#!/usr/bin/env bash
# `npm run bench:tcp`: installs the tools it needs (Debian packages), then runs bench/tcp.ts, which
# compares opaque TCP through meshlet with direct connections and HAProxy in one run (--record appends
# the table to bench/RESULTS.md, --help lists the knobs).
set -euo pipefail
cd "$(dirname "$0")/.."
# Arguments are bench/tcp.ts's; refuse a wrong one before installing anything.
for arg in "$@"; do
  case $arg in
    --record) ;;
    -h | --help) exec node_modules/.bin/bun bench/tcp.ts --help ;;
    *) echo "bench/tcp.sh: unknown argument '$arg' (see --help)" >&2; exit 64 ;;
  esac
done
need=()
for tool in iperf3:iperf3 haproxy:haproxy redis-server:redis-server redis-benchmark:redis-tools; do
  command -v "${tool%%:*}" >/dev/null || need+=("${tool##*:}")
done
if [ "${#need[@]}" -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
[ -f build/Release/meshlet.node ] || npx --no-install node-gyp rebuild -j 2
exec node_modules/.bin/bun bench/tcp.ts "$@"
