"""The services `callcenter up` supervises, in start order, built in one place."""
from __future__ import annotations

import sys

from callcenter.config import Settings
from callcenter.runtime import asterisk, redis_server
from callcenter.runtime.ports import ensure_free
from callcenter.runtime.supervisor import Service


def python_service(name: str, module: str, port: int | None = None, wait_ready_s: float = 0.0,
                   env: dict[str, str] | None = None) -> Service:
    return Service(name=name, argv=[sys.executable, "-m", module], port=port, wait_ready_s=wait_ready_s,
                   env=env or {})


def instance_names(kind: str, count: int) -> list[str]:
    """One process: its kind's plain name, as before scale-out ("acd"); several: acd-1, acd-2 ..."""
    return [kind] if count == 1 else [f"{kind}-{i}" for i in range(1, count + 1)]


def scaled_services(settings: Settings) -> dict[str, list[Service]]:
    """The kinds that may run several times on one Redis and one database (issue 15), each
    instance a separately supervised process. How they share the work:

    - routers (CC_ROUTERS): every router hears every dialplan event and Redis's Lua scripts
      arbitrate each reservation and state change (acd/store.py); desktop commands are a list
      that exactly one router pops (acd/commands.py). Nothing to share out.
    - FastAGI servers (CC_AGI_SERVERS): all listen on CC_AGI_PORT with SO_REUSEPORT and the
      kernel spreads new connections; one AGI session is one connection, so no stickiness is
      needed, and the dialplan keeps its one AGI URL (AGI() has no list of servers to fail
      over between). A server that dies takes only the sessions it had (they go to agi_fail).
    - web workers (CC_WEB_WORKERS): one port each, CC_WEB_PORT, CC_WEB_PORT+1 ... so a test, a
      bench or a load balancer can address each. The browser's Socket.IO uses the websocket
      transport only (static/common.js), so a connection lives in one worker and needs no sticky
      balancer; the login cookie is signed with the home's shared secret, so any worker serves
      any page; pushes reach every worker through Socket.IO's Redis message queue.
    The once-per-floor processes (cdr, sip, desktop-push) stay single."""
    routers = [python_service(name, "acd") for name in instance_names("acd", settings.routers)]
    agi = [python_service(name, "ivr", port=settings.agi_port, wait_ready_s=10)
           for name in instance_names("ivr", settings.agi_servers)]
    web = [python_service(name, "agent_desktop", port=port, wait_ready_s=15, env={"CC_WEB_PORT": str(port)})
           for name, port in zip(instance_names("web", settings.web_workers), settings.web_ports)]
    return {"acd": routers, "ivr": agi, "web": web}


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
    for port in settings.web_ports:  # CC_WEB_WORKERS > 1: the ports after CC_WEB_PORT too
        ensure_free(port, "agent desktop", "CC_WEB_PORT", host=settings.web_host)


def write_sip_config(settings: Settings) -> None:
    """The trunks and agent phones of the database, written (and proven) before Asterisk starts."""
    from callcenter import db
    from callcenter.sip import apply

    apply.write_files(apply.etc_dir(settings), apply.build(db.session_factory(settings.database_url),
                                                           settings.sip_phone_security == "tls"))


def build_services(settings: Settings, install: asterisk.AsteriskInstall, demo: bool = False) -> list[Service]:
    from callcenter.runtime import service_user

    user = service_user.resolve()  # started as root: the services run as this user (issue 15)
    services: list[Service] = []
    if not settings.redis_url:
        services.append(Service("redis", redis_server.command(settings), port=settings.redis_port, wait_ready_s=10))
    conf = asterisk.render_config(settings, install)
    write_sip_config(settings)
    services.append(Service("asterisk", asterisk.command(settings, install, conf, user), port=settings.ami_port,
                            wait_ready_s=30))
    scaled = scaled_services(settings)
    services += scaled["ivr"]
    services.append(python_service("cdr", "cdr"))
    services += scaled["acd"]
    services.append(python_service("sip", "callcenter.sip"))
    services.append(python_service("desktop-push", "agent_desktop.push"))
    services += scaled["web"]
    if demo:
        services.append(python_service("demo-callers", "callcenter.demo_calls"))
    if user:
        service_user.run_as(services, user, keep=("asterisk",))  # Asterisk drops to it itself, after its mounts
    return services
