#!/usr/bin/env bash
# scripts/deps.sh: with everything installed it is silent and succeeds; a
# user who is not root (and has no sudo) gets the exact apt-get line and a
# failing exit, and nothing is installed.
set -u
src=${SLUICE_SOURCE_DIR:?}
fail() { echo "FAIL: $*"; exit 1; }

out=$(bash "$src/scripts/deps.sh" test 2>&1) || fail "deps.sh test failed with all packages present: $out"
[ -z "$out" ] || fail "deps.sh printed with nothing to do: $out"

# Pretend nothing is installed: a dpkg-query on PATH that knows no package.
shim=$(mktemp -d)
trap 'rm -rf "$shim"' EXIT
printf '#!/bin/sh\nexit 1\n' > "$shim/dpkg-query"
chmod 755 "$shim" "$shim/dpkg-query"
cp "$src/scripts/deps.sh" "$shim/deps.sh"
chmod 755 "$shim/deps.sh"

if [ "$(id -u)" -eq 0 ]; then
  as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
  command -v setpriv >/dev/null || { echo "SKIP: setpriv missing, cannot drop root"; exit 0; }
else
  as_user=()
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    echo "SKIP: this user has password-less sudo, so deps.sh would install"; exit 0
  fi
fi
out=$(env -i PATH="$shim:/usr/bin:/bin" HOME=/tmp "${as_user[@]}" bash "$shim/deps.sh" test 2>&1)
rc=$?
[ $rc -ne 0 ] || fail "deps.sh succeeded although packages are missing and it may not install"
echo "$out" | grep -q "apt-get install -y --no-install-recommends cmake make gcc pkg-config libncurses-dev" \
  || fail "no exact apt-get line in: $out"
echo "$out" | grep -q "libcmocka-dev tmux sqlite3 python3" || fail "test packages missing from: $out"
out=$(env -i PATH="$shim:/usr/bin:/bin" HOME=/tmp "${as_user[@]}" bash "$shim/deps.sh" run 2>&1)
echo "$out" | grep -q "libcmocka-dev" && fail "run asked for test-only packages: $out"
echo "PASS: deps.sh prints the exact apt-get line when it may not install"
