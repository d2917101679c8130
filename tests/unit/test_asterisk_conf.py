"""Every shipped Asterisk config file parses; every context named exists; inbound calls can
reach nothing that dials out of the center."""
import re
import shutil
from pathlib import Path

import asterisk.config
import pytest

from callcenter import dialplan
from callcenter.config import ConfigError
from callcenter.runtime import dialplan_check
from callcenter.runtime.asterisk import (AsteriskInstall, CONF_TEMPLATES, REPO_ROOT, check_dialplan_values,
                                         config_values, render_text)
from callcenter.config import Settings

CONF_FILES = sorted(CONF_TEMPLATES.glob("*.conf"))


@pytest.mark.parametrize("path", CONF_FILES, ids=lambda p: p.name)
def test_every_file_parses(path):
    config = dialplan_check._parse_conf(path)
    assert isinstance(config, asterisk.config.Config)


def test_shipped_configuration_has_no_problems():
    assert dialplan_check.check(CONF_TEMPLATES) == []


def test_contexts_our_code_names_exist_and_inbound_reach_is_what_we_expect():
    plan = dialplan_check.parse_extensions(CONF_TEMPLATES / "extensions.conf")
    for name in dialplan.CONTEXTS_USED_BY_CODE:
        assert name in plan.contexts
    reach = dialplan_check.reachable(plan, dialplan.INBOUND_CONTEXTS + dialplan.CONTEXTS_CODE_SENDS_CALLERS_TO)
    assert {"hotline", "agi_fail", "cc-wait", "cc-connect", "cc-agent-phones", "cc-hangup"} <= reach
    assert "sim-caller" not in reach  # the simulated caller is the outside world, not reachable from it
    assert dialplan.SIM_AGENT_RINGING not in reach  # the bench's AgentRinging: an inbound call cannot send it


def test_every_user_event_of_the_dialplan_is_accepted_from_its_context_and_only_from_there():
    """acd.protocol.parse_event takes an event of ours only from the contexts in
    dialplan.EVENT_CONTEXTS: that table is exactly where extensions.conf sends each one."""
    plan = dialplan_check.parse_extensions(CONF_TEMPLATES / "extensions.conf")
    sent = {(step.args.split(",", 1)[0].strip(), ctx)
            for ctx, steps in plan.contexts.items() for step in steps if step.app == "UserEvent"}
    table = {(name, ctx) for name, contexts in dialplan.EVENT_CONTEXTS.items() for ctx in contexts}
    assert sent == table
    # and those whose CallId is the sending channel's own uniqueid are the ones the parser checks so
    own = {step.args.split(",", 1)[0].strip() for steps in plan.contexts.values() for step in steps
           if step.app == "UserEvent" and "CallId: ${UNIQUEID}," in step.args + ","}
    assert own == dialplan.OWN_CHANNEL_EVENTS


def _with_extra(tmp_path: Path, extra: str, replace: tuple[str, str] | None = None) -> Path:
    conf = tmp_path / "conf"
    shutil.copytree(CONF_TEMPLATES, conf)
    text = (conf / "extensions.conf").read_text()
    if replace:
        assert replace[0] in text
        text = text.replace(*replace)
    (conf / "extensions.conf").write_text(text + extra)
    return conf


def test_checker_catches_an_inbound_path_to_a_trunk(tmp_path):
    conf = _with_extra(
        tmp_path,
        "\n[outbound]\nexten => _X.,1,Dial(PJSIP/${EXTEN}@carrier)\n",
        replace=("same => n,Goto(cc-wait,s,1)\n\n; The menu", "same => n,Goto(outbound,${EXTEN},1)\n\n; The menu"),
    )
    problems = dialplan_check.check(conf)
    assert any("[outbound]" in p and "dial out" in p for p in problems), problems


