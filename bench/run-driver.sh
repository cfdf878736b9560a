#!/usr/bin/env bash
# What every TypeScript benchmark driver needs before it runs: `bash bench/run-driver.sh DRIVER
# "tool:package ..." [args]` refuses a wrong argument before installing anything, installs the missing
# Debian packages, builds the addon if absent, raises the fd limit, then runs bench/DRIVER.ts with args.
set -euo pipefail
cd "$(dirname "$0")/.."
driver=$1 tools=$2
shift 2
for arg in "$@"; do
  case $arg in
    --record) ;;
    -h | --help) exec node_modules/.bin/bun "bench/$driver.ts" --help ;;
    *) echo "bench/$driver.sh: unknown argument '$arg' (see --help)" >&2; exit 64 ;;
  esac
done
need=()
for tool in $tools; do
  command -v "${tool%%:*}" >/dev/null || need+=("${tool##*:}")
done
if [ "${#need[@]}" -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
[ -f build/Release/meshlet.node ] || npx --no-install node-gyp rebuild -j 2
# Benchmarks hold thousands of sockets (client and proxy sides).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec node_modules/.bin/bun "bench/$driver.ts" "$@"
