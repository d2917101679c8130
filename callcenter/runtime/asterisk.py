"""Find or build an Asterisk, render our configuration for it, and say how to start it.

Debian 12 ships no Asterisk, so when none is installed we build a minimal Debian root with
Asterisk in it by debootstrap (sid first, bullseye if sid's package is gone) and cache it, so only
the first start pays for it (about a minute). Asterisk then runs chrooted in that root, sharing
the host's network: AMI and FastAGI on loopback work as with a system Asterisk. Our home folder
is bind-mounted at the same path inside, so prompts, music and recordings have one path for
every process. The mounts live in a private mount namespace (``unshare --mount``): they vanish
with the Asterisk process and never leak into the host.
"""
from __future__ import annotations

import fcntl
import glob
import grp
import logging
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from callcenter.config import ConfigError, Settings

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
CONF_TEMPLATES = REPO_ROOT / "asterisk_conf"
SUITES = ("sid", "bullseye")  # sid has the current LTS line; bullseye is the fallback
READY_MARK = ".callcenter-ready"


class AsteriskSetupError(RuntimeError):
    """Asterisk cannot be found, built or configured; the message says what to do."""


@dataclass(frozen=True)
class AsteriskInstall:
    root: Path | None  # the chroot; None for a system Asterisk
    binary: str  # as seen from inside the root
    module_dir: str
    data_dir: str

    def host_path(self, inner: str) -> Path:
        return Path(inner) if self.root is None else self.root / inner.lstrip("/")


def locate(settings: Settings, build: bool = True) -> AsteriskInstall:
    """A system Asterisk when there is one, else the cached Debian root (built if asked)."""
    system = settings.asterisk_binary or shutil.which("asterisk")
    if system:
        return _describe(None, system)
    root = settings.asterisk_cache
    if not (root / READY_MARK).exists():
        if not build:
            raise AsteriskSetupError(
                f"no Asterisk: none installed and no root at {root} (run `callcenter up` as root to build it)"
            )
        build_root(root)
    return _describe(root, "/usr/sbin/asterisk")


def _describe(root: Path | None, binary: str) -> AsteriskInstall:
    base = str(root) if root else ""
    mods = sorted(glob.glob(f"{base}/usr/lib/*/asterisk/modules/app_dial.so")
                  + glob.glob(f"{base}/usr/lib/asterisk/modules/app_dial.so"))
    if not mods:
        raise AsteriskSetupError(f"Asterisk at {base or '/'} has no module folder with app_dial.so")
    module_dir = str(Path(mods[0]).parent)[len(base):]
    data_dir = "/usr/share/asterisk"
    if not Path(f"{base}{data_dir}/sounds").exists() and Path(f"{base}/var/lib/asterisk/sounds").exists():
        data_dir = "/var/lib/asterisk"
    return AsteriskInstall(root=root, binary=binary, module_dir=module_dir, data_dir=data_dir)


# ---------------------------------------------------------------- building the root
def debian_mirror() -> str:
    """The Debian archive this machine's apt already uses (or CC_DEBIAN_MIRROR)."""
    if os.environ.get("CC_DEBIAN_MIRROR"):
        return os.environ["CC_DEBIAN_MIRROR"]
    candidates: list[str] = []
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        for line in Path(path).read_text().splitlines():
            if line.startswith("URIs:"):
                candidates += line.split()[1:]
    if Path("/etc/apt/sources.list").exists():
        for line in Path("/etc/apt/sources.list").read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb":
                candidates.append(next(p for p in parts[1:] if "://" in p))
    for uri in candidates:
        if "security" not in uri and uri.rstrip("/").endswith("/debian"):
            return uri
    raise AsteriskSetupError("cannot tell which Debian mirror apt uses; set CC_DEBIAN_MIRROR")


