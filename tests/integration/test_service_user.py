"""A stack started by root runs its services as the unprivileged service user (issue 15).

`callcenter up` as root with CC_SERVICE_USER=callcenter (scripts/service_user.sh creates the
user): Redis, Asterisk and every Python service run as it, the supervisor stays root; a real call
through the menu to an agent is answered and recorded (the core test function from
test_recordings.py, run here against this module's stack), and the recording and the database are
the user's files, mode 0600. The rest of the tier runs its stacks as root (CC_SERVICE_USER empty
in private_stack_env), since its helpers read and write the home directly.
"""
from __future__ import annotations

import os
import pwd
import shutil
import stat
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import select

from callcenter import db
from callcenter.models import Recording
from callcenter.runtime.supervisor import read_status
from tests.integration.conftest import private_stack_env, running_stack
from tests.integration.test_recordings import (  # noqa: F401  (collected here, and run first)
    test_a_call_through_menu_queue_and_agent_is_recorded_whole_with_the_password_muted,
)

USER = "callcenter"
SERVICES = {"redis", "asterisk", "ivr", "cdr", "acd", "sip", "desktop-push", "web"}


@pytest.fixture(scope="module")
def service_user():
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        message = f"no system user {USER!r}: scripts/service_user.sh (run by scripts/setup.sh) creates it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def stack_env(service_user):
    # not under pytest's tmp folder: it is root's, closed to the service user; /tmp lets it in
    # and the home itself is made the user's by `callcenter up`
    home = Path(tempfile.mkdtemp(prefix="cc-service-user-", dir="/tmp"))
    env = private_stack_env(home, database_url=None)  # SQLite: the database is a file in the home
    env["CC_SERVICE_USER"] = USER
    yield env
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def stack(stack_env):
    yield from running_stack(stack_env, check_nothing_left=True)


@pytest.fixture(scope="module")
def sessions(stack):
    assert stack.database_url.startswith("sqlite:"), stack.database_url
    return db.session_factory(stack.database_url)


def ids(pid: int, field: str) -> set[int]:
    """The real, effective, saved and file-system uids (field Uid) or gids (Gid) of a process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return {int(value) for value in line.split()[1:]}
    raise AssertionError(f"/proc/{pid}/status has no {field}")


def owner_only_and_the_users(path: Path, user) -> tuple[str, int, int]:
    info = path.stat()
    return oct(stat.S_IMODE(info.st_mode)), info.st_uid, info.st_gid


def test_every_service_runs_as_the_service_user_and_owns_the_home(stack, sessions, service_user):
    status = read_status(stack.run_dir)
    pids = {name: service["pid"] for name, service in status["services"].items()}
    assert SERVICES <= set(pids) and all(pids.values()), pids
    for name, pid in pids.items():
        assert ids(pid, "Uid") == {service_user.pw_uid}, name
        assert ids(pid, "Gid") == {service_user.pw_gid}, name
    assert Path(f"/proc/{pids['asterisk']}/exe").resolve().name == "asterisk"  # Asterisk itself, not its wrapper
    assert ids(status["supervisor_pid"], "Uid") == {0}  # the supervisor stays root, to stop them all

    user = (service_user.pw_uid, service_user.pw_gid)
    assert owner_only_and_the_users(stack.home, service_user) == (oct(0o700), *user)
    database = Path(stack.database_url.removeprefix("sqlite:///"))
    assert owner_only_and_the_users(database, service_user) == (oct(0o600), *user)
    with sessions() as s:
        recordings = [stack.recordings_dir / path for path in s.scalars(select(Recording.path))]
    assert recordings, "no recording: the call test above runs first in this module"
    for path in recordings:  # written by Asterisk as the user, read and registered by the push process
        assert owner_only_and_the_users(path, service_user) == (oct(0o600), *user), path
        assert owner_only_and_the_users(path.parent, service_user) == (oct(0o700), *user), path.parent
