#!/usr/bin/env bash
# Installs everything Hearth needs to build, test and run beside the reference servers,
# from Debian 12 packages only. Idempotent and non-interactive; run as root or with sudo.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git clang-14 clang libclang-rt-14-dev
  # libraries
  libboost-dev libboost-system-dev libyaml-cpp-dev librocksdb-dev catch2 libfmt-dev libre2-dev
  libxxhash-dev libsnappy-dev libprotobuf-dev protobuf-compiler libssl-dev zlib1g-dev
  libbenchmark-dev nlohmann-json3-dev
  # test helpers and the reference programs tests run beside Hearth
  python3 python3-yaml curl procps
  prometheus prometheus-alertmanager prometheus-node-exporter victoria-metrics
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  $SUDO apt-get update -qq
  # --no-install-recommends keeps the reference servers from pulling in desktop bits;
  # policy-rc.d keeps their packaged services from starting on this machine.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "install-deps: all ${#packages[@]} packages present"
