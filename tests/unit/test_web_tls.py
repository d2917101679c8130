"""Serving the floor (issue 15): TLS beyond loopback, Secure cookies and HSTS, a declared proxy.

The rules (callcenter/config.py _web_tls) from plain mappings; what they change in the real Flask app
(agent_desktop/serving.py) through Flask's test client, with the unit tier's fake Redis and router.
The integration tier serves real HTTPS and wss to a real browser (test_web_tls.py there).
"""
from __future__ import annotations

import dataclasses

import pytest

from agent_desktop import create_app
from callcenter.config import ConfigError, Settings
from tests import db_template
from tests.unit.test_desktop_access import FakeRedis, FakeRouter, world_db  # noqa: F401


@pytest.fixture
def pem(tmp_path):
    """Two files standing for the operator's certificate and key: the rules only check they exist."""
    cert, key = tmp_path / "web.crt", tmp_path / "web.key"
    cert.write_text("certificate")
    key.write_text("key")
    return str(cert), str(key)


def settings(tmp_path, **env) -> Settings:
    return Settings.from_env({"CALLCENTER_HOME": str(tmp_path), **env})


# ---- the rules ----

@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.53"])
def test_loopback_serves_plain_http_as_before(tmp_path, host):
    s = settings(tmp_path, CC_WEB_HOST=host)
    assert (s.web_tls_cert, s.web_tls_proxy, s.web_secure, s.web_on_loopback) == (None, False, False, True)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "floor.example"])
def test_plain_http_beyond_loopback_is_refused_with_what_to_set(tmp_path, host):
    with pytest.raises(ConfigError) as refused:
        settings(tmp_path, CC_WEB_HOST=host)
    message = str(refused.value)
    assert f"CC_WEB_HOST={host!r} serves the desktop beyond loopback in plain HTTP" in message
    assert "CC_WEB_TLS_CERT and CC_WEB_TLS_KEY" in message and "CC_WEB_TLS_PROXY=on" in message
    assert "\n" not in message  # one line, as every ConfigError


def test_beyond_loopback_with_a_certificate_serves_tls(tmp_path, pem):
    s = settings(tmp_path, CC_WEB_HOST="0.0.0.0", CC_WEB_TLS_CERT=pem[0], CC_WEB_TLS_KEY=pem[1])
    assert (str(s.web_tls_cert), str(s.web_tls_key), s.web_tls_proxy) == (*pem, False)
    assert s.web_secure and not s.web_on_loopback


def test_beyond_loopback_behind_a_declared_proxy(tmp_path):
    s = settings(tmp_path, CC_WEB_HOST="10.1.2.3", CC_WEB_TLS_PROXY="on")
    assert (s.web_tls_cert, s.web_tls_proxy, s.web_secure) == (None, True, True)


def test_a_proxy_on_the_same_host_is_secure_on_loopback_too(tmp_path):
    """The usual deployment: nginx on the machine terminates TLS and forwards to 127.0.0.1."""
    assert settings(tmp_path, CC_WEB_TLS_PROXY="on").web_secure


def test_a_certificate_on_loopback_serves_tls(tmp_path, pem):
    assert settings(tmp_path, CC_WEB_TLS_CERT=pem[0], CC_WEB_TLS_KEY=pem[1]).web_secure


@pytest.mark.parametrize("env, words", [
    ({"CC_WEB_TLS_CERT": "CERT"}, "CC_WEB_TLS_CERT and CC_WEB_TLS_KEY go together"),
    ({"CC_WEB_TLS_KEY": "KEY"}, "CC_WEB_TLS_CERT and CC_WEB_TLS_KEY go together"),
    ({"CC_WEB_TLS_CERT": "/nonexistent/web.crt", "CC_WEB_TLS_KEY": "KEY"}, "CC_WEB_TLS_CERT='/nonexistent/web.crt' is not a file"),
    ({"CC_WEB_TLS_PROXY": "yes"}, "CC_WEB_TLS_PROXY='yes' must be on or off"),
    ({"CC_WEB_TLS_PROXY": "on\n"}, "must be on or off"),
])
def test_malformed_tls_settings_fail_with_one_line(tmp_path, pem, env, words):
    env = {k: {"CERT": pem[0], "KEY": pem[1]}.get(v, v) for k, v in env.items()}
    with pytest.raises(ConfigError, match=words):
        settings(tmp_path, **env)


