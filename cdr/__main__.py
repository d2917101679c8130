import asyncio
import logging

from callcenter.runtime.files import owner_only

owner_only()  # before any import below creates a file (issue 15)

from callcenter.config import Settings  # noqa: E402
from cdr.listener import run  # noqa: E402

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
asyncio.run(run(Settings.from_env()))
