"""Settings for every process of the call center, read from the environment once.

Every value has an embedded default so `callcenter demo` runs with no configuration:
a state folder (``CALLCENTER_HOME``), a SQLite file in it, a local Redis and a local
Asterisk on loopback ports. A bad value fails at start with one clear line
(:class:`ConfigError`), never later in the middle of a call.

Secrets (the AMI password of our services, the local Redis password, the secret in the
FastAGI URL) are generated on first use and kept in ``<home>/secrets.json`` (mode 0600), so
they never sit in the repository or on a command line.
"""
from __future__ import annotations

import ipaddress
import json
import os
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message says which and why."""


def read_rules_file(path: Path, default_text: str) -> dict:
    """A center's rules file (TOML: callbacks, retention, quality, survey) as a mapping. Written with
    its defaults first when there is none, so an operator finds every setting, commented, in place;
    a syntax error is one ConfigError naming the file."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(default_text)
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None


DEFAULT_HOME = Path.home() / ".callcenter"
DEFAULT_ASTERISK_CACHE = Path("/var/cache/callcenter/asterisk-root")


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a port number (1-65535)") from None
    if not 1 <= value <= 65535:
        raise ConfigError(f"{name}={value} is outside 1-65535")
    return value


def _loopback_host(env: Mapping[str, str], name: str, default: str = "127.0.0.1") -> str:
    value = env.get(name, default)
    if not value or any(c.isspace() for c in value):
        raise ConfigError(f"{name}={value!r} is not a host name or address")
    return value


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _agi_peers(env: Mapping[str, str], agi_host: str) -> tuple[str, ...]:
    """CC_AGI_PEERS: the Asterisk addresses besides loopback that may reach FastAGI. Serving
    beyond loopback (CC_AGI_HOST) without naming them would let anyone on the network run menus."""
    peers = tuple(p.strip() for p in env.get("CC_AGI_PEERS", "").split(",") if p.strip())
    for peer in peers:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            raise ConfigError(f"CC_AGI_PEERS: {peer!r} is not an IP address") from None
        if address.is_unspecified or address.is_multicast:
            raise ConfigError(f"CC_AGI_PEERS: {peer!r} is not one host's address")
    if not _is_loopback(agi_host) and not peers:
        raise ConfigError(f"CC_AGI_HOST={agi_host!r} listens beyond loopback: name the Asterisk address(es) "
                          "allowed to connect in CC_AGI_PEERS")
    return peers


def _sip_host(env: Mapping[str, str]) -> str:
    """CC_SIP_HOST: the IP address Asterisk's SIP and websocket transports bind to (a carrier
    must reach it). An address, not a name: it is written into pjsip.conf and http.conf."""
    value = env.get("CC_SIP_HOST", "127.0.0.1")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ConfigError(f"CC_SIP_HOST={value!r} is not an IP address") from None


def _sip_tls(env: Mapping[str, str]) -> dict:
    """CC_SIP_TLS=on: SIP over TLS (CC_SIP_TLS_PORT, 5061) and the softphone's websocket over TLS
    (wss, CC_SIP_WSS_PORT, 8089) for agents outside the building. The certificate: the operator's
    (CC_SIP_TLS_CERT and CC_SIP_TLS_KEY, PEM files, both or neither), else a self-signed one made
    for the demo under the home (callcenter/sip/tls.py). CC_SIP_PHONE_SECURITY=tls: agents' desk
    phones must use TLS and SRTP (needs CC_SIP_TLS=on)."""
    switch = env.get("CC_SIP_TLS", "off")
    if switch not in ("on", "off"):
        raise ConfigError(f"CC_SIP_TLS={switch!r} must be on or off")
    cert, key = env.get("CC_SIP_TLS_CERT") or None, env.get("CC_SIP_TLS_KEY") or None
    if (cert is None) != (key is None):
        raise ConfigError("CC_SIP_TLS_CERT and CC_SIP_TLS_KEY go together: the certificate and its private key")
    for name, value in (("CC_SIP_TLS_CERT", cert), ("CC_SIP_TLS_KEY", key)):
        if value is not None and not Path(value).is_file():
            raise ConfigError(f"{name}={value!r} is not a file")
    security = env.get("CC_SIP_PHONE_SECURITY", "none")
    if security not in ("none", "tls"):
        raise ConfigError(f"CC_SIP_PHONE_SECURITY={security!r} must be none or tls")
    if security == "tls" and switch != "on":
        raise ConfigError("CC_SIP_PHONE_SECURITY=tls needs CC_SIP_TLS=on")
    return {"sip_tls": switch == "on", "sip_tls_port": _port(env, "CC_SIP_TLS_PORT", 5061),
            "sip_wss_port": _port(env, "CC_SIP_WSS_PORT", 8089),
            "sip_tls_cert": Path(cert).absolute() if cert else None,
            "sip_tls_key": Path(key).absolute() if key else None, "sip_phone_security": security}


