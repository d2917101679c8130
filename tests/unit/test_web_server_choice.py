"""CC_WEB_SERVER / CC_WEB_THREADS (agent_desktop/__main__.py, issue 15): the web worker's server is
chosen and checked before anything starts; a typo stops it with one line, never a silent default."""
import pytest

from agent_desktop.__main__ import server_choice


def test_default_is_gunicorn_with_a_thousand_threads():
    assert server_choice({}) == ("gunicorn", 1000)
    assert server_choice({"CC_WEB_SERVER": " "}) == ("gunicorn", 1000)


@pytest.mark.parametrize("value", ["gunicorn", " Gunicorn ", "GUNICORN"])
def test_gunicorn_is_chosen_whatever_the_case(value):
    assert server_choice({"CC_WEB_SERVER": value, "CC_WEB_THREADS": "2600"}) == ("gunicorn", 2600)


def test_werkzeug_only_when_asked_and_only_on_loopback():
    assert server_choice({"CC_WEB_SERVER": "werkzeug"}) == ("werkzeug", 1000)
    with pytest.raises(SystemExit, match="CC_WEB_SERVER=werkzeug is Werkzeug's development server, for debugging "
                                         "on loopback: not beyond it"):
        server_choice({"CC_WEB_SERVER": "werkzeug"}, on_loopback=False)
    assert server_choice({}, on_loopback=False) == ("gunicorn", 1000)


@pytest.mark.parametrize("value", ["uwsgi", "eventlet", "gunicorn;rm", "werk zeug"])
def test_an_unknown_server_is_refused(value):
    with pytest.raises(SystemExit, match="CC_WEB_SERVER must be one of gunicorn, werkzeug"):
        server_choice({"CC_WEB_SERVER": value})


@pytest.mark.parametrize("value", ["0", "-5", "20001", "1e3", "١٠٠", "many", ""])
def test_threads_out_of_range_or_not_ascii_digits_are_refused(value):
    with pytest.raises(SystemExit, match="CC_WEB_THREADS must be a whole number from 1 to 20000"):
        server_choice({"CC_WEB_THREADS": value})


def test_gunicorn_is_pinned_by_the_project_and_that_version_is_installed():
    """The option's server comes from pyproject.toml, pinned, not from whatever is lying about."""
    import tomllib
    from importlib.metadata import version
    from pathlib import Path

    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    pins = [d for d in project["project"]["dependencies"] if d.startswith("gunicorn")]
    assert pins == [f"gunicorn=={version('gunicorn')}"]