def test_checker_catches_an_include_of_a_dialling_context_and_system(tmp_path):
    conf = _with_extra(tmp_path, "\n[evil]\nexten => _X.,1,System(rm -rf /)\n",
                       replace=("[cc-wait]\n", "[cc-wait]\ninclude => evil\n"))
    problems = dialplan_check.check(conf)
    assert any("System()" in p for p in problems), problems


def test_checker_catches_a_missing_context(tmp_path):
    conf = _with_extra(tmp_path, "", replace=("Goto(cc-wait,s,1)", "Goto(cc-waiting,s,1)"))
    problems = dialplan_check.check(conf)
    assert any("'cc-waiting'" in p for p in problems), problems


def test_rendering_fills_every_placeholder(tmp_path):
    settings = Settings.from_env({"CALLCENTER_HOME": str(tmp_path), "CC_AMI_PORT": "15038"})
    install = AsteriskInstall(root=None, binary="/usr/sbin/asterisk", module_dir="/m", data_dir="/d")
    values = config_values(settings, install)
    for path in CONF_FILES:
        rendered = render_text(path.read_text(), values, path.name)
        assert "@@" not in rendered
    manager = render_text((CONF_TEMPLATES / "manager.conf").read_text(), values)
    assert "port = 15038" in manager and f"secret = {settings.ami_secret}" in manager
    assert "bindaddr = 127.0.0.1" in manager and "command" not in manager.split("write =")[1].split("\n")[0]
    with pytest.raises(ConfigError, match="unknown placeholder"):
        render_text("x = @@NOPE@@", values)


@pytest.mark.parametrize("shipped, changed, where", [
    # the recording's name from the raw uniqueid (an AMI Originate's ChannelId may hold commas)
    ("${FILTER(0-9A-Za-z._\\-,${UNIQUEID})}.wav", "${UNIQUEID}.wav", "MixMonitor() takes ${CC_RECORDING}"),
    # the IVR's address from a global (AMI's Setvar writes any; an Originate's Variable shadows it)
    ("AGI(@@AGI_URL@@/hotline)", "AGI(${CC_AGI_URL}/hotline)", "AGI() takes ${CC_AGI_URL}"),
    # a FILTER whose range A-z lets [ \\ ] ^ ` through
    ("Dial(Local/${FILTER(0-9,${CC_CALLBACK_NUMBER})}@", "Dial(Local/${FILTER(A-z,${CC_CALLBACK_NUMBER})}@",
     "Dial() takes ${FILTER(A-z"),
    ("${FILTER(0-9,${CC_RING_TIME})}", "${CC_RING_TIME}", "Dial() takes ${CC_RING_TIME}"),
], ids=["mixmonitor-uniqueid", "agi-global", "filter-range", "dial-global"])
def test_checker_catches_a_value_reaching_a_command_a_file_or_a_server_unfiltered(tmp_path, shipped, changed, where):
    conf = _with_extra(tmp_path, "", replace=(shipped, changed))
    problems = dialplan_check.check(conf)
    assert any(where in p for p in problems), problems


