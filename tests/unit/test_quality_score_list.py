"""The quality scores list a page at a time, sorted by a fixed set of fields (issue 13 follow-up):
pages cover every visible score once, the bounds on page and per_page, an unknown sort or
direction refused with the recordings search's and order queue's codes, the page's controls."""
from __future__ import annotations

from datetime import timedelta

import pytest

from agent_desktop.quality_api import MAX_PER_PAGE, SCORE_SORTS
from callcenter.models import QualityScore
from quality.scores import card_row
from tests.unit.test_quality_access import MONDAY, app, card, login, quality_db, refused  # noqa: F401 - fixtures

# (call, agent, total, status, hours after MONDAY): 5 of 1001's (the supervisor's team), 3 of 1002's
SCORES = [(f"list.{i}", "1001" if i < 5 else "1002", total, status, i)
          for i, (total, status) in enumerate([(91.0, "scored"), (40.0, "final"), (99.0, "appealed"), (75.5, "scored"),
                                               (88.0, "final"), (60.0, "scored"), (97.0, "scored"), (82.0, "final")])]


@pytest.fixture
def scored(app):  # noqa: F811 - the imported fixture
    with app.extensions["callcenter"].sessions() as s:
        card_id = card_row(s, card(app)).id
        for uid, agent, total, status, hours in SCORES:
            at = MONDAY + timedelta(hours=hours)
            s.add(QualityScore(call_uniqueid=uid, agent_extension=agent, inspector="qa1", scorecard_id=card_id,
                               answers={}, total=total, grade="pass", status=status, scored_at=at, updated_at=at))
        s.commit()
    return app


def get(client, query):
    reply = client.get("/api/quality/scores" + query)
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()


def test_pages_cover_every_score_once_newest_first(scored):
    qa1 = login(scored, "qa1")
    pages = [get(qa1, f"?per_page=3&page={n}") for n in (1, 2, 3, 4)]
    assert [(p["total"], p["page"], p["per_page"], len(p["scores"])) for p in pages] == \
        [(8, 1, 3, 3), (8, 2, 3, 3), (8, 3, 3, 2), (8, 4, 3, 0)]  # past the last page: empty, not an error
    calls = [s["call"] for p in pages for s in p["scores"]]
    assert calls == [f"list.{i}" for i in range(7, -1, -1)]  # newest first, no overlap, none missed
    assert (pages[0]["sort"], pages[0]["dir"]) == ("scored", "desc")


@pytest.mark.parametrize("query, expected", [
    ("?sort=total&dir=asc", sorted(SCORES, key=lambda r: r[2])),
    ("?sort=total", sorted(SCORES, key=lambda r: -r[2])),
    ("?sort=scored&dir=asc", SCORES),
    # equal keys: newest id first, so a page boundary never repeats or skips a score
    ("?sort=agent&dir=asc", [r for r in SCORES[::-1] if r[1] == "1001"] + [r for r in SCORES[::-1] if r[1] == "1002"]),
    ("?sort=status&dir=asc&status=final", [r for r in SCORES[::-1] if r[3] == "final"]),
])
def test_sorted_by_each_field(scored, query, expected):
    data = get(login(scored, "qa1"), query + f"&per_page={MAX_PER_PAGE}")
    assert [s["call"] for s in data["scores"]] == [r[0] for r in expected]
    assert data["total"] == len(expected)


def test_paging_keeps_to_what_the_reader_may_see(scored):
    agent = get(login(scored, "agent"), "?per_page=2&sort=total&dir=asc")  # 1001's own only
    assert agent["total"] == 5 and [s["call"] for s in agent["scores"]] == ["list.1", "list.3"]
    lead = get(login(scored, "supervisor"), "?per_page=100&page=1")  # their team: 1001
    assert lead["total"] == 5 and {s["agent"] for s in lead["scores"]} == {"1001"}


@pytest.mark.parametrize("query, code", [
    ("?sort=secret_column", "BAD_SORT"), ("?sort=total%3Bdrop", "BAD_SORT"), ("?sort=", "BAD_SORT"),
    ("?sort=TOTAL", "BAD_SORT"), ("?dir=sideways", "BAD_SORT_DIRECTION"), ("?dir=", "BAD_SORT_DIRECTION"),
    ("?per_page=0", "BAD_NUMBER"), (f"?per_page={MAX_PER_PAGE + 1}", "BAD_NUMBER"), ("?per_page=-1", "BAD_NUMBER"),
    ("?per_page=ten", "BAD_NUMBER"), ("?page=0", "BAD_NUMBER"), ("?page=10001", "BAD_NUMBER"),
    ("?page=1.5", "BAD_NUMBER"), ("?status=open", "BAD_STATUS_FILTER"),
])
def test_bad_paging_or_sorting_is_refused_with_a_stable_code(scored, query, code):
    reply = login(scored, "qa1").get("/api/quality/scores" + query)
    assert refused(reply, 400, code)
    assert reply.get_json()["message"] and reply.get_json()["message"] != code  # words, not the bare code


def test_bad_sort_names_the_choices_in_the_readers_language(scored):
    body = login(scored, "qa1").get("/api/quality/scores?sort=x").get_json()
    assert all(field in body["message"] for field in SCORE_SORTS)


def test_the_scores_page_offers_the_sorts_and_paging(scored):
    html = login(scored, "agent").get("/quality/scores").get_data(as_text=True)
    for field in SCORE_SORTS:
        assert f'<option value="{field}">' in html
    assert 'id="scores-prev"' in html and 'id="scores-next"' in html and f'max="{MAX_PER_PAGE}"' in html
