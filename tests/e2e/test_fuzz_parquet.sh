#!/usr/bin/env bash
# libFuzzer on the Parquet reader (tests/fuzz/fuzz_parquet.c): the target and
# the backend sources it needs are built with clang -fsanitize=fuzzer,address,
# undefined under the build tree, every seed is decoded once, then the fuzzer
# runs for a bounded number of inputs and seconds. Any crash, leak, sanitizer
# report or timeout fails the test and names the reproducer.
# Without clang (or its fuzzer runtime, Debian's libclang-rt-*-dev) it skips.
# Longer runs by hand: SLUICE_FUZZ_RUNS=-1 SLUICE_FUZZ_SECONDS=600 (CLANG=
# names another clang); everything lands in $SLUICE_BUILD_DIR/fuzz.
set -u

SRC=${SLUICE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SLUICE_BUILD_DIR:-}
if [ -z "$BUILD" ] && [ -n "${SLUICE_BIN:-}" ]; then
    BUILD=$(dirname "$SLUICE_BIN")
fi
[ -n "$BUILD" ] || BUILD=$(mktemp -d /tmp/sluice-fuzz-XXXXXX)
RUNS=${SLUICE_FUZZ_RUNS:-30000}
SECONDS_MAX=${SLUICE_FUZZ_SECONDS:-45}
OUT="$BUILD/fuzz"
CC_FUZZ=${CLANG:-clang}

fail() {
    echo "FAIL: $*"
    exit 1
}

if ! command -v "$CC_FUZZ" >/dev/null 2>&1; then
    echo "SKIP: clang is not installed; the Parquet reader was not fuzzed"
    exit 0
fi
mkdir -p "$OUT/obj" "$OUT/gen" || fail "cannot create $OUT"

# Can this clang link a fuzzer with the sanitizers at all?
probe="$OUT/probe"
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' \
    > "$probe.c"
if ! "$CC_FUZZ" -fsanitize=fuzzer,address,undefined "$probe.c" -o "$probe" >"$probe.log" 2>&1; then
    echo "SKIP: $CC_FUZZ cannot link -fsanitize=fuzzer (install libclang-rt-*-dev):"
    head -3 "$probe.log"
    exit 0
fi

PKGS="jansson yajl libcrypto zlib libzstd snappy liblz4 libbrotlidec libbrotlienc"
pkg-config --exists $PKGS || fail "pkg-config does not know all of: $PKGS"

# version.h as CMake generates it (the build's own copy when there is one).
if [ -f "$BUILD/gen/version.h" ]; then
    cp "$BUILD/gen/version.h" "$OUT/gen/version.h"
else
    printf '#ifndef SLUICE_VERSION_H\n#define SLUICE_VERSION_H\n#define SLUICE_VERSION "0.0.0"\n#define SLUICE_BUILD_ID "fuzz"\n#endif\n' \
        > "$OUT/gen/version.h"
fi

# ---- build: one object per source, rebuilt when the source is newer ---------
CFLAGS=(-std=c11 -D_GNU_SOURCE -D_XOPEN_SOURCE_EXTENDED -Wall -Wextra -O1 -g
        -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
        -fno-sanitize-recover=undefined -I"$SRC" -I"$OUT/gen")
