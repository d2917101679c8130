"""Carriers, access numbers and agent phones: what may be stored, what is rendered for Asterisk,
and the dialplan checker's proof over the rendered files (a trunk enters the hotline and only
for its numbers; a phone reaches nothing outside; no endpoint takes calls from anyone)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from callcenter import db, dialplan
from callcenter.models import AgentPhone, User
from callcenter.runtime import dialplan_check
from callcenter.runtime.asterisk import CONF_TEMPLATES
from callcenter.sip import apply, names, render, store
from callcenter.sip.names import SipConfigError

TRUNK = render.Trunk("telco", "192.0.2.10", 5060, "cc", "s3cret-pass", register=True, numbers=("10000", "10086"))
PHONE = render.Phone("1001", "desk-password-1", "web-password-12")


# ---------------------------------------------------------------- what may be stored
@pytest.mark.parametrize("check, value", [
    (names.carrier_name, "Telco"), (names.carrier_name, "telco\n[evil]"), (names.carrier_name, "t" * 25),
    (names.host, "sip.example.com;transport=tcp"), (names.host, "a b"), (names.host, "999.1.1.1"),
    (names.host, "example.com\ncontext=outbound"), (names.port, 0), (names.port, "5060x"), (names.port, True),
    (names.sip_user, "user name"), (names.sip_user, "u;x"), (names.secret, "short"),
    (names.secret, "pass word;comment"), (names.secret, "pass\nword12"), (names.number, "１２３４５"),
    (names.number, "10000,1"), (names.number, "+8610000"), (names.number, "٣٣٣٣"), (names.entry, "../main"),
    (names.extension, "10011"), (names.extension, "１００１"), (names.device, "pstn"),
])
def test_what_would_break_a_config_line_is_refused_with_a_code(check, value):
    with pytest.raises(SipConfigError) as refused:
        check(value)
    assert refused.value.code.isupper()


def test_good_values_pass_and_come_back_normalised():
    assert names.host("SIP.Example.COM") == "sip.example.com"
    assert names.host("2001:db8::1") == "2001:db8::1"
    assert names.port("5061") == 5061
    assert names.endpoint_extension("web1001") == ("1001", "webrtc")
    assert names.endpoint_extension("1001") == ("1001", "sip")
    assert names.endpoint_extension("trunk-telco") is None


# ---------------------------------------------------------------- rendering
def sections(text: str) -> list[tuple[str, dict[str, str]]]:
    out, current = [], None
    for line in text.splitlines():
        if line.startswith("["):
            current = (line.strip("[]"), {})
            out.append(current)
        elif " = " in line and current:
            key, value = line.split(" = ", 1)
            current[1][key] = value
    return out


def test_a_trunk_is_an_endpoint_matched_by_its_address_with_its_own_context():
    found = sections(render.pjsip([TRUNK], []))
    by_type = {(name, values["type"]): values for name, values in found}
    endpoint = by_type[("trunk-telco", "endpoint")]
    assert endpoint["context"] == "cc-trunk-telco" and endpoint["outbound_auth"] == "trunk-telco-auth"
    assert "auth" not in endpoint  # a carrier is trusted by its address, not by a password it sends
    assert by_type[("trunk-telco", "identify")]["match"] == "192.0.2.10"
    assert by_type[("trunk-telco", "aor")]["contact"] == "sip:192.0.2.10:5060"
    assert by_type[("trunk-telco", "aor")]["qualify_frequency"] == "0"  # a carrier dropping OPTIONS still works
    registration = by_type[("trunk-telco-reg", "registration")]
    assert registration["client_uri"] == "sip:cc@192.0.2.10:5060" and registration["line"] == "yes"
    assert by_type[("trunk-telco-auth", "auth")]["password"] == "s3cret-pass"


def test_a_trunk_context_holds_exactly_the_numbers_it_delivers():
    text = render.extensions([TRUNK, render.Trunk("other", "192.0.2.20")])
    assert "[cc-trunk-telco]\nexten => 10000,1,Goto(hotline,10000,1)\nexten => 10086,1,Goto(hotline,10086,1)\n" in text
    assert "[cc-trunk-other]\n\n" in text  # delivers nothing yet: every number is 404


def test_an_agent_has_a_desk_phone_and_a_webrtc_softphone_each_with_its_password():
    found = sections(render.pjsip([], [PHONE]))
    endpoints = {name: values for name, values in found if values["type"] == "endpoint"}
    assert set(endpoints) == {"1001", "web1001"}
    assert all(e["context"] == "cc-agent-internal" and e["auth"] == f"{n}-auth" for n, e in endpoints.items())
    assert endpoints["web1001"]["webrtc"] == "yes" and endpoints["web1001"]["transport"] == "transport-ws"
    assert endpoints["web1001"]["dtls_auto_generate_cert"] == "yes"
    auths = {values["username"]: values["password"] for _, values in found if values["type"] == "auth"}
    assert auths == {"1001": "desk-password-1", "web1001": "web-password-12"}
    aors = [values for _, values in found if values["type"] == "aor"]
    assert all(a["max_contacts"] == "1" and a["remove_existing"] == "yes" for a in aors)


def test_a_value_that_slipped_past_storage_is_refused_when_rendered():
    with pytest.raises(SipConfigError):
        render.pjsip([render.Trunk("telco", "192.0.2.10", 5060, "cc", "pass\n[x]type=endpoint")], [])
    with pytest.raises(SipConfigError):
        render.extensions([render.Trunk("telco", "192.0.2.10", numbers=("10000,1,Dial(PJSIP/x)",))])


# ---------------------------------------------------------------- the checker over the rendered files
def rendered_conf(tmp_path: Path, pjsip_text: str, extensions_text: str) -> Path:
    conf = tmp_path / "conf"
    shutil.copytree(CONF_TEMPLATES, conf)
    (conf / render.PJSIP_FILE).write_text(pjsip_text)
    (conf / render.EXTENSIONS_FILE).write_text(extensions_text)
    return conf


def test_the_rendered_trunks_and_phones_pass_the_checker_and_reach_what_we_expect(tmp_path):
    conf = rendered_conf(tmp_path, render.pjsip([TRUNK], [PHONE]), render.extensions([TRUNK]))
    assert dialplan_check.check(conf) == []
    plan = dialplan_check.parse_extensions(conf / "extensions.conf")
    endpoints = dialplan_check.endpoint_contexts(conf / "pjsip.conf")
    assert endpoints == {"trunk-telco": "cc-trunk-telco", "1001": "cc-agent-internal",
                         "web1001": "cc-agent-internal"}
    assert "hotline" in dialplan_check.reachable(plan, ("cc-trunk-telco",))
    # an agent's phone reaches the center's own numbers (the hotline) and nothing that dials out
    reach = dialplan_check.reachable(plan, ("cc-agent-internal",))
    assert {"cc-access-numbers", "cc-agent-refused", "hotline"} <= reach
    assert "exten => 10086,1,Goto(hotline,10086,1)" in (conf / render.EXTENSIONS_FILE).read_text()


def test_the_checker_refuses_a_trunk_context_that_dials_out(tmp_path):
    evil = render.extensions([TRUNK]) + "exten => _X.,1,Dial(PJSIP/${FILTER(0-9,${EXTEN})}@trunk-telco)\n"
    problems = dialplan_check.check(rendered_conf(tmp_path, render.pjsip([TRUNK], []), evil))
    assert any("[cc-trunk-telco]" in p and "dial out" in p for p in problems), problems


def test_the_checker_refuses_an_endpoint_anyone_could_use(tmp_path):
    guest = "[guest]\ntype = endpoint\ncontext = hotline\n"
    problems = dialplan_check.check(rendered_conf(tmp_path, guest, ""))
    assert any("[guest]" in p and "no auth" in p for p in problems), problems


def test_the_checker_refuses_a_phone_whose_context_dials_out(tmp_path):
    phone = render.pjsip([], [PHONE]).replace("context = cc-agent-internal", "context = phone-out", 1)
    problems = dialplan_check.check(rendered_conf(tmp_path, phone, "[phone-out]\nexten => _X.,1,Dial(PJSIP/x@y)\n"))
    assert any("[phone-out]" in p and "dial out" in p for p in problems), problems


def test_an_unsafe_configuration_is_never_written(tmp_path):
    etc = tmp_path / "etc"
    shutil.copytree(CONF_TEMPLATES, etc)
    good = apply.Rendered(render.pjsip([TRUNK], [PHONE]), render.extensions([TRUNK]), 1, 1)
    assert apply.write_files(etc, good) == ("res_pjsip.so", "pbx_config.so")
    assert apply.write_files(etc, good) == ()  # unchanged: nothing to reload
    fewer = apply.Rendered(good.pjsip, render.extensions([render.Trunk("telco", "192.0.2.10")]), 1, 1)
    assert apply.write_files(etc, fewer) == ("pbx_config.so",)  # a number went: the dialplan only
    assert oct((etc / render.PJSIP_FILE).stat().st_mode & 0o777) == "0o600"  # it holds passwords
    bad = apply.Rendered(good.pjsip + "[guest]\ntype = endpoint\ncontext = hotline\n", good.extensions, 1, 1)
    with pytest.raises(SipConfigError, match="no auth"):
        apply.write_files(etc, bad)
    assert (etc / render.PJSIP_FILE).read_text() == good.pjsip


def test_a_dialplan_reload_keeps_the_globals_set_at_run_time():
    """Where agents' calls ring (CC_PHONE_<ext>) and the simulated phones are globals set by AMI;
    an access number's change reloads the dialplan, which must not wipe them."""
    general = dialplan_check._parse_conf(CONF_TEMPLATES / "extensions.conf").categories[0]
    assert general.name == "general"
    assert {i.name.strip(): i.value.strip() for i in general.items}["clearglobalvars"] == "no"


