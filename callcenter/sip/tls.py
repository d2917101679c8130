"""SIP over TLS and the softphone's websocket over TLS (wss), for agents outside the building
(issue 10). Off unless CC_SIP_TLS=on (callcenter/config.py).

The certificate: the operator's own (CC_SIP_TLS_CERT, CC_SIP_TLS_KEY), else one made for the
demo, self-signed for the SIP address (openssl, as Debian ships it), kept under the home and
made once. Either way the pair is placed in <home>/tls, which Asterisk sees at the same path
even in its own root (callcenter/runtime/asterisk.py bind-mounts the home); the key stays
owner-only. A phone or browser must be told to trust a self-signed certificate: fine for the
demo, and the reason an operator brings their own.

Two small files beside the shipped configuration, included by pjsip.conf and http.conf
(``#tryinclude``): the TLS and wss transports, and the HTTP server's TLS listener that carries
wss. Written empty (a comment) when TLS is off, so a stale one never stays loaded.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from callcenter.config import ConfigError, Settings

PJSIP_FILE = "pjsip_tls.conf"
HTTP_FILE = "http_tls.conf"
TLS_TRANSPORT, WSS_TRANSPORT = "transport-tls", "transport-wss"
DEMO_DAYS = 825  # what browsers still accept for a certificate's life
# written into pjsip.conf and http.conf: a path with none of their separators or comment marks
_SAFE_PATH = re.compile(r"/[A-Za-z0-9_./+=@%~-]+")


def tls_dir(settings: Settings) -> Path:
    return settings.home / "tls"


def files(settings: Settings) -> tuple[Path, Path]:
    """Where Asterisk reads the certificate and its key."""
    return tls_dir(settings) / "sip.crt", tls_dir(settings) / "sip.key"


def _check_pem(path: Path, marker: str, name: str) -> None:
    head = path.read_text(errors="replace")[:200_000]
    if f"-----BEGIN {marker}" not in head and not (marker == "PRIVATE KEY" and "PRIVATE KEY-----" in head):
        raise ConfigError(f"{name}={str(path)!r} is not a PEM {marker.lower()}")


def prepare(settings: Settings) -> tuple[Path, Path]:
    """The certificate and key in place for Asterisk: the operator's copied in (checked to be
    PEM), else the demo's made once. Returns their paths."""
    cert, key = files(settings)
    directory = tls_dir(settings)
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    for path in (cert, key):
        if not _SAFE_PATH.fullmatch(str(path)):
            raise ConfigError(f"{str(path)!r} cannot go into pjsip.conf: letters, digits and _ . / + = @ % ~ - only")
    if settings.sip_tls_cert is not None and settings.sip_tls_key is not None:
        _check_pem(settings.sip_tls_cert, "CERTIFICATE", "CC_SIP_TLS_CERT")
        _check_pem(settings.sip_tls_key, "PRIVATE KEY", "CC_SIP_TLS_KEY")
        shutil.copyfile(settings.sip_tls_cert, cert)
        _copy_private(settings.sip_tls_key, key)
    elif not (cert.exists() and key.exists()):
        make_self_signed(settings.sip_host, cert, key)
    return cert, key


def _copy_private(source: Path, target: Path) -> None:
    tmp = target.with_name(target.name + ".tmp")
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
        f.write(source.read_bytes())
    tmp.replace(target)


def make_self_signed(host: str, cert: Path, key: Path) -> None:
    """A self-signed certificate for the SIP address (subjectAltName IP), RSA 2048, for the demo."""
    if shutil.which("openssl") is None:
        raise ConfigError("CC_SIP_TLS=on without a certificate needs openssl to make the demo's "
                          "(apt-get install openssl), or set CC_SIP_TLS_CERT and CC_SIP_TLS_KEY")
    tmp_key = key.with_name(key.name + ".tmp")
    done = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", str(DEMO_DAYS),
         "-subj", "/O=callcenter demo/CN=" + host, "-addext", f"subjectAltName=IP:{host}",
         "-keyout", str(tmp_key), "-out", str(cert)],
        capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise ConfigError(f"openssl could not make the demo's certificate: {done.stderr.strip()[-300:]}")
    tmp_key.chmod(0o600)
    tmp_key.replace(key)


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def pjsip_text(settings: Settings, cert: Path | None, key: Path | None) -> str:
    """The TLS transport (desk phones, softphones outside) and the wss one (the desktop's
    softphone through the HTTP server's TLS listener); nothing when TLS is off."""
    if not settings.sip_tls or cert is None or key is None:
        return "; SIP over TLS is off (CC_SIP_TLS=on turns it on)\n"
    return "\n".join([
        "; SIP over TLS for remote agents (callcenter/sip/tls.py); TLS 1.2 or later",
        f"[{TLS_TRANSPORT}]", "type = transport", "protocol = tls",
        f"bind = {_bind(settings.sip_host, settings.sip_tls_port)}",
        f"cert_file = {cert}", f"priv_key_file = {key}", "method = tlsv1_2", "",
        "; the desktop's softphone over wss: through the HTTP server's TLS listener (http_tls.conf)",
        f"[{WSS_TRANSPORT}]", "type = transport", "protocol = wss",
        f"bind = {_bind(settings.sip_host, settings.sip_wss_port)}", ""])


def http_text(settings: Settings, cert: Path | None, key: Path | None) -> str:
    """Lines of http.conf's [general]: its TLS listener, which carries wss (/ws)."""
    if not settings.sip_tls or cert is None or key is None:
        return "; no TLS listener (CC_SIP_TLS=on turns it on)\n"
    return "\n".join([
        "; wss for the desktop's softphone (callcenter/sip/tls.py)", "tlsenable = yes",
        f"tlsbindaddr = {_bind(settings.sip_host, settings.sip_wss_port)}",
        f"tlscertfile = {cert}", f"tlsprivatekey = {key}", ""])


def write_conf(settings: Settings, etc: Path) -> None:
    """Both files in Asterisk's etc folder, made ready first when TLS is on."""
    cert, key = prepare(settings) if settings.sip_tls else (None, None)
    (etc / PJSIP_FILE).write_text(pjsip_text(settings, cert, key))
    (etc / HTTP_FILE).write_text(http_text(settings, cert, key))
