#!/usr/bin/env bash
# Builds the phone app's share of the C++ core (client/app_core/) as
# WebAssembly with Debian's emscripten: the form rules `ocop` uses, checked on
# the phone before a change is queued.
#   scripts/build-app-core.sh OUT_DIR
# writes OUT_DIR/app_core.js and OUT_DIR/app_core.wasm.b64 (base64: the
# embedder reads text). Called by the build (server/CMakeLists.txt).
#
# The core reads JSON through Poco and text through utf8proc, so both are
# compiled for WebAssembly too, from Debian's own source packages of the
# versions the native build links (fetched once with a private apt source list,
# checked by SHA-256, kept under OCOP_WASM_CACHE, ~/.cache/ocop-wasm by default).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:?usage: build-app-core.sh OUT_DIR}
CACHE=${OCOP_WASM_CACHE:-${HOME:-/tmp}/.cache/ocop-wasm}
export NODE_PATH=/usr/share/nodejs  # emscripten's tools need Debian's acorn
JOBS=$(nproc 2>/dev/null || echo 2)

POCO=poco_1.11.0.orig.tar.bz2
POCO_SHA=b08cf73926fa92a6c8f3c712e8fb217d5d0c2fa5248ec0281f251fe1e925d2f1
UTF8PROC=utf8proc_2.8.0.orig.tar.gz
UTF8PROC_SHA=a0a60a79fe6f6d54e7d411facbfcc867a6e198608f2cd992490e46f04b1bcecc

command -v em++ >/dev/null || { echo "build-app-core: em++ not found; run scripts/setup-deps.sh (Debian's emscripten)" >&2; exit 1; }
mkdir -p "$CACHE/src" "$OUT"

# ---- sources, once ----
fetch() {  # tarball sha256 package
  local file=$1 sha=$2 pkg=$3
  if [[ -f "$CACHE/src/$file" ]] && echo "$sha  $CACHE/src/$file" | sha256sum -c --quiet - 2>/dev/null; then return; fi
  local apt="$CACHE/apt"
  mkdir -p "$apt/lists/partial"
  echo "deb-src http://deb.debian.org/debian bookworm main" > "$apt/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o "Dir::State::Lists=$apt/lists" -o APT::Sandbox::User=root -qq)
  [[ -n "$(ls "$apt/lists" 2>/dev/null | grep -v partial)" ]] || apt-get "${opts[@]}" update
  (cd "$CACHE/src" && apt-get "${opts[@]}" source --download-only "$pkg")
  echo "$sha  $CACHE/src/$file" | sha256sum -c --quiet - || { echo "build-app-core: $file is not the pinned one" >&2; exit 1; }
}
fetch "$POCO" "$POCO_SHA" poco=1.11.0-3+deb12u1
fetch "$UTF8PROC" "$UTF8PROC_SHA" utf8proc=2.8.0-1

# ---- Poco Foundation and JSON for WebAssembly, once ----
POCO_SRC="$CACHE/poco-1.11.0-all"
POCO_LIB="$CACHE/poco-wasm/lib"
if [[ ! -f "$POCO_LIB/libPocoJSON.a" || ! -f "$POCO_LIB/libPocoFoundation.a" ]]; then
  [[ -d "$POCO_SRC" ]] || tar -xjf "$CACHE/src/$POCO" -C "$CACHE"
  off=()
  for c in ENCODINGS XML NET NETSSL CRYPTO JWT DATA DATA_SQLITE DATA_MYSQL DATA_POSTGRESQL DATA_ODBC MONGODB REDIS PDF \
           UTIL ZIP SEVENZIP APACHECONNECTOR CPPPARSER ENCODINGS_COMPILER PAGECOMPILER PAGECOMPILER_FILE2PAGE POCODOC \
           TESTS ACTIVERECORD ACTIVERECORD_COMPILER PROMETHEUS; do off+=("-DENABLE_$c=OFF"); done
  emcmake cmake -S "$POCO_SRC" -B "$CACHE/poco-wasm" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
    -DENABLE_JSON=ON -DCMAKE_CXX_FLAGS="-fexceptions" -DCMAKE_C_FLAGS="-fexceptions" "${off[@]}" > "$CACHE/poco-cmake.log" 2>&1
  cmake --build "$CACHE/poco-wasm" -j "$JOBS" --target Foundation JSON > "$CACHE/poco-build.log" 2>&1
