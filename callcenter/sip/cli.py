"""`callcenter trunk|number|phone|sip ...`: carriers, access numbers and agent phones from the
command line. Each change is stored, then announced to the running SIP service, which applies it
to Asterisk without a restart (or, with nothing running, the next `callcenter up` does).

    callcenter trunk add NAME --host HOST [--port P] [--username U --password-stdin] [--register] [--outbound]
    callcenter trunk list | remove NAME
    callcenter number add NUMBER --trunk NAME [--entry NODE | --skill SKILL] [--label TEXT]
    callcenter number list | remove NUMBER
    callcenter phone list | show EXT | reset EXT [--device sip|webrtc] [--password-stdin] | use EXT sip|webrtc
    callcenter sip apply

Passwords are read from standard input (--password-stdin), never from the command line, where
any user of the machine could read them in the process list.
"""
from __future__ import annotations

import argparse
import sys

from sqlalchemy import select

from callcenter.digits import ascii_int_arg
from callcenter.config import Settings
from callcenter.sip import names, store
from callcenter.sip.names import SipConfigError

COMMANDS = ("trunk", "number", "phone", "sip")


def add_parsers(sub) -> None:
    trunk = sub.add_parser("trunk", help="carriers' SIP trunks").add_subparsers(dest="action", required=True)
    add = trunk.add_parser("add", help="add or change a carrier")
    add.add_argument("name")
    add.add_argument("--host", required=True, help="the carrier's IP address or host name")
    add.add_argument("--port", type=ascii_int_arg, default=5060)
    add.add_argument("--username", default=None, help="for registration and authenticated calls out")
    add.add_argument("--password-stdin", action="store_true", help="read the carrier's password from stdin")
    add.add_argument("--register", action="store_true", help="register to the carrier to receive its calls")
    add.add_argument("--outbound", action="store_true", help="call backs leave through this carrier")
    trunk.add_parser("list")
    trunk.add_parser("remove").add_argument("name")

    number = sub.add_parser("number", help="access numbers").add_subparsers(dest="action", required=True)
    add = number.add_parser("add", help="add or change an access number")
    add.add_argument("number")
    add.add_argument("--trunk", required=True, help="the carrier that delivers it")
    target = add.add_mutually_exclusive_group()
    target.add_argument("--entry", default=None, help="start the menu at this node of the flow")
    target.add_argument("--skill", default=None, help="straight to this skill's queue, no menu")
    add.add_argument("--label", default="")
    number.add_parser("list")
    number.add_parser("remove").add_argument("number")

    phone = sub.add_parser("phone", help="agents' SIP phones").add_subparsers(dest="action", required=True)
    phone.add_parser("list")
    phone.add_parser("show").add_argument("extension")
    reset = phone.add_parser("reset", help="a new password (generated, or read from stdin)")
    reset.add_argument("extension")
    reset.add_argument("--device", choices=names.DEVICES, default="sip")
    reset.add_argument("--password-stdin", action="store_true")
    use = phone.add_parser("use", help="where the agent's calls ring")
    use.add_argument("extension")
    use.add_argument("device", choices=names.DEVICES)

    sip = sub.add_parser("sip", help="apply the SIP configuration now").add_subparsers(dest="action", required=True)
    sip.add_parser("apply")


def _password(args) -> str | None:
    if not getattr(args, "password_stdin", False):
        return None
    return sys.stdin.readline().rstrip("\r\n")


def account_lines(settings: Settings, phone, name: str = "") -> list[str]:
    """What a person needs to register a phone as this agent, and to use the desktop's softphone."""
    host = settings.sip_host
    return [f"agent {phone.extension}" + (f" ({name})" if name else ""),
            f"  SIP phone:         server {host} port {settings.sip_port} (UDP), user {phone.extension}, "
            f"password {phone.sip_password}",
            f"  desktop softphone: ws://{host}:{settings.sip_ws_port}/ws, user "
            f"{names.phone_endpoint(phone.extension, 'webrtc')} (the desktop signs it in)"]