# ---- what they change in the app ----

@pytest.fixture
def app_for(tmp_path, world_db):  # noqa: F811
    """The real app on this test's copy of the desktop world, served as `changes` say."""
    def build(**changes):
        base = settings(tmp_path)
        db_template.copy(world_db[0], tmp_path / "callcenter.db")
        app = create_app(dataclasses.replace(base, **changes), router=FakeRouter(), redis=FakeRedis(),
                         message_queue=False)
        app.config["TESTING"] = True

        @app.get("/probe-request")  # what the app sees of the request, after any middleware
        def probe():
            from flask import request
            return {"secure": request.is_secure, "address": request.remote_addr}
        return app
    return build


def log_in(client, base_url="http://localhost", **headers):
    import re
    page = client.get("/login", base_url=base_url, headers=headers).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/login", base_url=base_url, headers=headers,
                       data={"username": "agent", "password": "secret-agent", "csrf_token": token})


def session_cookie(reply) -> str:
    return next(v for v in reply.headers.getlist("Set-Cookie") if v.startswith("cc_session="))


def test_on_loopback_cookies_are_not_secure_and_there_is_no_hsts(app_for):
    app = app_for()
    reply = log_in(app.test_client())
    assert reply.status_code == 302
    cookie = session_cookie(reply)
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    assert "Strict-Transport-Security" not in reply.headers


def test_over_tls_the_session_cookie_is_secure_and_every_response_has_hsts(app_for, tmp_path):
    app = app_for(web_tls_cert=tmp_path / "web.crt", web_tls_key=tmp_path / "web.key")
    client = app.test_client()
    reply = log_in(client, base_url="https://localhost")
    assert reply.status_code == 302
    cookie = session_cookie(reply)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert reply.headers["Strict-Transport-Security"] == "max-age=31536000"
    page = client.get("/agent", base_url="https://localhost")
    refusal = client.get("/api/customers/not-a-number", base_url="https://localhost")  # an error answer too
    assert page.status_code == 200 and 400 <= refusal.status_code < 500
    assert {r.headers.get("Strict-Transport-Security") for r in (page, refusal)} == {"max-age=31536000"}


def test_behind_a_declared_proxy_its_one_hop_is_trusted_and_cookies_are_secure(app_for):
    app = app_for(web_tls_proxy=True)
    client = app.test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.7"}
    seen = client.get("/probe-request", headers=forwarded, environ_base={"REMOTE_ADDR": "10.0.0.1"}).get_json()
    assert seen == {"secure": True, "address": "192.0.2.7"}  # the agent's address, not the proxy's
    # one hop: what the client itself wrote before the proxy's entry is not believed
    two = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9, 192.0.2.7"}
    assert client.get("/probe-request", headers=two).get_json()["address"] == "192.0.2.7"
    reply = log_in(client, **forwarded)
    assert "Secure" in session_cookie(reply)
    assert reply.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_without_the_proxy_setting_no_forwarded_header_is_believed(app_for):
    app = app_for()
    seen = app.test_client().get("/probe-request", environ_base={"REMOTE_ADDR": "10.0.0.1"},
                                 headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.7"}).get_json()
    assert seen == {"secure": False, "address": "10.0.0.1"}


def test_the_demo_banner_gives_the_desktop_with_its_scheme(tmp_path, migrated_db):
    from callcenter import db
    from callcenter.sip import demo

    plain = settings(tmp_path, CC_WEB_PORT="8181")
    with db.session_factory(migrated_db)() as s:
        assert "http://127.0.0.1:8181/" in "\n".join(demo.banner(plain, s, "pw"))
        tls = dataclasses.replace(plain, web_tls_cert=tmp_path / "web.crt", web_tls_key=tmp_path / "web.key")
        assert "https://127.0.0.1:8181/" in "\n".join(demo.banner(tls, s, "pw"))