def test_the_call_back_leg_is_recorded_from_the_agents_answer_and_reports_its_recording(tmp_path):
    """Issue 11: cc-callback-dial starts MixMonitor on a name built like the hotline's (the leg's
    own uniqueid, FILTERed, under the recordings folder), before it dials the customer, and its
    hangup handler says which file it was (cdr/listener.py stores it on the leg's call row)."""
    plan = dialplan_check.parse_extensions(CONF_TEMPLATES / "extensions.conf")
    steps = [(s.app.lower(), s.args) for s in plan.contexts[dialplan.CALLBACK_DIAL]]
    apps = [app for app, _ in steps]
    assert apps.index("mixmonitor") < apps.index("dial")
    assert ("mixmonitor", "${CC_RECORDING}") in steps
    named = [args for app, args in steps if app == "set" and args.startswith("CC_RECORDING=")]
    assert named == ["CC_RECORDING=@@RECORDINGS_DIR@@/${STRFTIME(${EPOCH},,%Y/%m/%d)}/"
                     "${FILTER(0-9A-Za-z._\\-,${UNIQUEID})}.wav"]
    ended = [s.args for s in plan.contexts[dialplan.CALLBACK_HANGUP] if s.app.lower() == "userevent"]
    assert len(ended) == 1 and "Recording: ${CC_RECORDING}" in ended[0] and "Started: " in ended[0]
    # the checker still refuses the call back's name from the raw uniqueid (the hotline's left as shipped)
    text = (CONF_TEMPLATES / "extensions.conf").read_text()
    start = text.index("[cc-callback-dial]")
    shipped = text[start:].replace("${FILTER(0-9A-Za-z._\\-,${UNIQUEID})}.wav", "${UNIQUEID}.wav", 1)
    conf = tmp_path / "conf"
    shutil.copytree(CONF_TEMPLATES, conf)
    (conf / "extensions.conf").write_text(text[:start] + shipped)
    problems = dialplan_check.check(conf)
    assert any(p.startswith("[cc-callback-dial]") and "MixMonitor() takes ${CC_RECORDING}" in p
               for p in problems), problems
    assert not any(p.startswith("[hotline]") for p in problems), problems


def test_a_folder_whose_name_would_split_dialplan_arguments_is_refused_before_asterisk_runs(tmp_path):
    install = AsteriskInstall(root=None, binary="/usr/sbin/asterisk", module_dir="/m", data_dir="/d")
    check_dialplan_values(config_values(Settings.from_env({"CALLCENTER_HOME": str(tmp_path)}), install))
    for name in ("a,b", "a;b", "a$b", "a(b"):
        settings = Settings.from_env({"CALLCENTER_HOME": str(tmp_path / name)})
        with pytest.raises(ConfigError, match="RECORDINGS_DIR"):
            check_dialplan_values(config_values(settings, install))


# The write classes Asterisk 22 asks of each AMI action (manager.c and the modules that register
# them): a user may send it when its write classes share one with this set; none: no privilege.
ACTION_CLASSES: dict[str, set[str]] = {
    "Login": set(), "Logoff": set(), "Ping": set(), "Events": set(), "Challenge": set(),
    "Getvar": {"call", "reporting"}, "Setvar": {"call"}, "Redirect": {"call"}, "Hangup": {"system", "call"},
    "Originate": {"originate"}, "CoreShowChannels": {"system", "reporting"},
    "Status": {"system", "call", "reporting"}, "UserEvent": {"user"}, "QueueAdd": {"agent"},
    "QueueRemove": {"agent"}, "Command": {"command"},
    "DeviceStateList": {"call", "reporting"}, "ModuleLoad": {"system"},
    "MixMonitorMute": {"system", "call"},  # the recording muted while a secret is keyed (ivr/recording_mute.py)
    "PlayDTMF": {"call"},  # live monitoring's mode switch (acd/actions.py spy_key)
}
# Everything that talks AMI as our services' user (bench/acd_vs_app_queue.py has its own user,
# the integration tests theirs: manager_local.conf). panoramisk itself sends Login and Ping.
AMI_CLIENTS = ["acd", "cdr", "agent_desktop", "callcenter", "ivr", "bench/screen_pop.py"]
# ... but for the provisioning user's one module (asterisk_conf/manager_provision.conf), checked apart
PROVISION_CLIENTS = ["callcenter/sip/apply.py"]
ACTION_IN_CODE = re.compile(r"""["']?Action["']?\s*[:=]\s*["'](\w+)["']""")


def actions_in_code(clients=AMI_CLIENTS, leave_out=PROVISION_CLIENTS) -> set[str]:
    found = {"Login", "Ping"}
    for name in clients:
        path = REPO_ROOT / name
        for source in ([path] if path.is_file() else sorted(path.rglob("*.py"))):
            if str(source.relative_to(REPO_ROOT)) not in leave_out:
                found |= set(ACTION_IN_CODE.findall(source.read_text()))
    return found


