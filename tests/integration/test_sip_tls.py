"""SIP over TLS for remote agents on the real Asterisk (issue 10): the stack runs with
CC_SIP_TLS=on (tests/integration/conftest.py), so `callcenter up` made the demo's self-signed
certificate under the home; Asterisk serves exactly that certificate on its TLS SIP port and on
the wss (HTTPS) port; an agent's phone with no UDP transport at all (PJSIP's own user agent,
--tls) registers over TLS with its credentials, and a wrong password over TLS is refused."""
from __future__ import annotations

import ssl

from callcenter.sip import tls
from tests.integration.sip_world import PHONE_HOST
from tests.integration.sip_world import carrier, sip  # noqa: F401 - the fixtures
from tests.sip.driver import UserAgent

TONE_HZ = 440


def served_certificate(host: str, port: int) -> str:
    return ssl.get_server_certificate((host, port), timeout=10)


def same_certificate(pem_a: str, pem_b: str) -> bool:
    return ssl.PEM_cert_to_DER_cert(pem_a) == ssl.PEM_cert_to_DER_cert(pem_b)


async def test_a_phone_registers_over_tls_with_the_certificate_the_setup_made(stack, sip, floor):
    cert, key = tls.files(stack)
    assert stack.sip_tls and cert.is_file() and key.stat().st_mode & 0o077 == 0
    made = cert.read_text()
    assert same_certificate(served_certificate(stack.sip_host, stack.sip_tls_port), made)  # SIP over TLS
    assert same_certificate(served_certificate(stack.sip_host, stack.sip_wss_port), made)  # wss (HTTPS)

    ext = floor.extension()
    floor.agent({floor.skill(): 3}, ext=ext)
    password = sip.phone(ext, device=None)
    registrar = f"{stack.sip_host}:{stack.sip_tls_port}"
    wrong = await UserAgent.start(f"tls-wrong-{ext}", "phone", sip.tmp / "tls-wrong.wav", bind=PHONE_HOST,
                                  registrar=registrar, user=ext, password=password[::-1], tone=TONE_HZ, tls=True)
    sip.agents.append(wrong)
    refused = await wrong.wait_for("registered", timeout=20)
    assert refused["code"] in (401, 403) and not refused["active"], refused
    await wrong.stop()

    phone = await UserAgent.start(f"tls-phone-{ext}", "phone", sip.tmp / "tls-phone.wav", bind=PHONE_HOST,
                                  registrar=registrar, user=ext, password=password, tone=TONE_HZ, tls=True)
    sip.agents.append(phone)
    registered = await phone.wait_for("registered", timeout=20)
    assert registered["code"] == 200 and registered["active"], registered