def _announce(settings: Settings) -> str:
    import redis as sync_redis

    from callcenter.sip.service import announce

    try:
        outcome = announce(sync_redis.Redis.from_url(settings.effective_redis_url, socket_timeout=3))
    except sync_redis.RedisError:
        outcome = None
    if outcome is None:
        return "stored; the call center is not running: `callcenter up` applies it"
    if outcome.get("ok"):
        return f"applied to the running Asterisk ({outcome.get('message')})"
    raise SipConfigError(outcome.get("code") or "APPLY_FAILED", outcome.get("message") or "not applied")


def run(settings: Settings, args: argparse.Namespace) -> int:
    from callcenter import db

    db.upgrade(settings.database_url)  # a carrier may be declared before the first `callcenter up`
    sessions = db.session_factory(settings.database_url)
    try:
        return _run(settings, args, sessions)
    except SipConfigError as exc:
        print(f"callcenter: error {exc.code}: {exc.message}", file=sys.stderr)
        return 2


def _run(settings: Settings, args, sessions) -> int:
    from callcenter.models import AccessNumber, AgentPhone, Carrier, User

    cmd, action = args.command, args.action
    with sessions() as s:
        if (cmd, action) == ("trunk", "list"):
            for c in s.scalars(select(Carrier).order_by(Carrier.name)):
                flags = [f for f, on in (("register", c.register), ("outbound", c.outbound)) if on]
                print(f"{c.name:<16} {c.host}:{c.port}  user {c.username or '-'}  "
                      f"numbers {','.join(sorted(n.number for n in c.numbers)) or '-'}  {' '.join(flags)}")
            return 0
        if (cmd, action) == ("number", "list"):
            for n in s.scalars(select(AccessNumber).order_by(AccessNumber.number)):
                target = f"skill {n.skill}" if n.skill else f"entry {n.entry}" if n.entry else "the menu"
                print(f"{n.number:<20} {n.carrier.name:<16} {target}  {n.label}")
            return 0
        if (cmd, action) == ("phone", "list"):
            rows = s.execute(select(User.agent_extension, User.display_name, AgentPhone.extension)
                             .outerjoin(AgentPhone, AgentPhone.extension == User.agent_extension)
                             .where(User.agent_extension.is_not(None)).order_by(User.agent_extension)).all()
            for ext, name, provisioned in rows:
                print(f"{ext}  {'provisioned' if provisioned else 'no phone yet':<13} {name}")
            return 0
        if (cmd, action) == ("phone", "show"):
            row = store.phone(s, args.extension)
            name = s.scalar(select(User.display_name).where(User.agent_extension == row.extension)) or ""
            s.commit()
            print("\n".join(account_lines(settings, row, name)))
            return 0
        if (cmd, action) == ("phone", "use"):
            import redis as sync_redis

            from callcenter.sip import phones
            store.phone(s, args.extension)  # the agent exists and has credentials
            s.commit()
            try:
                phones.choose(sync_redis.Redis.from_url(settings.effective_redis_url, socket_timeout=3),
                              args.extension, args.device)
            except sync_redis.RedisError:
                raise SipConfigError("NOT_RUNNING", "where calls ring is live state: start the call center "
                                     "first (`callcenter up`)") from None
            print(f"agent {args.extension}: calls ring on the {args.device} phone")
            return 0
        if cmd == "trunk" and action == "add":
            password = _password(args)
            store.save_carrier(s, args.name, args.host, args.port, args.username, password, args.register,
                               args.outbound)
        elif cmd == "trunk" and action == "remove":
            store.remove_carrier(s, args.name)
        elif cmd == "number" and action == "add":
            from ivr.service import load_hotline
            store.save_number(s, args.number, args.trunk, args.entry, args.skill, args.label,
                              flow_nodes=set(load_hotline().nodes))
        elif cmd == "number" and action == "remove":
            store.remove_number(s, args.number)
        elif cmd == "phone" and action == "reset":
            value = store.set_password(s, args.extension, _password(args), args.device)
            print(f"agent {args.extension}: new {args.device} password {value}")
        elif (cmd, action) != ("sip", "apply"):
            raise SipConfigError("UNKNOWN_COMMAND", f"unknown command {cmd} {action}")
        s.commit()
    print(_announce(settings))
    return 0
