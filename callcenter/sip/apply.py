"""Keep Asterisk's SIP configuration what the database says: write, prove, reload.

``write_files`` renders the trunks and phones (callcenter/sip/render.py) beside the shipped
pjsip.conf and extensions.conf in Asterisk's etc folder, after the dialplan checker has read the
result in a scratch copy and found nothing wrong (an unsafe file is never written, so never
loaded). ``reload`` then asks the running Asterisk to read again what changed: ``ModuleLoad`` of
res_pjsip (endpoints, auths, AORs, identifies, registrations) and of pbx_config (the dialplan:
the trunks' numbers), as the provisioning AMI user, the only one allowed to
(asterisk_conf/manager_provision.conf). Calls up at that moment go on, registered phones stay
registered, globals set at run time stay (measured: a contact over the websocket stays
reachable through a res_pjsip reload; a dialplan reload with clearglobalvars = yes wiped every
agent's CC_PHONE_<ext>, so extensions.conf says no). No restart.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from callcenter.config import Settings
from callcenter.runtime import dialplan_check
from callcenter.sip import render, store
from callcenter.sip.names import SipConfigError

log = logging.getLogger("callcenter.sip")

#: the module that reads each file: the trunks and phones, the trunks' contexts (the dialplan)
MODULES = {render.PJSIP_FILE: "res_pjsip.so", render.EXTENSIONS_FILE: "pbx_config.so"}
CHECKED_FILES = ("extensions.conf", "pjsip.conf")


@dataclass(frozen=True)
class Rendered:
    pjsip: str
    extensions: str
    trunks: int
    phones: int


def build(sessions, secure_phones: bool = False) -> Rendered:
    """What the database holds now, as the two files' text (secure_phones: desk phones on TLS
    and SRTP only, CC_SIP_PHONE_SECURITY=tls)."""
    with sessions() as s:
        trunks, phones = store.trunks(s), store.phones(s)
    return Rendered(render.pjsip(trunks, phones, secure_phones), render.extensions(trunks), len(trunks), len(phones))


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:  # it holds passwords
        f.write(text)
    tmp.replace(path)


def check(etc: Path, rendered: Rendered) -> list[str]:
    """The dialplan checker's verdict on the shipped files with these in place (a scratch copy)."""
    with tempfile.TemporaryDirectory() as scratch:
        for name in CHECKED_FILES:
            if (etc / name).exists():
                shutil.copy(etc / name, Path(scratch) / name)
        (Path(scratch) / render.PJSIP_FILE).write_text(rendered.pjsip)
        (Path(scratch) / render.EXTENSIONS_FILE).write_text(rendered.extensions)
        return dialplan_check.check(Path(scratch))


def write_files(etc: Path, rendered: Rendered) -> tuple[str, ...]:
    """Write the files that changed, if the checker passes them; the modules to reload for them
    (trunks before the dialplan that names their contexts)."""
    problems = check(etc, rendered)
    if problems:
        raise SipConfigError("UNSAFE_CONFIG", "the SIP configuration was not applied: " + "; ".join(problems[:5]))
    changed = []
    for name, text in ((render.PJSIP_FILE, rendered.pjsip), (render.EXTENSIONS_FILE, rendered.extensions)):
        path = etc / name
        if not path.exists() or path.read_text() != text:
            _write(path, text)
            changed.append(MODULES[name])
    return tuple(changed)


def etc_dir(settings: Settings) -> Path:
    return settings.asterisk_dir / "etc"


def provision_login(settings: Settings) -> SimpleNamespace:
    """What callcenter.ami.connect needs to log in as the provisioning user."""
    return SimpleNamespace(ami_host=settings.ami_host, ami_port=settings.ami_port,
                           ami_user=settings.ami_provision_user, ami_secret=settings.ami_provision_secret)


async def reload(settings: Settings, modules: tuple[str, ...] = tuple(MODULES.values())) -> None:
    """Ask the running Asterisk to read these modules' configuration again. A dialplan reload
    keeps the globals set at run time (extensions.conf: clearglobalvars = no)."""
    from callcenter import ami

    manager = await ami.connect(provision_login(settings))
    try:
        for module in modules:
            reply = await manager.send_action({"Action": "ModuleLoad", "Module": module, "LoadType": "reload"})
            if reply.get("Response") != "Success":
                raise RuntimeError(f"Asterisk did not reload {module}: {reply.get('Message')}")
    finally:
        manager.close()


async def apply(settings: Settings, sessions, force: bool = False) -> Rendered:
    """Render, prove, write and (when something changed, or forced) reload."""
    import asyncio

    rendered = await asyncio.to_thread(build, sessions, settings.sip_phone_security == "tls")
    changed = await asyncio.to_thread(write_files, etc_dir(settings), rendered)
    if changed or force:
        await reload(settings, tuple(MODULES.values()) if force else changed)
        log.info("SIP configuration applied: %d trunk(s), %d agent phone(s)", rendered.trunks, rendered.phones)
    return rendered
