#!/usr/bin/env bash
# tests/fuzz/run.sh [seconds] — builds the libFuzzer target with clang (ASan + UBSan) and
# runs it for a bounded time (default 60 s), starting from the seed corpus in seeds/.
# A crash, a sanitizer report or a trap fails the run; the crashing input is kept in
# build-fuzz/ for reproduction (build-fuzz/parsers_fuzz <file>).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
# libFuzzer's engine comes with clang, but clang 14 cannot compile std::expected from GCC 12's
# libstdc++: the code is built by g++ with ASan + UBSan and comparison tracing
# (-fsanitize-coverage=trace-cmp, which libFuzzer's value profile uses as feedback) and
# linked against clang's libFuzzer runtime.
fuzzer_rt=$(ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a 2>/dev/null | tail -1)
[ -n "$fuzzer_rt" ] || { echo "fuzz: skipped: libFuzzer runtime not installed (apt-get install clang)"; exit 77; }
out=build-fuzz
mkdir -p "$out/corpus"
src=(tests/fuzz/parsers_fuzz.cc src/jail/domain.cc src/jail/ipv4.cc src/jail/byte_size.cc src/host/limits.cc
     src/host/manifest.cc src/host/subid.cc src/init/service_list.cc src/util/text.cc)
if [ ! -x "$out/parsers_fuzz" ] || [ -n "$(find "${src[@]}" src -name '*.h' -newer "$out/parsers_fuzz" | head -1)" ]; then
  echo "fuzz: building"
  g++ -std=c++23 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fsanitize-coverage=trace-cmp \
    -Isrc $(pkg-config --cflags libidn2 lxc) "${src[@]}" "$fuzzer_rt" $(pkg-config --libs libidn2 lxc) -lpthread \
    -o "$out/parsers_fuzz"
fi
cp -n tests/fuzz/seeds/* "$out/corpus/" 2>/dev/null || true
echo "fuzz: running for ${seconds}s"
cd "$out" && ./parsers_fuzz -max_total_time="$seconds" -max_len=4096 -timeout=5 -use_value_profile=1 -print_final_stats=1 corpus 2>&1 | tail -15
