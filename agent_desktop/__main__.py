"""`python -m agent_desktop`: the desktop's web worker on CC_WEB_HOST:CC_WEB_PORT."""
import logging

from agent_desktop import create_app, socketio
from callcenter.config import Settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = Settings.from_env()
    app = create_app(settings)
    # Werkzeug's threaded server carries websockets through simple-websocket; one process per worker.
    socketio.run(app, host=settings.web_host, port=settings.web_port, allow_unsafe_werkzeug=True,
                 log_output=False)


if __name__ == "__main__":
    main()
