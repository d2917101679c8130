"""Run the FastAGI server: python -m ivr"""
import asyncio
import logging

from callcenter.config import Settings
from ivr.service import serve

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
asyncio.run(serve(Settings.from_env()))
