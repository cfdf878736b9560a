#!/usr/bin/env bash
# `npm run bench:tcp`: installs the tools it needs (Debian packages), then runs bench/tcp.ts, which
# compares opaque TCP through meshlet with direct connections and HAProxy in one run (--record appends
# the table to bench/RESULTS.md, --help lists the knobs).
exec bash "$(dirname "$0")/run-driver.sh" tcp "iperf3:iperf3 haproxy:haproxy redis-server:redis-server redis-benchmark:redis-tools" "$@"
