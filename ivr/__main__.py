"""Run the FastAGI server: python -m ivr"""
import asyncio
import logging

from callcenter.runtime.files import owner_only

owner_only()  # before any import below creates a file (issue 15)

from callcenter.config import Settings  # noqa: E402
from ivr.service import serve  # noqa: E402

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
asyncio.run(serve(Settings.from_env()))
