"""The agent desktop: a Flask app with Flask-SocketIO, for agents, supervisors and admins.

create_app() wires everything (settings, database, Redis, the router client); socket events
live in events.py, pages and the JSON API in views.py, admin screens in admin.py. Other
processes push to browsers through Socket.IO's Redis message queue (python-socketio >= 5.14
serialises it as JSON, never pickle), so several web workers behind one Redis serve one floor.
"""
from __future__ import annotations

import redis as sync_redis
from flask import Flask
from flask_socketio import SocketIO
from werkzeug.exceptions import HTTPException

from agent_desktop import serving
from callcenter import db
from callcenter.config import Settings

socketio = SocketIO()
MESSAGE_QUEUE_CHANNEL = "flask-socketio"  # Flask-SocketIO's default; agent_desktop.push writes to it


#: issue 15: the web worker's Redis connections. redis-py's default pool grows without bound, and
#: every socket handler waiting on the router holds one (a 2 s BLPOP at a time, up to 5 s); a
#: flood could open thousands. Bounded and blocking: past the bound a handler waits up to
#: REDIS_POOL_WAIT_S for a free connection, then fails (redis ConnectionError), and one user's
#: share is capped by socket_limits.MAX_IN_FLIGHT, so one agent cannot take the floor's pool.
REDIS_POOL_MAX = 256
REDIS_POOL_WAIT_S = 5


def bounded_redis(url: str) -> sync_redis.Redis:
    pool = sync_redis.BlockingConnectionPool.from_url(url, decode_responses=True, max_connections=REDIS_POOL_MAX,
                                                      timeout=REDIS_POOL_WAIT_S)
    return sync_redis.Redis(connection_pool=pool)


def create_app(settings: Settings | None = None, *, router=None, redis=None, message_queue: bool = True) -> Flask:
    """router/redis: fakes for unit tests; message_queue=False: one process, no Redis fan-out."""
    from agent_desktop import admin, auth, errors, order_admin, order_api, order_pages, views
    from agent_desktop import journeys, reports
    from callcenter.orders.errors import OrderError
    from agent_desktop.acd_client import RouterClient
    from agent_desktop.context import Desktop

    settings = settings or Settings.from_env()
    app = Flask(__name__)
    from agent_desktop.ascii_int import AsciiIntegerConverter
    app.url_map.converters["int"] = AsciiIntegerConverter  # before any route: "١٢" is no id (issue 15)
    app.config.update(
        SECRET_KEY=settings.secret("web"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_NAME="cc_session",
        MAX_CONTENT_LENGTH=64 * 1024,
        TEMPLATES_AUTO_RELOAD=False,
        **serving.cookie_settings(settings),  # Secure when served over TLS (issue 15)
    )
    redis = redis or bounded_redis(settings.effective_redis_url)
    app.extensions["callcenter"] = Desktop(settings=settings, sessions=db.session_factory(settings.database_url),
                                           redis=redis, router=router or RouterClient(redis))
    app.before_request(auth.check_csrf)
    app.jinja_env.globals["csrf_token"] = auth.csrf_token
    app.register_blueprint(auth.bp)
    from agent_desktop import admin_sip, phone  # where calls ring, the softphone; carriers and phones
    app.register_blueprint(phone.bp)
    app.register_blueprint(admin_sip.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(order_api.bp)
    app.register_blueprint(order_pages.bp)
    app.register_blueprint(order_admin.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(journeys.bp)
    from agent_desktop import quality_api, quality_pages  # quality inspection (issue 13)
    app.register_blueprint(quality_api.bp)
    app.register_blueprint(quality_pages.bp)
    from agent_desktop import password_unlock  # a team lead unlocks a customer's service password
    app.register_blueprint(password_unlock.bp)
    from agent_desktop import recordings, recording_search  # playback by id, search (issue 11)
    app.register_blueprint(recordings.bp)
    app.register_blueprint(recording_search.bp)
    from agent_desktop import password_unlock_page  # the lead's screen for it
    app.register_blueprint(password_unlock_page.bp)

    @app.errorhandler(errors.ApiError)
    def api_error(exc: errors.ApiError):
        return errors.answer(exc)

    @app.errorhandler(OrderError)
    def order_error(exc: OrderError):  # the work-order rules' refusals: the same shape and codes
        return errors.answer(errors.ApiError(exc.code, exc.status, **exc.params))

    from quality.errors import QualityError

    @app.errorhandler(QualityError)
    def quality_error(exc: QualityError):  # quality inspection's refusals (issue 13): the same shape
        return errors.answer(errors.ApiError(exc.code, exc.status, **exc.params))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:  # routing redirects (a missing trailing slash) pass through
            return exc
        fallback = "SERVER_ERROR" if exc.code >= 500 else "BAD_REQUEST"
        return errors.answer(errors.ApiError(errors.HTTP_CODES.get(exc.code, fallback), exc.code))

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Content-Security-Policy",
                                    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:")
        return response

    from agent_desktop import events  # noqa: F401  registers the handlers, before init_app copies them
    from agent_desktop import monitor_events  # noqa: F401  listen, whisper, barge (issue 11)
    socketio.init_app(app, async_mode="threading",
                      message_queue=settings.effective_redis_url if message_queue else None,
                      channel=MESSAGE_QUEUE_CHANNEL)
    serving.apply(app, settings)  # HSTS, and a declared proxy's headers: after init_app, to wrap Socket.IO too
    return app
