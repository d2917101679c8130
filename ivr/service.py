"""Wiring of the IVR process: database look-ups, routes, the FastAGI server."""
from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select

from callcenter import calls, db
from callcenter.config import Settings
from callcenter.models import Customer, CustomerPhone
from ivr.fastagi import FastAgiServer
from ivr.hotline import CallerProfile, HotlineRoute

log = logging.getLogger("ivr")


def build_routes(settings: Settings) -> dict:
    sessions = db.session_factory(settings.database_url)

    def find_caller(number: str) -> CallerProfile | None:
        with sessions() as session:
            customer = session.scalar(
                select(Customer).join(CustomerPhone).where(CustomerPhone.number == number))
            if customer is None:
                return None
            return CallerProfile(customer.id, customer.language, customer.vip_level)

    def note_call(uniqueid: str, fields: dict) -> None:
        with sessions() as session:
            calls.upsert_call(session, uniqueid, **fields)
            session.commit()

    return {"hotline": HotlineRoute(settings.prompts_dir, find_caller, note_call)}


async def serve(settings: Settings) -> None:
    server = FastAgiServer(build_routes(settings))
    listener = await server.start(settings.agi_host, settings.agi_port)
    log.info("FastAGI listening on %s:%d", settings.agi_host, settings.agi_port)
    async with listener:
        await listener.serve_forever()
