"""Scale-out settings (issue 15): how many routers, FastAGI servers and web workers `callcenter up`
starts, each its own supervised process; one of each is the demo's and behaves as before."""
import asyncio

import pytest

from callcenter.config import ConfigError, Settings
from callcenter.services import check_ports, scaled_services
from ivr.fastagi import FastAgiServer


def settings(tmp_path, **env) -> Settings:
    return Settings.from_env({"CALLCENTER_HOME": str(tmp_path), **env})


def test_one_of_each_by_default_under_the_names_they_always_had(tmp_path):
    s = settings(tmp_path)
    assert (s.routers, s.agi_servers, s.web_workers) == (1, 1, 1)
    scaled = scaled_services(s)
    assert [svc.name for kind in ("acd", "ivr", "web") for svc in scaled[kind]] == ["acd", "ivr", "web"]
    assert scaled["web"][0].port == 8080 and scaled["ivr"][0].port == 4573


def test_two_of_each_are_separate_processes_with_their_own_names(tmp_path):
    s = settings(tmp_path, CC_ROUTERS="2", CC_AGI_SERVERS="3", CC_WEB_WORKERS="2", CC_WEB_PORT="9100")
    scaled = scaled_services(s)
    assert [svc.name for svc in scaled["acd"]] == ["acd-1", "acd-2"]
    assert [svc.name for svc in scaled["ivr"]] == ["ivr-1", "ivr-2", "ivr-3"]
    assert [svc.name for svc in scaled["web"]] == ["web-1", "web-2"]
    # FastAGI: one port for all (the dialplan has one URL); web: a port each, told through the env
    assert {svc.port for svc in scaled["ivr"]} == {s.agi_port}
    assert [(svc.port, svc.env["CC_WEB_PORT"]) for svc in scaled["web"]] == [(9100, "9100"), (9101, "9101")]
    assert all(svc.argv[-2:] == ["-m", "acd"] for svc in scaled["acd"])


@pytest.mark.parametrize("name, value", [("CC_ROUTERS", "0"), ("CC_ROUTERS", "9"), ("CC_AGI_SERVERS", "two"),
                                         ("CC_WEB_WORKERS", "-1"), ("CC_WEB_WORKERS", "\u0662"),
                                         ("CC_ROUTERS", "")])
def test_counts_outside_one_to_eight_fail_with_one_line(tmp_path, name, value):
    with pytest.raises(ConfigError, match=f"{name}=.* must be a whole number from 1 to 8"):
        settings(tmp_path, **{name: value})


def test_web_workers_past_the_last_port_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="CC_WEB_WORKERS=2 needs ports 65535-65536"):
        settings(tmp_path, CC_WEB_PORT="65535", CC_WEB_WORKERS="2")


def test_every_web_workers_port_is_checked_free(tmp_path, monkeypatch):
    checked = []
    monkeypatch.setattr("callcenter.services.ensure_free", lambda port, what, env, host="": checked.append(port))
    check_ports(settings(tmp_path, CC_WEB_PORT="9100", CC_WEB_WORKERS="3"))
    assert {9100, 9101, 9102} <= set(checked) and 9103 not in checked


async def _two_servers_on_one_port(reuse_port: bool):
    first = FastAgiServer({}, secret="s")
    listener = await first.start("127.0.0.1", 0, reuse_port=reuse_port)
    port = listener.sockets[0].getsockname()[1]
    try:
        second = await FastAgiServer({}, secret="s").start("127.0.0.1", port, reuse_port=reuse_port)
        second.close()
        return True
    except OSError:
        return False
    finally:
        listener.close()


def test_fastagi_servers_share_a_port_only_when_scaled_out():
    assert asyncio.run(_two_servers_on_one_port(reuse_port=True))
    assert not asyncio.run(_two_servers_on_one_port(reuse_port=False))  # one server: a stray second refused