def build_root(root: Path) -> None:
    if os.geteuid() != 0:
        raise AsteriskSetupError(
            "building the Asterisk root needs root; run as root, or install Asterisk and set CC_ASTERISK_BINARY"
        )
    if not shutil.which("debootstrap"):
        raise AsteriskSetupError("debootstrap is not installed (apt-get install debootstrap; scripts/setup.sh does it)")
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / (root.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two starts at once build it once
        if (root / READY_MARK).exists():
            return
        mirror = debian_mirror()
        partial = root.with_name(root.name + ".partial")
        for suite in SUITES:
            shutil.rmtree(partial, ignore_errors=True)
            log.info("building an Asterisk root: debootstrap %s into %s (about a minute)", suite, partial)
            result = subprocess.run(
                ["debootstrap", "--variant=minbase", "--include=asterisk", suite, str(partial), mirror],
                capture_output=True, text=True,
            )
            if result.returncode == 0 and (partial / "usr/sbin/asterisk").exists():
                (partial / READY_MARK).write_text(suite + "\n")
                shutil.rmtree(root, ignore_errors=True)
                partial.rename(root)
                return
            log.warning("debootstrap %s failed: %s", suite, result.stderr.strip()[-500:])
        raise AsteriskSetupError(f"debootstrap could not build an Asterisk root from {mirror} ({', '.join(SUITES)})")


# ---------------------------------------------------------------- configuration
def config_values(settings: Settings, install: AsteriskInstall) -> dict[str, str]:
    ast = settings.asterisk_dir
    return {
        "ETC_DIR": str(ast / "etc"),
        "MOD_DIR": install.module_dir,
        "DATA_DIR": install.data_dir,
        "VARLIB_DIR": str(ast / "lib"),
        "SPOOL_DIR": str(ast / "spool"),
        "RUN_DIR": str(ast / "run"),
        "LOG_DIR": str(settings.log_dir / "asterisk"),
        "AMI_PORT": str(settings.ami_port),
        "AMI_USER": settings.ami_user,
        "AMI_SECRET": settings.ami_secret,
        "SIP_PORT": str(settings.sip_port),
        "SIP_HOST": settings.sip_host,
        "SIP_WS_PORT": str(settings.sip_ws_port),
        "SIP_BIND": _bind(settings.sip_host, settings.sip_port),
        "SIP_WS_BIND": _bind(settings.sip_host, settings.sip_ws_port),
        "AMI_PROVISION_USER": settings.ami_provision_user,
        "AMI_PROVISION_SECRET": settings.ami_provision_secret,
        "AGI_URL": settings.agi_url,
        "RECORDINGS_DIR": str(settings.recordings_dir),
        "MOH_DIR": str(settings.moh_dir),
    }


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def render_text(text: str, values: dict[str, str], source: str = "template") -> str:
    for key, value in values.items():
        text = text.replace(f"@@{key}@@", value)
    if "@@" in text:
        leftover = text[text.index("@@"):].split("\n", 1)[0]
        raise ConfigError(f"{source}: unknown placeholder in {leftover!r}")
    return text


# Values written into application arguments of the dialplan (AGI's URL, MixMonitor's file name):
# a comma, a quote or a parenthesis there would split or group the arguments, "${" or "$[" be
# evaluated, a ";" start a comment. A home folder named so is refused before Asterisk runs.
DIALPLAN_VALUES = ("AGI_URL", "RECORDINGS_DIR", "SPOOL_DIR")  # SPOOL_DIR: the simulated phones' recordings
_DIALPLAN_SAFE = re.compile(r"[A-Za-z0-9_./:@%+=?&~-]+")


def check_dialplan_values(values: dict[str, str]) -> None:
    for key in DIALPLAN_VALUES:
        if not _DIALPLAN_SAFE.fullmatch(values[key]):
            raise ConfigError(f"{key} {values[key]!r} cannot go into the dialplan: letters, digits and "
                              "_ . / : @ % + = ? & ~ - only")


def render_config(settings: Settings, install: AsteriskInstall) -> Path:
    """Write asterisk_conf/*.conf, filled in, to <home>/asterisk/etc; return asterisk.conf."""
    values = config_values(settings, install)
    check_dialplan_values(values)
    etc = Path(values["ETC_DIR"])
    etc.mkdir(mode=0o700, parents=True, exist_ok=True)  # manager.conf holds the AMI secret: 0700 as created
    for key in ("VARLIB_DIR", "SPOOL_DIR", "RUN_DIR", "LOG_DIR", "RECORDINGS_DIR", "MOH_DIR"):
        Path(values[key]).mkdir(parents=True, exist_ok=True)  # 0700 under the entry points' umask
    for template in sorted(CONF_TEMPLATES.glob("*.conf")):
        (etc / template.name).write_text(render_text(template.read_text(), values, template.name))
    from callcenter.sip import tls  # SIP over TLS and wss, when on: the certificate and two includes
    tls.write_conf(settings, etc)
    return etc / "asterisk.conf"


# ---------------------------------------------------------------- starting
def command(settings: Settings, install: AsteriskInstall, conf: Path, user=None) -> list[str]:
    """The argv that runs Asterisk in the foreground; its pid is Asterisk's own. user: the
    service user (callcenter/runtime/service_user.py) Asterisk runs as, or None for ours."""
    if install.root is None:
        as_user = ["-U", user.name, "-G", grp.getgrgid(user.gid).gr_name] if user else []
        return [install.binary, "-C", str(conf), "-f", *as_user]
    root, home = install.root, settings.home
    (root / str(home).lstrip("/")).mkdir(parents=True, exist_ok=True)
    q = shlex.quote
    userspec = f"--userspec={user.uid}:{user.gid} --groups={user.gid} " if user else ""  # numeric: no passwd inside
    script = "; ".join([
        "set -e",
        f"mount -t proc proc {q(str(root / 'proc'))}",
        f"mount --rbind /dev {q(str(root / 'dev'))}",
        f"mount --bind {q(str(home))} {q(str(root) + str(home))}",
        # the mounts need root; Asterisk then runs as the service user from its first instruction
        f"exec chroot {userspec}{q(str(root))} {q(install.binary)} -C {q(str(conf))} -f",
    ])
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]