def _web_tls(env: Mapping[str, str], web_host: str) -> dict:
    """How the desktop is served securely (issue 15, "serving the floor"). CC_WEB_TLS_CERT and
    CC_WEB_TLS_KEY (PEM files, both or neither): the web worker serves HTTPS (and wss) itself.
    CC_WEB_TLS_PROXY=on: a TLS-terminating proxy is in front, whose one hop of X-Forwarded-* is
    trusted. Either way cookies are Secure and every response carries HSTS (agent_desktop/serving.py).
    Beyond loopback one of them is required: agents' passwords and customers' data would otherwise
    cross the floor's network in clear. No self-signed pair is made for the web (unlike SIP's): a
    browser warning every agent learns to click through is worse than a refusal that says what to set."""
    cert, key = env.get("CC_WEB_TLS_CERT") or None, env.get("CC_WEB_TLS_KEY") or None
    if (cert is None) != (key is None):
        raise ConfigError("CC_WEB_TLS_CERT and CC_WEB_TLS_KEY go together: the certificate and its private key")
    for name, value in (("CC_WEB_TLS_CERT", cert), ("CC_WEB_TLS_KEY", key)):
        if value is not None and not Path(value).is_file():
            raise ConfigError(f"{name}={value!r} is not a file")
    proxy = env.get("CC_WEB_TLS_PROXY", "off")
    if proxy not in ("on", "off"):
        raise ConfigError(f"CC_WEB_TLS_PROXY={proxy!r} must be on or off")
    if not _is_loopback(web_host) and cert is None and proxy == "off":
        raise ConfigError(f"CC_WEB_HOST={web_host!r} serves the desktop beyond loopback in plain HTTP: set "
                          "CC_WEB_TLS_CERT and CC_WEB_TLS_KEY (PEM files) to serve HTTPS, or CC_WEB_TLS_PROXY=on "
                          "if a TLS-terminating proxy is in front")
    return {"web_tls_cert": Path(cert).absolute() if cert else None,
            "web_tls_key": Path(key).absolute() if key else None, "web_tls_proxy": proxy == "on"}


MAX_INSTANCES = 8  # processes of one kind on one machine; more is a typo, not a plan


def _instances(env: Mapping[str, str], name: str) -> int:
    """CC_ROUTERS, CC_AGI_SERVERS, CC_WEB_WORKERS: how many processes of that kind `callcenter up`
    starts on this home's Redis and database (scale-out, issue 15; callcenter/services.py)."""
    raw = env.get(name, "1")
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_INSTANCES:
        raise ConfigError(f"{name}={raw!r} must be a whole number from 1 to {MAX_INSTANCES}")
    return int(raw)


