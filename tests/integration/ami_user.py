"""The integration tests' own AMI user, beside our services' least-privilege one.

The tests watch what the services may not: VarSet and Newexten (the dialplan class), AGIExec*
(agi), every DTMF event unfiltered (dtmf: the services read only a monitor's leg's), and they
send an AMI client's `Action: UserEvent` (user) to show it moves nothing. The shipped
manager.conf includes ``manager_local.conf`` when there is one; this writes it (with its own
secret) into the stack's Asterisk etc folder before `callcenter up` renders the rest.

    python -m tests.integration.ami_user   # for a stack started by hand (tests/unit/transcripts/record.py)
"""
from __future__ import annotations

from types import SimpleNamespace

from callcenter.config import Settings

USER = "cc_tests"
SECTION = """; The integration tests' AMI user (tests/integration/ami_user.py): never in a plain install.
[{user}]
secret = {secret}
deny = 0.0.0.0/0.0.0.0
permit = 127.0.0.1/255.255.255.255
read = call,user,dialplan,agi,dtmf
write = call,originate,reporting,user
writetimeout = 5000
"""


def install(settings: Settings) -> None:
    etc = settings.asterisk_dir / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    etc.chmod(0o700)
    path = etc / "manager_local.conf"
    path.write_text(SECTION.format(user=USER, secret=settings.secret("ami-tests")))
    path.chmod(0o600)


def login(settings: Settings) -> SimpleNamespace:
    """What callcenter.ami.connect needs to log in as the tests' user."""
    return SimpleNamespace(ami_host=settings.ami_host, ami_port=settings.ami_port, ami_user=USER,
                           ami_secret=settings.secret("ami-tests"))


if __name__ == "__main__":
    install(Settings.from_env())
