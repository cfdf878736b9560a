# Shell helpers the proxy benchmarks share (sourced by bench/http.sh and bench/h2.sh after they cd to
# the repository root and set BENCH_NAME): progress lines, tool installation, the temp work dir with
# cleanup of every process started, free-port search, starting nginx / HAProxy / any command, waiting
# for a listener, CPU ticks from /proc, and appending a result to bench/RESULTS.md.

# progress MESSAGE...: a progress line on stderr, prefixed with the benchmark's name.
progress() { echo "[bench/$BENCH_NAME] $*" >&2; }

# bench_need_tools COMMAND:DEBIAN_PACKAGE...: installs the packages of missing commands with apt-get.
bench_need_tools() {
  local need=() tool
  for tool in "$@"; do
    command -v "${tool%%:*}" >/dev/null || need+=("${tool##*:}")
  done
  if [ "${#need[@]}" -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
}

# bench_workdir: WORK (a fresh temp dir) and PIDS; on exit every started process is stopped and WORK removed.
bench_workdir() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/meshlet-bench-$BENCH_NAME-XXXXXX")
  PIDS=()
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}
bench_cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}

# port_free PORT: nothing accepts connections on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# bench_free_ports COUNT: BASE such that BASE … BASE+COUNT-1 are free, below the ephemeral range (32768+).
bench_free_ports() {
  local count=$1 attempt p free
  for attempt in $(seq 1 20); do
    BASE=$((20000 + RANDOM % 10000))
    free=1
    for p in $(seq "$BASE" $((BASE + count - 1))); do port_free "$p" || { free=0; break; }; done
    [ "$free" = 1 ] && return 0
  done
  echo "bench/$BENCH_NAME.sh: found no $count free consecutive ports in 20 tries" >&2
  exit 1
}

# start LOGNAME COMMAND...: runs COMMAND in the background (output to $WORK/LOGNAME.log); its pid is ${PIDS[-1]}.
start() {
  local log=$WORK/$1.log
  shift
  "$@" >"$log" 2>&1 &
  PIDS+=($!)
}

# start_nginx NAME [LOGNAME]: nginx with $WORK/NAME/nginx.conf, prefix $WORK/NAME (log $WORK/LOGNAME.log, default NAME).
start_nginx() { start "${2:-$1}" nginx -c "$WORK/$1/nginx.conf" -p "$WORK/$1"; }

# start_haproxy: HAProxy in the foreground with $WORK/haproxy.cfg; sets HAPROXY_PID.
start_haproxy() {
  start haproxy haproxy -f "$WORK/haproxy.cfg" -db
  HAPROXY_PID=${PIDS[-1]}
}

# wait_http PORT [CURL_ARGS...]: waits (≤ 10 s) until http://127.0.0.1:PORT/ answers, else exits.
wait_http() {
  local port=$1
  shift
  for _ in $(seq 1 200); do
    curl -s -o /dev/null "$@" "http://127.0.0.1:$port/" && return 0
    sleep 0.05
  done
  echo "bench/$BENCH_NAME.sh: nothing answers${1:+ ($*)} on port $port" >&2
  exit 1
}

# cpu_ticks PID: utime+stime of PID and its children (nginx's workers), in clock ticks (CLK_TCK per second).
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() {
  local total=0 pid
  for pid in "$1" $(pgrep -P "$1" || true); do
    [ -r "/proc/$pid/stat" ] || continue
    # Fields after the ")" that ends the command name: utime is the 12th, stime the 13th.
    total=$((total + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }')))
  done
  echo "$total"
}

# bench_record FILE: appends FILE (a result in Markdown) to bench/RESULTS.md.
bench_record() { cat "$1" >>bench/RESULTS.md; }