def _monitor_notice(env: Mapping[str, str]) -> str:
    value = env.get("CC_MONITOR_NOTICE", "coaching")
    if value not in ("never", "coaching", "always"):
        raise ConfigError(f"CC_MONITOR_NOTICE={value!r} must be never, coaching or always")
    return value


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    redis_url: str | None  # None: we start and own a local redis-server
    redis_port: int  # port of the local redis-server we start
    ami_host: str
    ami_port: int
    ami_user: str
    agi_host: str
    agi_port: int
    sip_port: int
    asterisk_cache: Path  # Debian root with Asterisk, built by debootstrap when needed
    asterisk_binary: str | None  # a system Asterisk to use instead of the root
    web_host: str = "127.0.0.1"  # the agent desktop (CC_WEB_HOST=0.0.0.0 to serve the floor)
    web_port: int = 8080
    agi_peers: tuple[str, ...] = ()  # Asterisk addresses besides loopback that may reach FastAGI
    sip_host: str = "127.0.0.1"  # the address SIP (UDP) and its websocket listen on (CC_SIP_HOST)
    sip_ws_port: int = 8088  # Asterisk's HTTP server: SIP over websocket for the desktop's softphone
    # SIP over TLS and wss for remote agents (CC_SIP_TLS ...: see _sip_tls); off by default
    sip_tls: bool = False
    sip_tls_port: int = 5061
    sip_wss_port: int = 8089
    sip_tls_cert: Path | None = None  # the operator's certificate and key; None: the demo's self-signed one
    sip_tls_key: Path | None = None
    sip_phone_security: str = "none"  # "tls": desk phones must use TLS and SRTP
    # CC_MONITOR_NOTICE: when the agent's desktop says "being coached" (acd/monitor.py): "never",
    # "coaching" (whisper and barge, which the agent hears anyway; the default) or "always" (listen too)
    monitor_notice: str = "coaching"
    # scale-out (issue 15): processes of each kind on one Redis and one database; 1 is the demo's
    routers: int = 1  # CC_ROUTERS: acd-1, acd-2 ... (Redis's Lua arbitrates every reservation)
    agi_servers: int = 1  # CC_AGI_SERVERS: ivr-1 ... all on CC_AGI_PORT (SO_REUSEPORT)
    web_workers: int = 1  # CC_WEB_WORKERS: web-1 on CC_WEB_PORT, web-2 on the next port ...
    # the desktop over TLS (CC_WEB_TLS_*: see _web_tls); required beyond loopback
    web_tls_cert: Path | None = None
    web_tls_key: Path | None = None
    web_tls_proxy: bool = False  # a TLS-terminating proxy is in front (one hop of X-Forwarded-* trusted)

    # ---- derived paths: one place that names every folder we use ----
    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def asterisk_dir(self) -> Path:
        return self.home / "asterisk"

    @property
    def prompts_dir(self) -> Path:
        return self.home / "prompts"

    @property
    def recordings_dir(self) -> Path:
        return self.home / "recordings"

    @property
    def moh_dir(self) -> Path:
        return self.home / "moh"

    @property
    def web_secure(self) -> bool:
        """Browsers reach the desktop over TLS (its own or a proxy's): Secure cookies and HSTS."""
        return self.web_tls_cert is not None or self.web_tls_proxy

    @property
    def web_on_loopback(self) -> bool:
        return _is_loopback(self.web_host)

    @property
    def web_ports(self) -> tuple[int, ...]:
        """The port of each web worker: CC_WEB_PORT and the ones after it (see services.py)."""
        return tuple(range(self.web_port, self.web_port + self.web_workers))

    @property
    def agi_url(self) -> str:
        """What the dialplan's AGI() calls start with (CC_AGI_URL): the shared secret is the first
        part of the path, and the FastAGI server refuses a request without it."""
        return f"agi://{self.agi_host}:{self.agi_port}/{self.agi_secret}"

    # ---- secrets ----
    def secret(self, name: str) -> str:
        """Return the named secret, creating ``secrets.json`` on first use."""
        path = self.home / "secrets.json"
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)  # the home: owner only (issue 15)
        data: dict[str, str] = {}
        if path.exists():
            data = json.loads(path.read_text())
        if name not in data:
            from callcenter.runtime.files import write_private  # 0600 from the first byte, whatever the umask

            data[name] = secrets.token_hex(16)
            write_private(path, json.dumps(data, indent=1))
        return data[name]

    @property
    def ami_secret(self) -> str:
        return self.secret("ami")

    @property
    def agi_secret(self) -> str:
        return self.secret("agi")

    @property
    def ami_provision_user(self) -> str:
        """The AMI user that reloads SIP configuration (asterisk_conf/manager_provision.conf)."""
        return f"{self.ami_user}_sip"

    @property
    def ami_provision_secret(self) -> str:
        return self.secret("ami-sip")

    @property
    def effective_redis_url(self) -> str:
        if self.redis_url:
            return self.redis_url
        return f"redis://:{self.secret('redis')}@127.0.0.1:{self.redis_port}/0"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        home = Path(env.get("CALLCENTER_HOME", str(DEFAULT_HOME))).expanduser().absolute()
        database_url = env.get("DATABASE_URL") or f"sqlite:///{home / 'callcenter.db'}"
        if "://" not in database_url:
            raise ConfigError(f"DATABASE_URL={database_url!r} is not a URL such as postgresql://user@host/db")
        redis_url = env.get("REDIS_URL") or None
        if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError(f"REDIS_URL={redis_url!r} must start with redis://, rediss:// or unix://")
        ami_user = env.get("CC_AMI_USER", "callcenter")
        if not ami_user.isidentifier():
            raise ConfigError(f"CC_AMI_USER={ami_user!r} must be letters, digits and underscores")
        agi_host = _loopback_host(env, "CC_AGI_HOST")
        web_host = _loopback_host(env, "CC_WEB_HOST")
        web_port, web_workers = _port(env, "CC_WEB_PORT", 8080), _instances(env, "CC_WEB_WORKERS")
        if web_port + web_workers - 1 > 65535:
            raise ConfigError(f"CC_WEB_WORKERS={web_workers} needs ports {web_port}-{web_port + web_workers - 1}: "
                              "past 65535")
        binary = env.get("CC_ASTERISK_BINARY") or None
        if binary and not Path(binary).is_file():
            raise ConfigError(f"CC_ASTERISK_BINARY={binary!r} does not exist")
        return cls(
            home=home,
            database_url=database_url,
            redis_url=redis_url,
            redis_port=_port(env, "CC_REDIS_PORT", 6390),
            ami_host=_loopback_host(env, "CC_AMI_HOST"),
            ami_port=_port(env, "CC_AMI_PORT", 5038),
            ami_user=ami_user,
            agi_host=agi_host,
            agi_port=_port(env, "CC_AGI_PORT", 4573),
            sip_port=_port(env, "CC_SIP_PORT", 5060),
            asterisk_cache=Path(env.get("CC_ASTERISK_CACHE", str(DEFAULT_ASTERISK_CACHE))),
            asterisk_binary=binary,
            web_host=web_host,
            web_port=web_port,
            agi_peers=_agi_peers(env, agi_host),
            sip_host=_sip_host(env),
            sip_ws_port=_port(env, "CC_SIP_WS_PORT", 8088),
            **_sip_tls(env),
            monitor_notice=_monitor_notice(env),
            routers=_instances(env, "CC_ROUTERS"),
            agi_servers=_instances(env, "CC_AGI_SERVERS"),
            web_workers=web_workers,
            **_web_tls(env, web_host),
        )