read -r -a PKG_CFLAGS <<<"$(pkg-config --cflags $PKGS)"
read -r -a PKG_LIBS <<<"$(pkg-config --libs $PKGS)"
sources=("$SRC/tests/fuzz/fuzz_parquet.c" "$SRC"/backend/parquet/*.c "$SRC"/backend/util/*.c
         "$SRC"/backend/store/*.c)
headers_newest=$(ls -t "$SRC"/backend/parquet/*.h "$SRC"/backend/util/*.h "$SRC"/backend/util/*.def \
                     "$SRC"/backend/store/*.h | head -1)
objs=()
pending=()
for s in "${sources[@]}"; do
    o="$OUT/obj/$(basename "$(dirname "$s")")_$(basename "$s" .c).o"
    objs+=("$o")
    if [ ! -f "$o" ] || [ "$s" -nt "$o" ] || [ "$headers_newest" -nt "$o" ]; then
        pending+=("$s" "$o")
    fi
done
compile_one() {
    rm -f "$2"
    "$CC_FUZZ" "${CFLAGS[@]}" "${PKG_CFLAGS[@]}" -c "$1" -o "$2" >"$2.log" 2>&1 ||
        { cat "$2.log"; rm -f "$2"; }
}
if [ ${#pending[@]} -gt 0 ]; then
    echo "compiling $((${#pending[@]} / 2)) source(s) with $CC_FUZZ"
    max_jobs=$(nproc 2>/dev/null || echo 2)
    for ((i = 0; i < ${#pending[@]}; i += 2)); do
        while [ "$(jobs -rp | wc -l)" -ge "$max_jobs" ]; do wait -n; done
        compile_one "${pending[i]}" "${pending[i + 1]}" &
    done
    wait
fi
for o in "${objs[@]}"; do [ -f "$o" ] || fail "compiling $(basename "$o" .o) for the fuzzer failed"; done
BIN="$OUT/fuzz_parquet"
"$CC_FUZZ" -fsanitize=fuzzer,address,undefined "${objs[@]}" -o "$BIN" "${PKG_LIBS[@]}" -lm -lpthread \
    >"$OUT/link.log" 2>&1 || { cat "$OUT/link.log"; fail "linking the fuzz target failed"; }

# ---- seeds --------------------------------------------------------------------
# Every fixture file when ../shared is present; otherwise two files written
# by sluice's own pq_writer: 8 columns (int64, string, double, boolean, date,
# timestamp, decimal(20,2), int32; nulls in most) in 2 row groups, snappy with
# dictionaries, and 3 rows uncompressed PLAIN.
SEEDS="$OUT/seeds"
rm -rf "$SEEDS" && mkdir -p "$SEEDS"
if [ -n "${SLUICE_FIXTURES:-}" ] && [ -d "$SLUICE_FIXTURES/parquet" ]; then
    find "$SLUICE_FIXTURES/parquet" -name '*.parquet' -exec cp {} "$SEEDS/" \;
fi
base64 -d >"$SEEDS/sluice_snappy_dict.parquet" <<'B64' || fail "bad embedded seed"
UEFSMRUAFUAVPCwVCBUAFQYVBgAAIAT7/wkBDD5CDwABATyBhB4AAAAAAMTGLQAAAAAAFQAVKBUs
LBUIFQAVBhUGAAAUTAIAAAADBgAAAAAGAAAAaMOpbGxvFQAVTBU+LBUIFQAVBhUGAAAmGAIAAAAD
DwAJAQCACQcE9L8JCCQEwAAAAAAAAA7AFQAVDhUSLBUIFQAVBhUGAAAHGAIAAAADDgUVABUsFTAs
FQgVABUGFQYAABZUAgAAAAMP4Pz//3D+//8AAAAAkAEAABUAFUwVQiwVCBUAFQYVBgAAJhgCAAAA
Aw8AEQEIpJPWBQs4SCetAQAAAADsuoMCAAAAFQAVQhU6LBUIFQAVBhUGAAAhGAIAAAADDv8JAQSf
jgkILP/PxwAAAAAAAAAAABUEFRAVFEwVBBUAAAAIHAAAAAABAAAAFQAVEhUWLBUIFRAVBhUGAAAJ
IAIAAAADDwEDChUAFTAVMiwVBhUAFQYVBgAAGAwHCT0AAQE8SktMAAAAAACNjVsAAAAAABUAFR4V
IiwVBhUAFQYVBgAADzgCAAAAAwMBAAAAYQAAAAAVABU8FTgsFQYVABUGFQYAAB4YAgAAAAMHAAUB
BBTABQcoABnAAAAAAAAAHsAVABUOFRIsFQYVABUGFQYAAAcYAgAAAAMGARUAFSQVKCwVBhUAFQYV
BgAAEkQCAAAAAwcgAwAAsAQAAEAGAAAVABU8FUAsFQYVABUGFQYAAB50AgAAAAMHAJBOWgMAAAAA
NOIwBAAAAADYdQcFAAAAFQAVMBUuLBUGFQAVBhUGAAAYGAIAAAADBQAJASgwOQAAAAAAAACQqxUE
FRAVFEwVBBUAAAAIHAAAAAABAAAAFQAVEhUWLBUGFRAVBhUGAAAJIAIAAAADBwEDAhUCGZxIBnNj
aGVtYRUQABUEJQAYAmlkABUMJQIYBG5hbWUlAEwcAAAAFQolAhgGYW1vdW50ABUAJQIYAm9rABUC
JQIYA2RheSUMTGwAAAAVBCUCGAJ0cyUUTIwRHCwAAAAAABUOFRIVAhgFcHJpY2UlChUEFSgsXBUE
FSgAAAAVAiUCGAFuABYOGSwZjCYIHBUEGRUAGRgCaWQVAhYIFmIWXiYIPBgIxMYtAAAAAAAYCPv/
////////FgAoCMTGLQAAAAAAGAj7/////////wAZHBUAFQAVAgAAACZmHBUMGSUABhkYBG5hbWUV
AhYIFkoWTiZmPDYEKAZow6lsbG8YAAAZHBUAFQAVAgAAACa0ARwVChklAAYZGAZhbW91bnQVAhYI
Fm4WYCa0ATwYCAAAAAAAAAAAGAgAAAAAAAAOwBYAKAgAAAAAAAAAABgIAAAAAAAADsAAGRwVABUA
FQIAAAAmlAIcFQAZJQAGGRgCb2sVAhYIFjAWNCaUAjwYAQEYAQAWAigBARgBAAAZHBUAFQAVAgAA
ACbIAhwVAhklAAYZGANkYXkVAhYIFk4WUibIAjwYBJABAAAYBOD8//8WACgEkAEAABgE4Pz//wAZ
HBUAFQAVAgAAACaaAxwVBBklAAYZGAJ0cxUCFggWbhZkJpoDPBgIAOy6gwIAAAAYCAAAAAAAAAAA
FgAoCADsuoMCAAAAGAgAAAAAAAAAAAAZHBUAFQAVAgAAACb+AxwVDhklAAYZGAVwcmljZRUCFggW
ZBZcJv4DPDYCKAkAAAAAAAAAAAAYCf////////+fjgAZHBUAFQAVAgAAACbaBBwVAhk1AAYQGRgB
bhUCFggWXhZmJogFJtoEHBgEAQAAABgEAAAAABYAKAQBAAAAGAQAAAAAABksFQQVABUCABUAFRAV
AgAAABbIBRYIJggWuAUUAAAZjCbABRwVBBkVABkYAmlkFQIWBhZSFlQmwAU8GAiNjVsAAAAAABgI
Bwk9AAAAAAAWACgIjY1bAAAAAAAYCAcJPQAAAAAAABkcFQAVABUCAAAAJpQGHBUMGSUABhkYBG5h
bWUVAhYGFkAWRCaUBjw2AigBYRgAABkcFQAVABUCAAAAJtgGHBUKGSUABhkYBmFtb3VudBUCFgYW
XhZaJtgGPBgIAAAAAAAAFMAYCAAAAAAAAB7AFgAoCAAAAAAAABTAGAgAAAAAAAAewAAZHBUAFQAV
AgAAACayBxwVABklAAYZGAJvaxUCFgYWMBY0JrIHPBgBARgBABYCKAEBGAEAABkcFQAVABUCAAAA
JuYHHBUCGSUABhkYA2RheRUCFgYWRhZKJuYHPBgEQAYAABgEIAMAABYAKARABgAAGAQgAwAAABkc
FQAVABUCAAAAJrAIHBUEGSUABhkYAnRzFQIWBhZeFmImsAg8GAgA2HUHBQAAABgIAJBOWgMAAAAW
ACgIANh1BwUAAAAYCACQTloDAAAAABkcFQAVABUCAAAAJpIJHBUOGSUABhkYBXByaWNlFQIWBhZS
FlAmkgk8NgIoCQAAAAAAAACQqxgJAAAAAAAAADA5ABkcFQAVABUCAAAAJuIJHBUCGTUABhAZGAFu
FQIWBhZeFmYmkAom4gkcGAQBAAAAGAQAAAAAFgAoBAEAAAAYBAAAAAAAGSwVBBUAFQIAFQAVEBUC
AAAAFvQEFgYmwAUWiAUUAgAoJHNsdWljZSB2ZXJzaW9uIDAuMS4wIChidWlsZCBiYTNkYWE4KRmM
HAAAHAAAHAAAHAAAHAAAHAAAHAAAHAAAAEAFAABQQVIx
B64
base64 -d >"$SEEDS/sluice_plain.parquet" <<'B64' || fail "bad embedded seed"
UEFSMRUAFTAVMCwVBhUAFQYVBgAA+/////////8+Qg8AAAAAAIGEHgAAAAAAFQAVKBUoLBUGFQAV
BhUGAAACAAAAAwYAAAAABgAAAGjDqWxsbxUAFTwVPCwVBhUAFQYVBgAAAgAAAAMHAAAAAAAAAIAA
AAAAAAD0vwAAAAAAAATAFQAVDhUOLBUGFQAVBhUGAAACAAAAAwYBFQAVJBUkLBUGFQAVBhUGAAAC
AAAAAwfg/P//cP7//wAAAAAVABU8FTwsFQYVABUGFQYAAAIAAAADBwAAAAAAAAAAAKST1gAAAAAA
SCetAQAAABUAFTAVMCwVBhUAFQYVBgAAAgAAAAMG/////////5+O/////////8/HFQAVJBUkLBUG
FQAVBhUGAAACAAAAAwcAAAAAAQAAAAAAAAAVAhmcSAZzY2hlbWEVEAAVBCUAGAJpZAAVDCUCGARu
YW1lJQBMHAAAABUKJQIYBmFtb3VudAAVACUCGAJvawAVAiUCGANkYXklDExsAAAAFQQlAhgCdHMl
FEyMERwsAAAAAAAVDhUSFQIYBXByaWNlJQoVBBUoLFwVBBUoAAAAFQIlAhgBbgAWBhkcGYwmCBwV
BBkVABkYAmlkFQAWBhZSFlImCDwYCIGEHgAAAAAAGAj7/////////xYAKAiBhB4AAAAAABgI+///
//////8AGRwVABUAFQIAAAAmWhwVDBklAAYZGARuYW1lFQAWBhZKFkomWjw2AigGaMOpbGxvGAAA
GRwVABUAFQIAAAAmpAEcFQoZJQAGGRgGYW1vdW50FQAWBhZeFl4mpAE8GAgAAAAAAAAAABgIAAAA
AAAABMAWACgIAAAAAAAAAAAYCAAAAAAAAATAABkcFQAVABUCAAAAJoICHBUAGSUABhkYAm9rFQAW
BhYwFjAmggI8GAEBGAEAFgIoAQEYAQAAGRwVABUAFQIAAAAmsgIcFQIZJQAGGRgDZGF5FQAWBhZG
FkYmsgI8GAQAAAAAGATg/P//FgAoBAAAAAAYBOD8//8AGRwVABUAFQIAAAAm+AIcFQQZJQAGGRgC
dHMVABYGFl4WXib4AjwYCABIJ60BAAAAGAgAAAAAAAAAABYAKAgASCetAQAAABgIAAAAAAAAAAAA
GRwVABUAFQIAAAAm1gMcFQ4ZJQAGGRgFcHJpY2UVABYGFlIWUibWAzw2AigJ/////////8/HGAn/
////////n44AGRwVABUAFQIAAAAmqAQcFQIZJQAGGRgBbhUAFgYWRhZGJqgEPBgEAQAAABgEAAAA
ABYAKAQBAAAAGAQAAAAAABkcFQAVABUCAAAAFuYEFgYmCBbmBBQAACgkc2x1aWNlIHZlcnNpb24g
MC4xLjAgKGJ1aWxkIGJhM2RhYTgpGYwcAAAcAAAcAAAcAAAcAAAcAAAcAAAcAAAA+wIAAFBBUjE=
B64
nseeds=$(find "$SEEDS" -name '*.parquet' | wc -l)

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"

# Reports the reproducer libFuzzer wrote, and fails.
fuzz_failed() {
    local log=$1 what=$2
    tail -60 "$log"
    local repro
    repro=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    [ -n "$repro" ] && echo "reproducer: $repro  (replay: $BIN $repro)"
    fail "$what"
}

# ---- every seed once, under the sanitizers -------------------------------------
cd "$OUT" || fail "cannot enter $OUT"
ART="$OUT/artifacts"
mkdir -p "$ART"
"$BIN" -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$ART/" "$SEEDS"/*.parquet \
    >"$OUT/seeds.log" 2>&1 || fuzz_failed "$OUT/seeds.log" "a seed file crashed the reader"
ran=$(grep -c '^Running: ' "$OUT/seeds.log")
[ "$ran" -eq "$nseeds" ] || { tail -20 "$OUT/seeds.log"; fail "ran $ran of $nseeds seeds"; }
echo "$nseeds seed file(s) decoded under ASan+UBSan"

# ---- bounded fuzzing -------------------------------------------------------------
# New inputs go to a fresh directory each run; the seeds are only read.
CORPUS="$OUT/corpus"
rm -rf "$CORPUS" && mkdir -p "$CORPUS"
"$BIN" -runs="$RUNS" -max_total_time="$SECONDS_MAX" -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$ART/" -print_final_stats=1 "$CORPUS" "$SEEDS" \
    >"$OUT/fuzz.log" 2>&1 || fuzz_failed "$OUT/fuzz.log" "the fuzzer found a crash, leak or timeout"
grep -q '^Done [0-9]* runs' "$OUT/fuzz.log" || { tail -20 "$OUT/fuzz.log"; fail "the fuzzer did not finish"; }
echo "PASS: $(grep '^Done [0-9]* runs' "$OUT/fuzz.log"); $(grep -o 'cov: [0-9]*' "$OUT/fuzz.log" | tail -1)"
