"""The unprivileged user our services run as when the call center is started as root (issue 15).

CC_SERVICE_USER names it; unset, it is ``callcenter`` when we run as root and that system user
exists (scripts/service_user.sh creates it), else nobody: everything runs as whoever started it.
Empty: run as the current user even as root (the integration tier's stacks do, tests/integration/
conftest.py). Only root can name another user than itself.

What runs as the service user: Redis, Asterisk (chroot's --userspec, or -U/-G for a system
Asterisk; the mount namespace is set up as root first), and every Python service (router, FastAGI,
CDR, SIP, push with the recordings job, web workers, demo callers). What stays root: the
`callcenter` command and the supervisor, which start, watch and stop them. The home is handed over
to the user (owned by it, 0700) before the services start, so Asterisk's recordings are the
services' own files and no one else's. Every port we listen on is above 1024: no privilege needed.
"""
from __future__ import annotations

import os
import pwd
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from callcenter.config import ConfigError, Settings
from callcenter.runtime.health_log import health_log_path

DEFAULT_USER = "callcenter"
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ServiceUser:
    name: str
    uid: int
    gid: int
    home: Path  # its home folder in /etc/passwd

    def popen(self) -> dict:
        """subprocess.Popen's arguments that start a child as this user, with no other group."""
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


def resolve(env: Mapping[str, str] | None = None) -> ServiceUser | None:
    env = os.environ if env is None else env
    raw = env.get("CC_SERVICE_USER")
    if raw is None:
        if os.geteuid() != 0:
            return None
        try:
            entry = pwd.getpwnam(DEFAULT_USER)
        except KeyError:
            return None
    elif raw.strip() == "":
        return None
    else:
        try:
            entry = pwd.getpwnam(raw.strip())
        except KeyError:
            raise ConfigError(f"CC_SERVICE_USER={raw!r}: no such user (scripts/service_user.sh creates "
                              f"{DEFAULT_USER!r}; empty: run as the current user)") from None
    if entry.pw_uid == os.geteuid():
        return None  # already that user: nothing to switch
    if os.geteuid() != 0:
        raise ConfigError(f"CC_SERVICE_USER={entry.pw_name!r}: only root can start services as another user")
    if entry.pw_uid == 0:
        raise ConfigError("CC_SERVICE_USER names root: leave it empty to run as root")
    return ServiceUser(entry.pw_name, entry.pw_uid, entry.pw_gid, Path(entry.pw_dir))


def can_enter(path: Path, user: ServiceUser) -> bool:
    """Whether user may search (x) the folder path, by its mode bits alone (see unreachable())."""
    info = path.stat()
    if info.st_uid == user.uid:
        return bool(info.st_mode & stat.S_IXUSR)
    if info.st_gid == user.gid:
        return bool(info.st_mode & stat.S_IXGRP)
    return bool(info.st_mode & stat.S_IXOTH)


def unreachable(path: Path, user: ServiceUser) -> Path | None:
    """The first folder above path that user cannot enter, or None. A folder with an ACL entry
    (scripts/service_user.sh grants search on the interpreter's folders that way) is asked of the
    kernel through a child running as the user."""
    for folder in reversed(path.resolve().parents):
        if not can_enter(folder, user) and not _acl_allows(folder, user):
            return folder
    return None


def _acl_allows(folder: Path, user: ServiceUser) -> bool:
    import subprocess

    return subprocess.run(["test", "-x", str(folder)], capture_output=True, **user.popen()).returncode == 0


def check_reachable(settings: Settings, user: ServiceUser) -> None:
    """One clear line when the user could not run our code or reach the home."""
    for what, path in (("the home (CALLCENTER_HOME)", settings.home),  # the home itself: handed over next
                       ("Python", Path(os.path.realpath(sys.executable))), ("the code", REPO_ROOT / "x")):
        blocked = unreachable(path, user)
        if blocked is not None:
            raise ConfigError(f"the service user {user.name!r} cannot reach {what} at {path.parent}: {blocked} is "
                              "closed to it (scripts/service_user.sh grants it; or set CC_SERVICE_USER= to run as root)")


def check_ports(settings: Settings) -> None:
    """Every port we listen on above 1024: the service user has no right to bind below."""
    ports = {"CC_AMI_PORT": settings.ami_port, "CC_AGI_PORT": settings.agi_port, "CC_SIP_PORT": settings.sip_port,
             "CC_SIP_WS_PORT": settings.sip_ws_port, "CC_WEB_PORT": min(settings.web_ports)}
    if not settings.redis_url:
        ports["CC_REDIS_PORT"] = settings.redis_port
    if settings.sip_tls:
        ports |= {"CC_SIP_TLS_PORT": settings.sip_tls_port, "CC_SIP_WSS_PORT": settings.sip_wss_port}
    for name, port in ports.items():
        if port <= 1024:
            raise ConfigError(f"{name}={port}: the services run as an unprivileged user, which cannot listen "
                              "on a port up to 1024 (put a proxy in front, or set CC_SERVICE_USER= to run as root)")


def hand_over(settings: Settings, user: ServiceUser) -> None:
    """Make the home the user's: every folder and file in it owned by the user (created 0700/0600
    by the entry point's umask, so nobody else reads them). The folders and the health log the
    supervisor (root) would otherwise create are made first, so they are the user's too."""
    for folder in (settings.home, settings.run_dir, settings.log_dir, settings.recordings_dir):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    health_log_path(settings.log_dir).touch(mode=0o600, exist_ok=True)  # the web's availability KPI reads it
    for root, dirs, files in os.walk(settings.home):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(root, name), user.uid, user.gid)
    os.chown(settings.home, user.uid, user.gid)


def run_as(services: list, user: ServiceUser, keep: tuple[str, ...] = ()) -> None:
    """Start each service (but those in keep, which switch user themselves) as user, with its HOME."""
    for service in services:
        if service.name not in keep:
            service.popen = user.popen()
            service.env = {**service.env, "HOME": str(user.home)}


def with_home(env: Mapping[str, str]) -> dict[str, str]:
    """env, where a service user and no CALLCENTER_HOME make the data home the user's home folder
    (/var/lib/callcenter from scripts/service_user.sh), not root's ~/.callcenter, which the user
    cannot enter. The supervisor exports it (cli.cmd_supervise), so its children read the same."""
    env = dict(env)
    if not env.get("CALLCENTER_HOME"):
        user = resolve(env)
        if user is not None:
            env["CALLCENTER_HOME"] = str(user.home)
    return env


def hand_over_home(settings: Settings) -> None:
    """As root with a service user: check the user can reach the home and our code, then give it
    the home. Without one: nothing."""
    user = resolve()
    if user is not None:
        check_ports(settings)
        check_reachable(settings, user)
        hand_over(settings, user)
