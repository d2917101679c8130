import asyncio
import logging

from callcenter.config import Settings
from cdr.listener import run

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
asyncio.run(run(Settings.from_env()))
