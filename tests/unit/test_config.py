import pytest

from callcenter.config import ConfigError, Settings


def test_defaults_are_embedded(tmp_path):
    s = Settings.from_env({"CALLCENTER_HOME": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path / 'callcenter.db'}"
    assert s.redis_url is None and s.ami_port == 5038 and s.agi_port == 4573
    assert s.effective_redis_url.startswith("redis://:") and f"@127.0.0.1:{s.redis_port}/0" in s.effective_redis_url


@pytest.mark.parametrize("env, message", [
    ({"CC_AMI_PORT": "abc"}, "CC_AMI_PORT='abc' is not a port"),
    ({"CC_AGI_PORT": "70000"}, "outside 1-65535"),
    ({"DATABASE_URL": "callcenter.db"}, "is not a URL"),
    ({"REDIS_URL": "localhost:6379"}, "must start with redis://"),
    ({"CC_AMI_USER": "a b"}, "CC_AMI_USER"),
    ({"CC_ASTERISK_BINARY": "/nonexistent/asterisk"}, "does not exist"),
])
def test_bad_values_fail_with_one_clear_line(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("?", r"\?")):
        Settings.from_env({"CALLCENTER_HOME": str(tmp_path), **env})


def test_secrets_are_generated_once_and_private(tmp_path):
    s = Settings.from_env({"CALLCENTER_HOME": str(tmp_path)})
    first = s.ami_secret
    assert len(first) == 32 and s.ami_secret == first
    assert (tmp_path / "secrets.json").stat().st_mode & 0o077 == 0
    assert Settings.from_env({"CALLCENTER_HOME": str(tmp_path)}).ami_secret == first


def test_the_agi_url_carries_its_own_secret(tmp_path):
    s = Settings.from_env({"CALLCENTER_HOME": str(tmp_path)})
    assert s.agi_url == f"agi://127.0.0.1:4573/{s.agi_secret}"
    assert len(s.agi_secret) == 32 and s.agi_secret != s.ami_secret
    assert Settings.from_env({"CALLCENTER_HOME": str(tmp_path)}).agi_url == s.agi_url


@pytest.mark.parametrize("env, peers", [
    ({}, ()), ({"CC_AGI_HOST": "::1"}, ()), ({"CC_AGI_HOST": "localhost"}, ()),
    ({"CC_AGI_HOST": "0.0.0.0", "CC_AGI_PEERS": "192.0.2.10, 192.0.2.11"}, ("192.0.2.10", "192.0.2.11")),
    ({"CC_AGI_HOST": "192.0.2.2", "CC_AGI_PEERS": "2001:db8::5"}, ("2001:db8::5",)),
])
def test_fastagi_serves_loopback_or_named_asterisk_addresses(tmp_path, env, peers):
    assert Settings.from_env({"CALLCENTER_HOME": str(tmp_path), **env}).agi_peers == peers


@pytest.mark.parametrize("env, message", [
    ({"CC_AGI_HOST": "0.0.0.0"}, "CC_AGI_HOST='0.0.0.0' listens beyond loopback"),
    ({"CC_AGI_HOST": "asterisk.example"}, "listens beyond loopback"),
    ({"CC_AGI_HOST": "0.0.0.0", "CC_AGI_PEERS": "asterisk.example"}, "CC_AGI_PEERS"),
    ({"CC_AGI_HOST": "0.0.0.0", "CC_AGI_PEERS": "0.0.0.0"}, "CC_AGI_PEERS"),
])
def test_fastagi_beyond_loopback_needs_its_asterisk_named(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"CALLCENTER_HOME": str(tmp_path), **env})


def test_the_rendered_dialplan_calls_fastagi_with_the_secret(tmp_path):
    from callcenter.runtime.asterisk import CONF_TEMPLATES, AsteriskInstall, config_values, render_text
    s = Settings.from_env({"CALLCENTER_HOME": str(tmp_path)})
    install = AsteriskInstall(root=None, binary="/usr/sbin/asterisk", module_dir="/m", data_dir="/d")
    rendered = render_text((CONF_TEMPLATES / "extensions.conf").read_text(), config_values(s, install))
    # written into each AGI() itself, not a global: AMI's Setvar could point a global elsewhere
    for route in ("hotline", "queue-position", "queue-callback"):
        assert f"AGI(agi://127.0.0.1:4573/{s.agi_secret}/{route})" in rendered
    assert "CC_AGI_URL" not in rendered
