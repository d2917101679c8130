"""The demo's database on a real stack: core flows again on a stack of their own whose database
is SQLite (the embedded default), whatever the session's stack runs on (PostgreSQL unless
CC_TEST_DATABASE=sqlite, tests/integration/conftest.py).

SQLite's risk is its own: one file written by several processes at once (the CDR listener, the
FastAGI server, the web worker, the push process, the router's call log), where PostgreSQL has a
server. So the flows picked here are the ones where those writers meet: a call's record, two
routers booking from one floor, a recording registered after its call, an order read back in
the menu, and the database locked for a while. They are the same test functions as in their
own files (imported, so they cannot drift apart), run here against this module's stack: pytest
resolves `stack`, `stack_env` and `sessions` to the module-scoped fixtures below.
"""
from __future__ import annotations

import pytest

from callcenter import db
from tests.integration.conftest import private_stack_env, running_stack
from tests.integration.test_acd_routing import (  # noqa: F401  (collected here)
    test_skill_match_best_level_then_longest_idle,
    test_two_routers_at_once_never_double_book,
)
from tests.integration.test_faults import (  # noqa: F401
    test_database_unavailable_calls_still_routed_and_every_record_written_once_when_it_is_back,
)
from tests.integration.test_hotline_call import (  # noqa: F401
    test_call_into_hotline_is_greeted_by_fastagi_and_recorded_in_the_ledger,
)
from tests.integration.test_recordings import (  # noqa: F401
    test_a_call_through_menu_queue_and_agent_is_recorded_whole_with_the_password_muted,
)
from tests.integration.test_work_orders import (  # noqa: F401
    test_the_menu_reads_the_orders_real_status_and_tells_nobody_else,
)


@pytest.fixture(scope="module")
def stack_env(tmp_path_factory) -> dict[str, str]:
    return private_stack_env(tmp_path_factory.mktemp("callcenter-sqlite"), database_url=None)


@pytest.fixture(scope="module")
def stack(stack_env):
    yield from running_stack(stack_env)


@pytest.fixture(scope="module")
def sessions(stack):
    assert stack.database_url.startswith("sqlite:"), stack.database_url  # what this module is for
    return db.session_factory(stack.database_url)
