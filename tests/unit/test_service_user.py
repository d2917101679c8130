"""Which user the services run as (callcenter/runtime/service_user.py, issue 15): the setting's
rules, the Popen arguments each service gets, Asterisk's own switch, and the home handed over.
The real stack run as the user is tests/integration/test_service_user.py."""
from __future__ import annotations

import grp
import os
import pwd
import stat
from pathlib import Path

import pytest

from callcenter.config import ConfigError, Settings
from callcenter.runtime import asterisk, service_user
from callcenter.runtime.health_log import health_log_path
from callcenter.runtime.service_user import ServiceUser
from callcenter.runtime.supervisor import Service

OTHER = ServiceUser("someone", 4242, 4343, Path("/var/lib/someone"))


def test_the_setting():
    assert service_user.resolve({"CC_SERVICE_USER": ""}) is None  # empty: as whoever started it
    assert service_user.resolve({"CC_SERVICE_USER": " "}) is None
    with pytest.raises(ConfigError, match="no such user"):
        service_user.resolve({"CC_SERVICE_USER": "no-such-user-here"})
    me = pwd.getpwuid(os.geteuid()).pw_name
    assert service_user.resolve({"CC_SERVICE_USER": me}) is None  # already that user: nothing to switch
    if os.geteuid() != 0:
        assert service_user.resolve({}) is None  # not root: never another user by default


def test_services_run_as_the_user_and_asterisk_switches_itself():
    services = [Service("redis", ["redis-server"]), Service("asterisk", ["asterisk"]),
                Service("web", ["python"], env={"CC_WEB_PORT": "8080"})]
    service_user.run_as(services, OTHER, keep=("asterisk",))
    assert services[0].popen == {"user": 4242, "group": 4343, "extra_groups": []} == services[2].popen
    assert services[2].env == {"CC_WEB_PORT": "8080", "HOME": "/var/lib/someone"}
    assert services[1].popen == {} and services[1].env == {}

    settings = Settings.from_env({"CALLCENTER_HOME": "/tmp/cc-unit-home"})
    conf = Path("/tmp/cc-unit-home/asterisk/etc/asterisk.conf")
    chrooted = asterisk.AsteriskInstall(root=Path("/tmp/cc-unit-root"), binary="/usr/sbin/asterisk",
                                        module_dir="/m", data_dir="/d")
    script = asterisk.command(settings, chrooted, conf, OTHER)[-1]
    assert "exec chroot --userspec=4242:4343 --groups=4343 /tmp/cc-unit-root /usr/sbin/asterisk" in script
    assert script.index("mount --bind") < script.index("chroot")  # the mounts first, as root
    assert "--userspec" not in asterisk.command(settings, chrooted, conf)[-1]
    root = pwd.getpwuid(0)
    system = asterisk.AsteriskInstall(root=None, binary="/usr/sbin/asterisk", module_dir="/m", data_dir="/d")
    as_root_group = ServiceUser(root.pw_name, 0, 0, Path("/"))
    assert asterisk.command(settings, system, conf, as_root_group)[-4:] == ["-U", root.pw_name, "-G",
                                                                           grp.getgrgid(0).gr_name]


@pytest.mark.skipif(os.geteuid() != 0, reason="giving files away needs root")
def test_the_home_is_handed_over_whole(tmp_path):
    nobody = pwd.getpwnam("nobody")
    user = ServiceUser("nobody", nobody.pw_uid, nobody.pw_gid, Path(nobody.pw_dir))
    settings = Settings.from_env({"CALLCENTER_HOME": str(tmp_path / "home")})
    (settings.home / "asterisk" / "etc").mkdir(parents=True)
    (settings.home / "asterisk" / "etc" / "manager.conf").write_text("secret")
    service_user.hand_over(settings, user)
    for path in [settings.home, *settings.home.rglob("*")]:
        info = path.lstat()
        assert (info.st_uid, info.st_gid) == (nobody.pw_uid, nobody.pw_gid), path
    assert stat.S_IMODE(settings.run_dir.stat().st_mode) == 0o700  # made before the supervisor would
    assert health_log_path(settings.log_dir).exists()  # the supervisor (root) appends to the user's file


def test_the_data_home_is_the_users_unless_one_is_set():
    given = {"CALLCENTER_HOME": "/srv/cc", "CC_SERVICE_USER": ""}
    assert service_user.with_home(given) == given
    assert "CALLCENTER_HOME" not in service_user.with_home({"CC_SERVICE_USER": ""})  # no user: the default


def test_every_port_is_above_1024_and_one_below_is_refused():
    home = {"CALLCENTER_HOME": "/tmp/cc-unit-home", "CC_SIP_TLS": "on"}
    service_user.check_ports(Settings.from_env(home))  # the defaults: all above 1024
    for name in ("CC_WEB_PORT", "CC_SIP_PORT", "CC_AMI_PORT", "CC_AGI_PORT", "CC_REDIS_PORT", "CC_SIP_TLS_PORT"):
        with pytest.raises(ConfigError, match=name):
            service_user.check_ports(Settings.from_env({**home, name: "443"}))