# ---------------------------------------------------------------- the database side
@pytest.fixture
def sessions(migrated_db):
    sessions = db.session_factory(migrated_db)
    with sessions() as s:
        s.add_all([User(username="a1", display_name="A1", password_hash="x", role="agent", agent_extension="1001"),
                   User(username="a2", display_name="A2", password_hash="x", role="agent", agent_extension="1002"),
                   User(username="sup", display_name="S", password_hash="x", role="supervisor")])
        s.commit()
    return sessions


def test_carriers_numbers_and_phones_are_stored_checked_and_read_back_for_rendering(sessions):
    with sessions() as s:
        store.save_carrier(s, "telco", "192.0.2.10", 5060, "cc", "s3cret-pass", register=True)
        store.save_number(s, "10000", "telco")
        store.save_number(s, "10086", "telco", skill="vip", label="VIP line")
        store.save_number(s, "10010", "telco", entry="main_menu", flow_nodes={"main_menu"})
        assert store.provision_all(s) == ["1001", "1002"]
        s.commit()
    with sessions() as s:
        [trunk] = store.trunks(s)
        assert trunk.numbers == ("10000", "10010", "10086") and trunk.register
        assert store.number_route(s, "10086") == store.NumberRoute("10086", None, "vip")
        assert store.number_route(s, "10010").entry == "main_menu"
        assert store.number_route(s, "99999") is None
        passwords = {p.extension: (p.sip_password, p.webrtc_password) for p in store.phones(s)}
        assert set(passwords) == {"1001", "1002"}
        assert len({pw for pair in passwords.values() for pw in pair}) == 4  # all different
        assert all(pw.isascii() and pw.isalnum() and len(pw) == 20 for pair in passwords.values() for pw in pair)


