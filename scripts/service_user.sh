#!/usr/bin/env bash
# The unprivileged user the call center's services run as when started by root (issue 15; see
# callcenter/runtime/service_user.py): a system user `callcenter`, no login shell, its home
# /var/lib/callcenter (the data home; `callcenter up` creates it 0700 and hands it over). Run by
# scripts/setup.sh as root; safe to run again.
#
# The user must also reach our code and its Python: each folder on their paths that is closed to
# it (a pyenv under /root, say) gets one ACL entry granting it search (x) only: not listing, not
# reading; nothing else on the machine changes.
set -euo pipefail
cd "$(dirname "$0")/.."
user=${CC_SERVICE_USER:-callcenter}
[ -n "$user" ] || exit 0
if ! id -u "$user" >/dev/null 2>&1; then
  useradd --system --user-group --home-dir /var/lib/callcenter --no-create-home --shell /usr/sbin/nologin "$user"
  echo "setup: created the system user $user (the services run as it when started as root)"
fi
python_real=$(readlink -f .venv/bin/python)
for target in "$python_real" "$(pwd)/callcenter"; do
  path=""
  IFS=/ read -ra parts <<< "${target#/}"
  for part in "${parts[@]:0:${#parts[@]}-1}"; do  # from / down, so a closed folder is found, not its children
    path="$path/$part"
    if ! runuser -u "$user" -- test -x "$path"; then
      setfacl -m "u:$user:x" "$path"
      echo "setup: $user may now enter $path (search only)"
    fi
  done
done
