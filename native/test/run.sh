#!/usr/bin/env bash
# Builds every native/test/*_test.cc under ASan/UBSan into native/test/out/, runs them all, then builds
# the addon itself the same way and drives it from Node (addon_exercise.cjs); prints
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

# The addon itself, built from its sources under ASan/UBSan and loaded into Node (not Bun: Bun brings its
# own allocator and JIT signal handling, while Node with the ASan runtime preloaded is the supported
# way to sanitize a native module). addon_exercise.cjs drives every export; it counts as one case.
echo "=== build addon under ASan/UBSan"
root="$(dirname "$native")"
addon="$out/meshlet_asan.node"
if ! command -v node >/dev/null || [ ! -f /usr/include/node/node_api.h ]; then
  echo "BUILD FAILED: addon (needs node and its headers: the Debian package nodejs)"
  total_failed=$((total_failed + 1))
elif ! "$cxx" "${cxxflags[@]}" -Wno-unused-parameter -Wno-missing-field-initializers -shared -fPIC \
    -I "$root/node_modules/node-addon-api" -I /usr/include/node \
    -DNAPI_VERSION=8 -DNAPI_DISABLE_CPP_EXCEPTIONS -DNODE_ADDON_API_DISABLE_DEPRECATED -o "$addon" \
    "$native/addon.cc" "$native/frontdoor_napi.cc" "$native/histogram_napi.cc" \
    "$native/inbound_policy_napi.cc" "$native/frontdoor/frontdoor.cc"; then
  echo "BUILD FAILED: addon"
  total_failed=$((total_failed + 1))
else
  echo "=== run addon_exercise (node, ASan preloaded)"
  log="$out/addon_exercise.log"
  # Leak checking is off here: Node itself keeps allocations alive at exit.
  ASAN_OPTIONS="detect_leaks=0:abort_on_error=0" LD_PRELOAD="$("$cxx" -print-file-name=libasan.so)" \
    timeout 120 node "$here/addon_exercise.cjs" "$addon" 2>&1 | tee "$log"
  status="${PIPESTATUS[0]}"
  if [ "$status" -eq 0 ] && [[ "$(tail -n 1 "$log")" =~ ^[0-9]+\ passed,\ 0\ failed$ ]]; then
    total_passed=$((total_passed + 1))
  else
    echo "FAILED (exit $status): addon_exercise"
    total_failed=$((total_failed + 1))
  fi
fi

echo "${total_passed} passed, ${total_failed} failed"
[ "$total_failed" -eq 0 ]
