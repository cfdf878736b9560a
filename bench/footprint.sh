#!/usr/bin/env bash
# `npm run bench:footprint`: installs the tools it needs (Debian packages), then runs bench/footprint.ts,
# which measures meshlet's memory and start-up: RSS idle, with 1,000 idle keep-alive HTTP connections and
# with 1,000 spliced opaque connections, exec -> /ready, and RSS/fd growth over 1,000,000 requests
# (--record appends the table to bench/RESULTS.md, --help lists the knobs).
exec bash "$(dirname "$0")/run-driver.sh" footprint "wrk:wrk nginx:nginx-light" "$@"
