"""SIP over TLS and wss for remote agents (callcenter/sip/tls.py, issue 10): the settings, the
demo's self-signed certificate (made once, key owner-only, for the SIP address), the operator's
own copied in, the two included files, and desk phones that must use TLS and SRTP. The real
registration over TLS is tests/integration/test_sip_tls.py."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from callcenter.config import ConfigError, Settings
from callcenter.runtime import dialplan_check
from callcenter.runtime.asterisk import CONF_TEMPLATES
from callcenter.sip import render, tls


def settings(tmp_path, **env) -> Settings:
    return Settings.from_env({"CALLCENTER_HOME": str(tmp_path / "home"), **env})


@pytest.mark.parametrize("env, words", [
    ({"CC_SIP_TLS": "yes"}, "on or off"),
    ({"CC_SIP_TLS": "on", "CC_SIP_TLS_CERT": "/etc/hostname"}, "go together"),
    ({"CC_SIP_TLS": "on", "CC_SIP_TLS_CERT": "/nowhere.crt", "CC_SIP_TLS_KEY": "/nowhere.key"}, "is not a file"),
    ({"CC_SIP_PHONE_SECURITY": "tls"}, "needs CC_SIP_TLS=on"),
    ({"CC_SIP_TLS": "on", "CC_SIP_PHONE_SECURITY": "srtp"}, "none or tls"),
    ({"CC_SIP_TLS": "on", "CC_SIP_TLS_PORT": "70000"}, "outside 1-65535"),
])
def test_bad_tls_settings_fail_at_start_with_one_line(tmp_path, env, words):
    with pytest.raises(ConfigError, match=words):
        settings(tmp_path, **env)


def test_tls_is_off_by_default_and_its_files_say_so(tmp_path):
    s = settings(tmp_path)
    assert not s.sip_tls and s.sip_phone_security == "none"
    etc = tmp_path / "etc"
    etc.mkdir()
    tls.write_conf(s, etc)
    assert "[transport-tls]" not in (etc / tls.PJSIP_FILE).read_text()
    assert "tlsenable" not in (etc / tls.HTTP_FILE).read_text()
    assert not tls.tls_dir(s).exists()  # no certificate made


def test_the_demo_gets_a_self_signed_certificate_for_its_sip_address_made_once(tmp_path):
    assert shutil.which("openssl"), "openssl makes the demo's certificate: scripts/setup.sh installs it"
    s = settings(tmp_path, CC_SIP_TLS="on", CC_SIP_HOST="127.0.0.1", CC_SIP_TLS_PORT="5071", CC_SIP_WSS_PORT="8091")
    etc = tmp_path / "etc"
    etc.mkdir()
    tls.write_conf(s, etc)
    cert, key = tls.files(s)
    assert key.stat().st_mode & 0o077 == 0 and tls.tls_dir(s).stat().st_mode & 0o077 == 0
    shown = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-text"], capture_output=True,
                           text=True, check=True).stdout
    assert "IP Address:127.0.0.1" in shown and "callcenter demo" in shown
    first = cert.read_bytes()
    tls.write_conf(s, etc)
    assert cert.read_bytes() == first  # made once: phones told to trust it keep trusting it
    transport = (etc / tls.PJSIP_FILE).read_text()
    assert "[transport-tls]\ntype = transport\nprotocol = tls\nbind = 127.0.0.1:5071\n" in transport
    assert f"cert_file = {cert}\npriv_key_file = {key}\nmethod = tlsv1_2" in transport
    assert "[transport-wss]\ntype = transport\nprotocol = wss\nbind = 127.0.0.1:8091" in transport
    http = (etc / tls.HTTP_FILE).read_text()
    assert "tlsenable = yes" in http and "tlsbindaddr = 127.0.0.1:8091" in http and f"tlsprivatekey = {key}" in http


def test_the_operators_certificate_is_checked_and_copied_in_with_the_key_owner_only(tmp_path):
    own = tmp_path / "own"
    own.mkdir()
    (own / "c.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    (own / "k.pem").write_text("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n")
    s = settings(tmp_path, CC_SIP_TLS="on", CC_SIP_TLS_CERT=str(own / "c.pem"), CC_SIP_TLS_KEY=str(own / "k.pem"))
    cert, key = tls.prepare(s)
    assert cert.read_text() == (own / "c.pem").read_text() and key.read_text() == (own / "k.pem").read_text()
    assert key.stat().st_mode & 0o077 == 0
    (own / "k.pem").write_text("not a key")
    with pytest.raises(ConfigError, match="CC_SIP_TLS_KEY.*not a PEM private key"):
        tls.prepare(s)


def test_a_home_whose_path_would_break_the_conf_is_refused(tmp_path):
    s = Settings.from_env({"CALLCENTER_HOME": str(tmp_path / "a;b"), "CC_SIP_TLS": "on"})
    with pytest.raises(ConfigError, match="cannot go into pjsip.conf"):
        tls.prepare(s)


def test_desk_phones_may_be_required_to_use_tls_and_srtp(tmp_path):
    phone = render.Phone("1001", "a" * 20, "b" * 20)
    plain, secure = render.pjsip([], [phone]), render.pjsip([], [phone], secure_phones=True)

    def endpoint(text, name):
        section = text.split(f"[{name}]\ntype = endpoint\n", 1)[1].split("\n\n", 1)[0]
        return dict(line.split(" = ", 1) for line in section.splitlines())

    assert endpoint(plain, "1001")["transport"] == "transport-udp" and "media_encryption" not in endpoint(plain, "1001")
    desk = endpoint(secure, "1001")
    assert (desk["transport"], desk["media_encryption"], desk["media_encryption_optimistic"]) == \
        ("transport-tls", "sdes", "no")
    assert endpoint(secure, "web1001") == endpoint(plain, "web1001")  # the softphone: DTLS-SRTP already
    conf = tmp_path / "conf"
    shutil.copytree(CONF_TEMPLATES, conf)
    (conf / render.PJSIP_FILE).write_text(secure)
    (conf / render.EXTENSIONS_FILE).write_text(render.extensions([]))
    assert dialplan_check.check(conf) == []


def test_the_shipped_files_include_the_tls_files():
    assert "#tryinclude pjsip_tls.conf" in (CONF_TEMPLATES / "pjsip.conf").read_text()
    assert "#tryinclude http_tls.conf" in (CONF_TEMPLATES / "http.conf").read_text()
    pjsip = (CONF_TEMPLATES / "pjsip.conf").read_text()
    assert pjsip.index("#tryinclude pjsip_tls.conf") < pjsip.index("#tryinclude pjsip_provisioned.conf")  # transports first
