"""The services `callcenter up` supervises, in start order, built in one place."""
from __future__ import annotations

import sys

from callcenter.config import Settings
from callcenter.runtime import asterisk, redis_server
from callcenter.runtime.ports import ensure_free
from callcenter.runtime.supervisor import Service


def python_service(name: str, module: str, port: int | None = None, wait_ready_s: float = 0.0) -> Service:
    return Service(name=name, argv=[sys.executable, "-m", module], port=port, wait_ready_s=wait_ready_s)


def check_ports(settings: Settings) -> None:
    """One clear line for a port already in use, before anything starts."""
    if not settings.redis_url:
        ensure_free(settings.redis_port, "Redis", "CC_REDIS_PORT")
    ensure_free(settings.ami_port, "Asterisk AMI", "CC_AMI_PORT")
    ensure_free(settings.sip_port, "SIP", "CC_SIP_PORT")
    ensure_free(settings.sip_ws_port, "SIP over websocket", "CC_SIP_WS_PORT", host=settings.sip_host)
    if settings.sip_tls:
        ensure_free(settings.sip_tls_port, "SIP over TLS", "CC_SIP_TLS_PORT", host=settings.sip_host)
        ensure_free(settings.sip_wss_port, "SIP over secure websocket", "CC_SIP_WSS_PORT", host=settings.sip_host)
    ensure_free(settings.agi_port, "FastAGI", "CC_AGI_PORT", host=settings.agi_host)
    ensure_free(settings.web_port, "agent desktop", "CC_WEB_PORT", host=settings.web_host)


def write_sip_config(settings: Settings) -> None:
    """The trunks and agent phones of the database, written (and proven) before Asterisk starts."""
    from callcenter import db
    from callcenter.sip import apply

    apply.write_files(apply.etc_dir(settings), apply.build(db.session_factory(settings.database_url),
                                                           settings.sip_phone_security == "tls"))


def build_services(settings: Settings, install: asterisk.AsteriskInstall, demo: bool = False) -> list[Service]:
    services: list[Service] = []
    if not settings.redis_url:
        services.append(Service("redis", redis_server.command(settings), port=settings.redis_port, wait_ready_s=10))
    conf = asterisk.render_config(settings, install)
    write_sip_config(settings)
    services.append(Service("asterisk", asterisk.command(settings, install, conf), port=settings.ami_port,
                            wait_ready_s=30))
    services.append(python_service("ivr", "ivr", port=settings.agi_port, wait_ready_s=10))
    services.append(python_service("cdr", "cdr"))
    services.append(python_service("acd", "acd"))
    services.append(python_service("sip", "callcenter.sip"))
    services.append(python_service("desktop-push", "agent_desktop.push"))
    services.append(python_service("web", "agent_desktop", port=settings.web_port, wait_ready_s=15))
    if demo:
        services.append(python_service("demo-callers", "callcenter.demo_calls"))
    return services
