#!/usr/bin/env bash
# Installs dependencies, builds hearth and starts it on :9090. Without --config.file it uses
# ./prometheus.yml when present, else the embedded default (scrape itself every 15 s).
# Extra arguments are passed to hearth: scripts/run.sh --config.file=/etc/prometheus.yml
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

"$repo/scripts/install-deps.sh"
cmake -S "$repo" -B "$repo/build" -G Ninja >/dev/null
cmake --build "$repo/build" -j "$(nproc)" --target hearth hearthctl
exec "$repo/build/cmd/hearth" "$@"
