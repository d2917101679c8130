#!/usr/bin/env bash
# Sets up everything the call center needs on a Debian machine (run as root):
# Debian packages, a Python virtual environment in .venv with the project installed.
# The Asterisk root is built on first `callcenter up` (or by the test session) and cached.
#   scripts/setup.sh          for running the call center
#   scripts/setup.sh --test   also the test tools
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(redis-server debootstrap espeak-ng libespeak-ng1 sox util-linux python3-venv openssl acl)  # acl: service_user.sh
command -v npm >/dev/null || packages+=(npm)  # npm pack fetches Chart.js for the report pages
# the browser tests drive Debian's Chromium (Playwright downloads no browser of its own here); a
# CJK font so screenshots of the Mandarin pages show words, not boxes; npm fetches axe-core
if [ "${1:-}" = "--test" ]; then
  packages+=(chromium fonts-wqy-microhei)
  packages+=(sip-tester)  # SIPp: bench/load.py's carrier callers and agent phones, and its smoke test
  # PostgreSQL's server: CC_TEST_DATABASE=postgresql runs the integration tier on a real one, started
  # by the tests in a private folder (tests/integration/pg_server.py); no system cluster is used
  packages+=(postgresql)
  command -v npm >/dev/null || packages+=(npm)
fi
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

# JsSIP for the desktop's softphone: the exact versions in agent_desktop/softphone/package-lock.json,
# every tarball checked by npm ci against the sha512 committed there (a mismatch stops the setup),
# no install scripts run; esbuild (locked the same way) bundles it for the browser into
# agent_desktop/static/vendor/jssip.min.js, which git ignores
(cd agent_desktop/softphone && npm ci --no-audit --no-fund --ignore-scripts --silent \
  && ./node_modules/.bin/esbuild node_modules/jssip/lib/JsSIP.js --bundle --minify --format=iife \
       --global-name=JsSIP --platform=browser --target=es2020 --legal-comments=eof --log-level=warning \
       --outfile=../static/vendor/jssip.min.js)

# axe-core for the accessibility checks: the version pinned in tests/integration/axe-core.lock,
# its tarball's sha512 checked against the one committed there (a mismatch stops the setup)
if [ "${1:-}" = "--test" ]; then
  lock=tests/integration/axe-core.lock
  axe_version=$(sed -n 's/^version=//p' "$lock")
  axe_sha512=$(sed -n 's/^sha512=//p' "$lock")
  axe_tgz="tests/.vendor/axe-core-$axe_version.tgz"
  sha512() { .venv/bin/python -c 'import base64, hashlib, sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$1"; }
  if [ ! -f "$axe_tgz" ] || [ "$(sha512 "$axe_tgz")" != "$axe_sha512" ]; then
    mkdir -p tests/.vendor
    rm -f "$axe_tgz"
    (cd tests/.vendor && npm pack --silent "axe-core@$axe_version" >/dev/null)
  fi
  if [ "$(sha512 "$axe_tgz")" != "$axe_sha512" ]; then
    rm -f "$axe_tgz"
    echo "setup: axe-core $axe_version's tarball does not match the sha512 in $lock" >&2
    exit 1
  fi
fi
# Chart.js for the report pages: the version pinned in agent_desktop/chartjs.lock, its tarball's
# sha512 checked against the one committed there (a mismatch stops the setup), then its built
# file and licence copied to agent_desktop/static/vendor/ (ignored by git)
chart_lock=agent_desktop/chartjs.lock
chart_version=$(sed -n 's/^version=//p' "$chart_lock")
chart_sha512=$(sed -n 's/^sha512=//p' "$chart_lock")
chart_js=agent_desktop/static/vendor/chart.umd.min.js
chart_stamp=agent_desktop/static/vendor/chart.js.version
if [ ! -f "$chart_js" ] || [ "$(cat "$chart_stamp" 2>/dev/null)" != "$chart_version $chart_sha512" ]; then
  chart_tmp=$(mktemp -d)
  (cd "$chart_tmp" && npm pack --silent "chart.js@$chart_version" >/dev/null)
  chart_tgz="$chart_tmp/chart.js-$chart_version.tgz"
  if [ "$(.venv/bin/python -c 'import base64, hashlib, sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$chart_tgz")" != "$chart_sha512" ]; then
    rm -rf "$chart_tmp"
    echo "setup: chart.js $chart_version's tarball does not match the sha512 in $chart_lock" >&2
    exit 1
  fi
  tar -xzf "$chart_tgz" -C "$chart_tmp" package/dist/chart.umd.min.js package/LICENSE.md
  install -m 0644 "$chart_tmp/package/dist/chart.umd.min.js" "$chart_js"
  install -m 0644 "$chart_tmp/package/LICENSE.md" agent_desktop/static/vendor/chart.js.LICENSE.md
  echo "$chart_version $chart_sha512" > "$chart_stamp"
  rm -rf "$chart_tmp"
fi
# the unprivileged user the services run as when started by root (issue 15)
scripts/service_user.sh
echo "setup: ready (.venv/bin/callcenter)"
