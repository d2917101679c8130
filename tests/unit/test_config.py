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
