#!/usr/bin/env bash
# Installs the Debian packages sluice needs (build: run; build+test: test).
# As root (or with sudo) missing packages are installed with apt-get;
# otherwise the exact apt-get line is printed and the script fails.
set -euo pipefail
what=${1:-run}
pkgs=(cmake make gcc pkg-config libncurses-dev libjansson-dev libsqlite3-dev libssl-dev
      zlib1g-dev libzstd-dev libsnappy-dev liblz4-dev libbrotli-dev libyajl-dev libcurl4-openssl-dev)
if [ "$what" = test ]; then
  pkgs+=(libcmocka-dev tmux sqlite3 python3 clang libclang-rt-14-dev)
fi
missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
line="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"
else
  echo "sluice needs these Debian packages: ${missing[*]}" >&2
  echo "Install them with:  sudo apt-get update && sudo $line" >&2
  exit 1
fi
echo "Installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq || true
$sudo $line
