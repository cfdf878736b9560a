#!/usr/bin/env bash
# Builds every native/fuzz/*_fuzz.cc with libFuzzer + ASan/UBSan into native/fuzz/out/ and runs each
# for a bounded time (default 20 s, one process, one core), seeded from corpus/<target>/ and using
# <target>.dict if present. Last line: "N passed, N failed", one per target. Usage: run.sh [seconds]
set -u

seconds="${1:-20}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
native="$(dirname "$here")"
out="$here/out"
mkdir -p "$out"

cxx="${FUZZ_CXX:-clang++}"
cxxflags=(-std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
          -fno-omit-frame-pointer -Wall -Wextra -Werror -I "$native" -pthread)
# Inputs up to 10000 bytes, so the 8192-byte peek budget is reached.
max_len=10000

passed=0
failed=0
shopt -s nullglob
sources=("$here"/*_fuzz.cc)
if [ "${#sources[@]}" -eq 0 ]; then
  echo "no fuzz targets found in $here"
  echo "0 passed, 1 failed"
  exit 1
fi

for source in "${sources[@]}"; do
  name="$(basename "$source" .cc)"   # e.g. sniff_fuzz
  target="${name%_fuzz}"             # e.g. sniff
  binary="$out/$name"
  echo "=== build $name"
  if ! "$cxx" "${cxxflags[@]}" -o "$binary" "$source"; then
    echo "BUILD FAILED: $name"
    failed=$((failed + 1))
    continue
  fi

  # New inputs go to a scratch corpus under out/, never into the checked-in seeds.
  work_corpus="$out/corpus/$target"
  mkdir -p "$work_corpus"
  corpora=("$work_corpus")
  [ -d "$here/corpus/$target" ] && corpora+=("$here/corpus/$target")
  options=(-max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048
           -print_final_stats=1 -artifact_prefix="$out/$name-")
  [ -f "$here/$target.dict" ] && options+=(-dict="$here/$target.dict")

  echo "=== run $name for ${seconds}s"
  log="$out/$name.log"
  "$binary" "${options[@]}" "${corpora[@]}" >"$log" 2>&1
  status=$?
  runs="$(sed -n 's/^Done \([0-9]*\) runs in .*/\1/p' "$log" | tail -n 1)"
  coverage="$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)"
  if [ "$status" -eq 0 ] && [ -n "$runs" ]; then
    echo "ok   $name: ${runs} execs, ${coverage:-cov: ?}"
    passed=$((passed + 1))
  else
    echo "FAIL $name (exit $status); last lines of $log:"
    tail -n 40 "$log"
    failed=$((failed + 1))
  fi
done

echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
