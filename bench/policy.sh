#!/usr/bin/env bash
# `npm run bench:policy`: installs the tools it needs (Debian packages), then runs bench/policy.ts, which
# measures what authorization policy costs at size: a reload of 200 Servers and 1,000
# AuthorizationPolicies, and HTTP CPU µs per request with that set in force vs without (--record
# appends the table to bench/RESULTS.md, --help lists the knobs).
set -euo pipefail
cd "$(dirname "$0")/.."
for arg in "$@"; do
  case $arg in
    --record) ;;
    -h | --help) exec node_modules/.bin/bun bench/policy.ts --help ;;
    *) echo "bench/policy.sh: unknown argument '$arg' (see --help)" >&2; exit 64 ;;
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
exec node_modules/.bin/bun bench/policy.ts "$@"
