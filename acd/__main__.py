"""Run the router: python -m acd"""
import asyncio
import logging

from acd.service import run
from callcenter.config import Settings

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
asyncio.run(run(Settings.from_env()))