@pytest.mark.parametrize("call, code", [
    (lambda s: store.save_carrier(s, "telco", "192.0.2.10", register=True), "REGISTER_NEEDS_CREDENTIALS"),
    (lambda s: store.save_number(s, "10000", "nobody"), "NO_SUCH_CARRIER"),
    (lambda s: store.save_number(s, "10000", "telco", entry="x", skill="y"), "ONE_TARGET"),
    (lambda s: store.save_number(s, "10000", "telco", entry="nope", flow_nodes={"main_menu"}), "NO_SUCH_ENTRY"),
    (lambda s: store.save_number(s, "10000", "telco", skill="VIP!"), "BAD_SKILL"),
    (lambda s: store.phone(s, "1999"), "NO_SUCH_AGENT"),
    (lambda s: store.set_password(s, "1001", "weak"), "BAD_SECRET"),
])
def test_refusals_carry_their_code(sessions, call, code):
    with sessions() as s:
        store.save_carrier(s, "telco", "192.0.2.10")
        with pytest.raises(SipConfigError) as refused:
            call(s)
        assert refused.value.code == code


def test_a_password_is_changed_by_an_admin_or_generated_anew(sessions):
    with sessions() as s:
        first = store.phone(s, "1001").sip_password
        assert store.set_password(s, "1001", "chosen-by-admin") == "chosen-by-admin"
        generated = store.set_password(s, "1001", device="webrtc")
        row = s.get(AgentPhone, "1001")
        assert (row.sip_password, row.webrtc_password) == ("chosen-by-admin", generated) and generated != first


