"""ASCII digits only, wherever digits are checked (issue 15): Arabic-Indic "١٢٣", full-width
"１２３" and superscript "²" pass str.isdigit() and re's \\d, and int() reads the first two as
numbers; every entry below must refuse them, and take the same value in ASCII (so a refusal
here is the digits' fault, not the value's)."""
from __future__ import annotations

import argparse

import pytest

from acd.callbacks import LIVE_PREFIX, _request_id
from agent_desktop.ranges import parse_range
from callcenter import service_password
from callcenter.callback_rules import CallbackRules
from callcenter.digits import ascii_int, ascii_int_arg, is_digits
from callcenter.models import Customer
from callcenter.orders.types import DIGITS
from callcenter.sip import names
from callcenter.sip.names import SipConfigError
from tests.unit.test_desktop_access import csrf, login, world, world_db  # noqa: F401

ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def foreign(ascii_value: str) -> list[str]:
    """The value in Arabic-Indic, in full-width, and with its last digit as a superscript two."""
    return [ascii_value.translate(ARABIC), ascii_value.translate(FULL_WIDTH), ascii_value[:-1] + "²"]


def test_the_helper_takes_ascii_digits_only():
    assert is_digits("0123456789") and ascii_int("042") == 42 and ascii_int_arg("30") == 30
    for value in foreign("123") + ["", "-1", "+1", " 1", "1 ", "1_0", None, 12]:
        assert not is_digits(value) and ascii_int(value) is None
    for value in foreign("30"):
        with pytest.raises(argparse.ArgumentTypeError):
            ascii_int_arg(value)


def test_sip_port_and_numbers():
    assert names.port("5060") == 5060 and names.port(5060) == 5060
    for value in foreign("5060"):
        with pytest.raises(SipConfigError):
            names.port(value)
        with pytest.raises(SipConfigError):
            names.number(value + "123")


def test_service_password_on_the_model_and_in_the_menu():
    customer = Customer(name="x")
    customer.set_service_password("802417")
    assert service_password.is_valid("802417")
    for value in foreign("802417"):
        assert not service_password.is_valid(value) and service_password.is_weak(value)
        with pytest.raises(ValueError):
            customer.set_service_password(value)


def test_service_numbers_card_numbers_and_callback_numbers():
    rules = CallbackRules()
    assert DIGITS.fullmatch("13800000001") and rules.dialable("13800000001") is None
    for value in foreign("13800000001"):
        assert DIGITS.fullmatch(value) is None  # phone and card numbers of work orders
        assert rules.dialable(value) == "not_dialable"


def test_callback_ids_and_range_headers():
    assert _request_id(f"{LIVE_PREFIX}12") == 12
    for value in foreign("12"):
        assert _request_id(f"{LIVE_PREFIX}{value}") == 0
    assert parse_range("bytes=10-19", 100).start == 10
    for value in foreign("10"):
        assert parse_range(f"bytes={value}-19", 100) is None  # unreadable: the whole file, as RFC 9110 allows


def test_ids_in_urls_and_numbers_in_forms(world):
    app, _router, _redis, customer_id = world
    client = login(app, "supervisor")
    assert client.get(f"/api/customers/{customer_id}").status_code != 404
    for value in foreign(str(customer_id)):
        reply = client.get(f"/api/customers/{value}")
        assert reply.status_code == 404, value  # no route: "١" is not customer 1
        reply = client.post(f"/api/customers/{value}/password-unlock", json={"identity_check": "id_document"},
                            headers={"X-CSRF-Token": csrf(client)})
        assert reply.status_code == 404, value
    for value in foreign("13800000001"):  # a form's phone number
        reply = client.get(f"/customers/password?number={value}")
        assert reply.status_code == 400 and "A phone number: 3 to 20 digits" in reply.get_data(as_text=True), value
    quality = login(app, "quality")
    assert quality.get("/api/quality/scores?page=1").status_code == 200
    for value in foreign("1"):  # a list's page, read as a number
        reply = quality.get(f"/api/quality/scores?page={value}")
        assert reply.status_code == 400 and reply.get_json()["code"] == "BAD_NUMBER", value
    admin = login(app, "admin")
    for value in foreign("3"):  # an admin form's number (a skill's level)
        reply = admin.post("/admin/skills", data={"username": "agent", "skill": "billing", "level": value,
                                                  "csrf_token": csrf(admin)})
        assert reply.status_code == 400, (value, reply.get_data(as_text=True))
        assert "level: a whole number from 0 to 5" in reply.get_data(as_text=True), value