def test_our_ami_user_may_send_each_action_our_code_sends_and_holds_no_other_class(tmp_path):
    settings = Settings.from_env({"CALLCENTER_HOME": str(tmp_path)})
    install = AsteriskInstall(root=None, binary="/usr/sbin/asterisk", module_dir="/m", data_dir="/d")
    rendered = tmp_path / "manager.conf"
    rendered.write_text(render_text((CONF_TEMPLATES / "manager.conf").read_text(), config_values(settings, install)))
    [user] = [c for c in dialplan_check._parse_conf(rendered).categories if c.name == settings.ami_user]
    values = {item.name: {v.strip() for v in item.value.split(",")} for item in user.items}
    write, read = values["write"], values["read"]
    used = actions_in_code()
    assert {"Getvar", "Setvar", "Redirect", "Hangup", "Originate", "CoreShowChannels", "Events"} <= used
    unknown = used - set(ACTION_CLASSES)
    assert not unknown, f"add the write classes of {unknown} to ACTION_CLASSES (from Asterisk's source)"
    refused = {a for a in used if ACTION_CLASSES[a] and not ACTION_CLASSES[a] & write}
    assert not refused
    # each class is the only one that lets some action through: none is there for nothing
    for cls in write:
        assert any(ACTION_CLASSES[a] & write == {cls} for a in used), f"write class {cls} is used by no action"
    # OriginateResponse, the dialplan's UserEvents and FullyBooted (the rebuild waits for it); no dialplan, agi;
    # dtmf for a monitor's own keys only: every other DTMF event excluded by the user's filters
    assert read == {"call", "user", "system", "dtmf"}
    filters = {name: value for name, value in ((i.name, i.value.strip()) for i in user.items) if name.startswith("eventfilter")}
    assert filters == {"eventfilter(action(exclude),name(DTMFBegin))": "",
                       "eventfilter(action(exclude),name(DTMFEnd),header(Uniqueid),method(regex))": "^(.{0,2}$|[^m]|m[^o]|mo[^n])"}
    keys_of_monitors = re.compile(filters["eventfilter(action(exclude),name(DTMFEnd),header(Uniqueid),method(regex))"])
    assert not keys_of_monitors.search("mon0123456789abcdef0123")  # a monitor's leg: its keys pass
    for caller in ("1764412345.17", "mo1.2", "m", "", "callback-request-3", "1764412345.17-2"):
        assert keys_of_monitors.search(caller), caller  # everything else: excluded
    assert "UserEvent" not in used  # our services take UserEvents from the dialplan only


def test_the_provisioning_user_may_reload_and_nothing_our_services_do(tmp_path):
    """callcenter/sip/apply.py reloads res_pjsip and the dialplan (ModuleLoad, system class) as its
    own user: write system only, no events, no call, originate or command class."""
    settings = Settings.from_env({"CALLCENTER_HOME": str(tmp_path)})
    install = AsteriskInstall(root=None, binary="/usr/sbin/asterisk", module_dir="/m", data_dir="/d")
    values = config_values(settings, install)
    for name in ("manager.conf", "manager_provision.conf"):
        (tmp_path / name).write_text(render_text((CONF_TEMPLATES / name).read_text(), values))
    users = {c.name: {i.name: {v.strip() for v in i.value.split(",") if v.strip()} for i in c.items}
             for c in dialplan_check._parse_conf(tmp_path / "manager.conf").categories}
    provision = users[settings.ami_provision_user]
    assert provision["write"] == {"system"} and provision["read"] == set()
    assert provision["secret"] == {settings.ami_provision_secret} != {settings.ami_secret}
    used = actions_in_code(PROVISION_CLIENTS, leave_out=())
    assert used == {"Login", "Ping", "ModuleLoad"}
    assert all(ACTION_CLASSES[a] & provision["write"] or not ACTION_CLASSES[a] for a in used)
    assert "ModuleLoad" not in actions_in_code()  # our services' user never reloads anything