def test_only_active_agents_phones_are_rendered(sessions):
    with sessions() as s:
        store.provision_all(s)
        s.scalars(User.__table__.select()).all()
        user = s.query(User).filter_by(agent_extension="1002").one()
        user.active = False
        s.commit()
        assert [p.extension for p in store.phones(s)] == ["1001"]


def test_the_demo_has_an_example_carrier_for_the_hotlines_numbers_and_prints_an_account(sessions, tmp_path):
    from callcenter.config import Settings
    from callcenter.sip import demo

    with sessions() as s:
        s.add(User(username="agent1", display_name="Agent One", password_hash="x", role="agent",
                   agent_extension="1003"))
        demo.seed(s)
        demo.seed(s)  # a second demo start changes nothing
        s.commit()
        [trunk] = store.trunks(s)
        assert (trunk.name, trunk.numbers) == ("demo_carrier", ("10000", "10086"))
        assert store.number_route(s, "10086").skill == "vip"
        settings = Settings.from_env({"CALLCENTER_HOME": str(tmp_path), "CC_WEB_PORT": "8181", "CC_SIP_PORT": "5070"})
        text = "\n".join(demo.banner(settings, s, "demo-pass"))
        password = s.get(AgentPhone, "1003").sip_password
    assert "http://127.0.0.1:8181/" in text and "agent1 / demo-pass" in text
    assert f"user 1003, password {password}" in text and "127.0.0.1:5070" in text and "10000" in text


def test_call_backs_leave_through_the_carrier_marked_for_them_presenting_its_number(tmp_path):
    outbound = render.Trunk("telco", "192.0.2.10", numbers=("10086", "10000"), outbound=True)
    text = render.extensions([outbound, render.Trunk("zother", "192.0.2.20", outbound=True)])
    route = text[text.index("[cc-outbound-trunk]"):].split("\n\n")[0]
    assert "Set(CALLERID(num)=10000)" in route and "Dial(PJSIP/${FILTER(0-9,${EXTEN})}@trunk-telco,,)" in route
    assert route.index("@trunk-telco") < route.index("@trunk-zother")  # declared in this order (rank 0 each: by name)
    assert "exten" not in render.extensions([TRUNK]).split("[cc-outbound-trunk]")[1].split("\n\n")[0]  # none marked
    conf = rendered_conf(tmp_path, render.pjsip([outbound], []), text)
    assert dialplan_check.check(conf) == []  # reached only from cc-callback-dial, which no inbound call reaches
    plan = dialplan_check.parse_extensions(conf / "extensions.conf")
    assert "cc-outbound-trunk" in dialplan_check.reachable(plan, ("cc-callback-dial",))
    inbound = dialplan_check.reachable(plan, dialplan.INBOUND_CONTEXTS + dialplan.CONTEXTS_CODE_SENDS_CALLERS_TO
                                       + ("cc-trunk-telco", "cc-agent-internal"))
    assert "cc-outbound-trunk" not in inbound and "cc-outbound" not in inbound


