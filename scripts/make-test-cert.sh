#!/usr/bin/env bash
# Makes a self-signed certificate and key for a test install of ocopd over HTTPS:
#   scripts/make-test-cert.sh DIR [HOST-OR-IP ...]     (default: localhost 127.0.0.1)
# Then in ocopd's configuration file:
#   tls.certificate = DIR/ocopd.crt
#   tls.private_key = DIR/ocopd.key
# and on each device:  ocop init --commune CODE --server https://HOST:8443 --ca DIR/ocopd.crt
# A real deployment uses a certificate from a CA the devices already trust.
set -euo pipefail
dir="${1:?usage: make-test-cert.sh DIR [HOST-OR-IP ...]}"
shift
names=("$@")
((${#names[@]})) || names=(localhost 127.0.0.1)
san=""
for n in "${names[@]}"; do
  if [[ $n =~ ^[0-9.]+$ || $n == *:* ]]; then san+="IP:$n,"; else san+="DNS:$n,"; fi
done
mkdir -p "$dir"
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 825 -subj "/CN=${names[0]}/O=OCOP test install" \
  -addext "subjectAltName=${san%,}" -addext "basicConstraints=critical,CA:TRUE" \
  -keyout "$dir/ocopd.key" -out "$dir/ocopd.crt" 2>/dev/null
chmod 600 "$dir/ocopd.key"
echo "$dir/ocopd.crt and $dir/ocopd.key (for ${names[*]})"
