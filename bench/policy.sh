#!/usr/bin/env bash
# `npm run bench:policy`: installs the tools it needs (Debian packages), then runs bench/policy.ts, which
# measures what authorization policy costs at size: a reload of 200 Servers and 1,000
# AuthorizationPolicies, and HTTP CPU µs per request with that set in force vs without (--record
# appends the table to bench/RESULTS.md, --help lists the knobs).
exec bash "$(dirname "$0")/run-driver.sh" policy "wrk:wrk nginx:nginx-light" "$@"
