#!/usr/bin/env bash
# `npm run bench:footprint`: installs the tools it needs (Debian packages), then runs bench/footprint.ts,
# which measures meshlet's memory and start-up: RSS idle, with 1,000 idle keep-alive HTTP connections and
# with 1,000 spliced opaque connections, exec -> /ready, and RSS/fd growth over 1,000,000 requests
# (--record appends the table to bench/RESULTS.md, --help lists the knobs).
set -euo pipefail
cd "$(dirname "$0")/.."
for arg in "$@"; do
  case $arg in
    --record) ;;
    -h | --help) exec node_modules/.bin/bun bench/footprint.ts --help ;;
    *) echo "bench/footprint.sh: unknown argument '$arg' (see --help)" >&2; exit 64 ;;
  esac
done
need=()
for tool in wrk:wrk nginx:nginx-light; do
  command -v "${tool%%:*}" >/dev/null || need+=("${tool##*:}")
done
if [ "${#need[@]}" -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
[ -f build/Release/meshlet.node ] || npx --no-install node-gyp rebuild -j 2
# 1,000 client sockets here plus meshlet's 2,000 (client + upstream side).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec node_modules/.bin/bun bench/footprint.ts "$@"
