#!/usr/bin/env bash
# Builds every native/test/*_test.cc under ASan/UBSan into native/test/out/, runs them all, and prints
# as its last line the summed "N passed, N failed" (test cases). A build failure or a crash without a
# summary line counts as one failed case. Exits non-zero if anything failed.
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
native="$(dirname "$here")"
out="$here/out"
mkdir -p "$out"

cxx="${CXX:-g++}"
cxxflags=(-std=c++17 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all
          -fno-omit-frame-pointer -Wall -Wextra -Werror -I "$native" -pthread)
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:${UBSAN_OPTIONS:-}"

total_passed=0
total_failed=0
shopt -s nullglob
sources=("$here"/*_test.cc)
if [ "${#sources[@]}" -eq 0 ]; then
  echo "no tests found in $here"
  echo "0 passed, 1 failed"
  exit 1
fi

for source in "${sources[@]}"; do
  name="$(basename "$source" .cc)"
  binary="$out/$name"
  echo "=== build $name"
  if ! "$cxx" "${cxxflags[@]}" -o "$binary" "$source"; then
    echo "BUILD FAILED: $name"
    total_failed=$((total_failed + 1))
    continue
  fi
  echo "=== run $name"
  log="$out/$name.log"
  "$binary" 2>&1 | tee "$log"
  status="${PIPESTATUS[0]}"
  summary="$(tail -n 1 "$log")"
  if [[ "$summary" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    total_passed=$((total_passed + BASH_REMATCH[1]))
    total_failed=$((total_failed + BASH_REMATCH[2]))
    if [ "$status" -ne 0 ] && [ "${BASH_REMATCH[2]}" -eq 0 ]; then
      echo "EXIT $status after a clean summary (sanitizer report at exit?): $name"
      total_failed=$((total_failed + 1))
    fi
  else
    echo "CRASHED (exit $status, no summary line): $name"
    total_failed=$((total_failed + 1))
  fi
done

echo "${total_passed} passed, ${total_failed} failed"
[ "$total_failed" -eq 0 ]