def test_call_backs_fail_over_to_the_next_carrier_only_when_the_carrier_fails(tmp_path):
    """Carriers marked outbound are tried in the order declared (rank), each showing its own
    number; the next one only after CONGESTION (503 ...) or CHANUNAVAIL (unreachable), never
    after the customer's BUSY or NOANSWER; each try reported through cc-outbound-report."""
    first = render.Trunk("zfirst", "192.0.2.10", numbers=("10000",), outbound=True, rank=1)
    second = render.Trunk("asecond", "192.0.2.20", numbers=("20000",), outbound=True, rank=2)
    text = render.extensions([second, first, render.Trunk("inbound", "192.0.2.30")])
    route = text[text.index("[cc-outbound-trunk]"):].split("\n\n")[0].splitlines()
    dials = [i for i, line in enumerate(route) if "Dial(PJSIP/" in line]
    assert [route[i].split("@")[1] for i in dials] == ["trunk-zfirst,,)", "trunk-asecond,,)"]  # rank, not name
    assert "trunk-inbound" not in "\n".join(route)
    between = route[dials[0] + 1:dials[1]]
    assert between[0] == ' same => n,GotoIf($["${DIALSTATUS}" = "CHANUNAVAIL" | "${DIALSTATUS}" = "CONGESTION"]?:done)'
    assert " same => n,Gosub(cc-outbound-report,s,1)" in between and " same => n,Set(CALLERID(num)=20000)" in between
    assert " same => n,Set(CC_OUT_TRUNK=trunk-asecond)" in between
    assert route[-1] == " same => n(done),Hangup()"
    assert " same => n,Set(CHANNEL(hangup_handler_push)=cc-outbound-report,s,1)" in route[:dials[0]]
    conf = rendered_conf(tmp_path, render.pjsip([first, second], []), text)
    assert dialplan_check.check(conf) == []
    plan = dialplan_check.parse_extensions(conf / "extensions.conf")
    assert "cc-outbound-report" in dialplan_check.reachable(plan, ("cc-callback-dial",))


def test_the_store_ranks_carriers_by_the_order_they_were_declared(sessions):
    with sessions() as s:
        for name in ("zz_first", "aa_second"):
            store.save_carrier(s, name, "192.0.2.10", outbound=True)
        store.save_carrier(s, "zz_first", "192.0.2.11", outbound=True)  # changed later: keeps its place
        s.commit()
        assert [t.name for t in render.outbound_order(store.trunks(s))] == ["zz_first", "aa_second"]


def test_the_checker_refuses_an_inbound_path_to_the_call_back_route(tmp_path):
    outbound = render.Trunk("telco", "192.0.2.10", numbers=("10000",), outbound=True)
    text = render.extensions([outbound]).replace("[cc-trunk-telco]\nexten => 10000,1,Goto(hotline,10000,1)",
                                                 "[cc-trunk-telco]\nexten => 10000,1,Goto(cc-outbound,10000,1)", 1)
    assert "Goto(cc-outbound" in text
    problems = dialplan_check.check(rendered_conf(tmp_path, render.pjsip([outbound], []), text))
    assert any("[cc-outbound-trunk]" in p and "dial out" in p for p in problems), problems


def test_the_cli_declares_a_carrier_its_numbers_and_reads_passwords_from_stdin_only(tmp_path, monkeypatch, capsys):
    import io
    import socket

    from callcenter.cli import main

    with socket.socket() as probe:  # a Redis port nothing listens on: the call center is not running
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("CALLCENTER_HOME", str(tmp_path))
    monkeypatch.setenv("CC_REDIS_PORT", str(port))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-from-stdin\n"))
    assert main(["trunk", "add", "telco", "--host", "192.0.2.7", "--username", "cc", "--password-stdin",
                 "--register"]) == 0
    assert "stored; the call center is not running" in capsys.readouterr().out
    assert main(["number", "add", "10086", "--trunk", "telco", "--skill", "vip"]) == 0
    assert main(["number", "add", "1x", "--trunk", "telco"]) == 2
    assert "error BAD_NUMBER" in capsys.readouterr().err
    assert main(["number", "add", "10010", "--trunk", "telco", "--entry", "nowhere"]) == 2
    assert "error NO_SUCH_ENTRY" in capsys.readouterr().err
    assert main(["trunk", "list"]) == 0
    listed = capsys.readouterr().out
    assert "192.0.2.7:5060" in listed and "10086" in listed and "register" in listed
    with db.session_factory(f"sqlite:///{tmp_path / 'callcenter.db'}")() as s:
        [trunk] = store.trunks(s)
    assert trunk.password == "s3cret-from-stdin"
