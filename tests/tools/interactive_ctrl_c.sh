#!/usr/bin/env bash
# Ctrl-C in the middle of `ocop new` at a real terminal (tmux drives it): what
# was typed is kept, and the next `ocop new` continues from it. Exit 77
# (skipped) without tmux.
set -euo pipefail
ocop=$1
command -v tmux > /dev/null || { echo "tmux is not installed (scripts/setup-deps.sh --tests)"; exit 77; }
home=$(mktemp -d)
sock="ocop-test-$$"
trap 'tmux -L "$sock" kill-server 2> /dev/null || true; rm -rf "$home"' EXIT
"$ocop" --home "$home" init --commune 08800 > /dev/null 2>&1
# The pane waits to be inspected once ocop exits.
tmux -L "$sock" new-session -d -x 120 -y 40 "'$ocop' --home '$home' new visit; echo EXIT=\$?; sleep 30"
type_line() { tmux -L "$sock" send-keys "$1" Enter; sleep 0.4; }
screen() { tmux -L "$sock" capture-pane -p; }
for i in $(seq 1 50); do screen | grep -q "Ngày thăm" && break; sleep 0.1; done
type_line "24/11/2026"
type_line "09:30"
tmux -L "$sock" send-keys C-c
for i in $(seq 1 50); do screen | grep -q "EXIT=" && break; sleep 0.1; done
screen | grep -q "Đã giữ phần đã nhập" || { echo "no 'kept' message:"; screen; exit 1; }
grep -q '"visited_on":"2026-11-24"' "$home/draft-visit.json" || { echo "draft not kept"; exit 1; }
# Continue it: yes, then the remaining fields, then Enter at the review.
printf 'c\n\n\n\n1\nTốt\n\n\n\n\n\n\n' | "$ocop" --home "$home" new visit --interactive > /dev/null
"$ocop" --home "$home" list visit --json | grep -q '"visited_at":"09:30"' || { echo "the kept fields did not reach the form"; exit 1; }
[[ ! -e "$home/draft-visit.json" ]] || { echo "the draft outlived its form"; exit 1; }
echo "ok: Ctrl-C kept the typed fields; the next ocop new continued them"
