"""Every shipped Asterisk config file parses; every context named exists; inbound calls can
reach nothing that dials out of the center."""
import shutil
from pathlib import Path

import asterisk.config
import pytest

from callcenter import dialplan
from callcenter.config import ConfigError
from callcenter.runtime import dialplan_check
from callcenter.runtime.asterisk import AsteriskInstall, CONF_TEMPLATES, config_values, render_text
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