fi
UTF8PROC_SRC="$CACHE/utf8proc-2.8.0"
[[ -d "$UTF8PROC_SRC" ]] || tar -xzf "$CACHE/src/$UTF8PROC" -C "$CACHE"

# ---- the core ----
# The part of shared/ the form rules need (no SQLite, spreadsheets, reports or
# hashing), the typed-input reader of the officer screens, and the binding.
# The definitions built in (forms, criteria, scoring, messages, units), embedded
# as the native build embeds them; the SQL migrations stay out.
OBJ="$OUT/obj"
mkdir -p "$OBJ"
find "$ROOT/schemas/forms" "$ROOT/schemas/criteria" "$ROOT/schemas/scoring" "$ROOT/schemas/messages" "$ROOT/schemas/units" \
  -type f | sort > "$OBJ/schemas.txt"
cmake -DOUT="$OBJ/schemas_embedded.cpp" -DROOT="$ROOT/schemas" -DLIST="$OBJ/schemas.txt" -DNS=ocop::embedded \
  -P "$ROOT/cmake/embed.cmake"
SOURCES=()
for f in status text dates ids clock units json forms form_display localisation receipt workflow messages evaluation media sheet \
         definitions; do SOURCES+=("$ROOT/shared/$f.cpp"); done
SOURCES+=("$ROOT/client/typed_fields.cpp" "$ROOT/client/app_core/app_core.cpp" "$OBJ/schemas_embedded.cpp")
FLAGS=(-std=c++17 -Oz -fexceptions -DUTF8PROC_STATIC -I"$ROOT" -isystem "$UTF8PROC_SRC"
       -isystem "$POCO_SRC/Foundation/include" -isystem "$POCO_SRC/JSON/include")
# Compiled whole each time (about 20 s): the build runs this only when a
# source of the core changed.
rm -f "$OBJ"/*.o
running=()
for src in "${SOURCES[@]}"; do
  em++ "${FLAGS[@]}" -c "$src" -o "$OBJ/$(basename "$src" .cpp).o" &
  running+=($!)
  if ((${#running[@]} >= JOBS)); then wait "${running[0]}"; running=("${running[@]:1}"); fi
done
for pid in "${running[@]}"; do wait "$pid"; done
emcc -Oz -DUTF8PROC_STATIC -c "$UTF8PROC_SRC/utf8proc.c" -o "$OBJ/utf8proc.o"
em++ -Oz -fexceptions "$OBJ"/*.o "$POCO_LIB/libPocoJSON.a" "$POCO_LIB/libPocoFoundation.a" -o "$OUT/app_core.js" --no-entry \
  -sMODULARIZE=1 -sEXPORT_NAME=OcopCore -sENVIRONMENT=web,worker,node -sALLOW_MEMORY_GROWTH=1 -sDYNAMIC_EXECUTION=0 \
  -sEXPORTED_FUNCTIONS=_ocop_check,_ocop_install -sEXPORTED_RUNTIME_METHODS=ccall
base64 -w 76 "$OUT/app_core.wasm" > "$OUT/app_core.wasm.b64.new"
cmp -s "$OUT/app_core.wasm.b64.new" "$OUT/app_core.wasm.b64" 2>/dev/null || mv "$OUT/app_core.wasm.b64.new" "$OUT/app_core.wasm.b64"
rm -f "$OUT/app_core.wasm.b64.new"
echo "build-app-core: $(stat -c %s "$OUT/app_core.wasm") bytes of WebAssembly, $(stat -c %s "$OUT/app_core.js") of glue"
