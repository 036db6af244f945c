#!/usr/bin/env bash
# The rooms' arrows and sizes, checked on the sources (a CTest entry):
#   shared ← sync ← client, server; inside client/ the faces (cli/, ui/) include
#   the core and never the reverse; inside server/, store/ includes nothing of
#   the services or of http/, and the services nothing of http/ (server_app.cpp
#   wires them together); no source file is over 900 lines; every document the
#   sources name exists.
set -uo pipefail
cd "${1:-$(dirname "$0")/..}"
fail=0
# forbid DIR-GLOB PATTERN WHY: no file under the first may include the pattern.
forbid() {
  local files=$1 pattern=$2 why=$3 hits
  # shellcheck disable=SC2086
  hits=$(grep -nE "^#include \"($pattern)" $files 2>/dev/null)
  if [[ -n "$hits" ]]; then
    echo "layering: $why:"
    echo "$hits"
    fail=1
  fi
}
forbid "shared/*.h shared/*.cpp shared/web/*.h shared/web/*.cpp" "sync/|client/|server/" "shared/ includes a layer above it"
forbid "sync/*.h sync/*.cpp" "client/|server/" "sync/ includes a layer above it"
forbid "client/*.h client/*.cpp" "client/cli/|client/ui/|server/" "the client core includes a face or the server"
forbid "client/ui/*.h client/ui/*.cpp" "client/cli/" "the screens include the command line"
forbid "client/app_core/*.cpp" "client/cli/|client/ui/|server/|sync/" "the phone app's rules include more than the form rules"
forbid "server/*.h server/*.cpp server/*/*.h server/*/*.cpp" "client/" "the server includes the client"
forbid "server/store/*.h server/store/*.cpp" "server/[a-z_]+\.h|server/http/" "server/store/ includes the services or the HTTP edge"
forbid "$(ls server/*.h server/*.cpp | grep -v server_app)" "server/http/" "a service includes the HTTP edge"
# Every document a program or a source names exists (ocopd --help points to docs/server.md).
for doc in $(grep -rhoE "docs/[A-Za-z0-9_/.-]+\.(md|conf|cfg|yml|properties|service)" shared sync client server | sort -u); do
  if [[ ! -f "$doc" ]]; then
    echo "layering: $doc is named in the sources but does not exist"
    fail=1
  fi
done
while read -r lines file; do
  [[ "$file" == total ]] && continue
  if ((lines > 900)); then
    echo "layering: $file has $lines lines (split it by responsibility)"
    fail=1
  fi
done < <(wc -l shared/*.cpp shared/*.h shared/web/*.cpp sync/*.cpp sync/*.h client/*.cpp client/*.h client/*/*.cpp \
           client/*/*.h server/*.cpp server/*.h server/*/*.cpp server/*/*.h)
((fail == 0)) && echo "layering: arrows and sizes hold"
exit $fail
