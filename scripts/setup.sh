#!/usr/bin/env bash
# Sets up everything the call center needs on a Debian machine (run as root):
# Debian packages, a Python virtual environment in .venv with the project installed.
# The Asterisk root is built on first `callcenter up` (or by the test session) and cached.
#   scripts/setup.sh          for running the call center
#   scripts/setup.sh --test   also the test tools
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(redis-server debootstrap espeak-ng libespeak-ng1 sox util-linux python3-venv)
# the browser tests drive Debian's Chromium (Playwright downloads no browser of its own here)
[ "${1:-}" = "--test" ] && packages+=(chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
extras=""
[ "${1:-}" = "--test" ] && extras="[test]"
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".${extras}"
echo "setup: ready (.venv/bin/callcenter)"
