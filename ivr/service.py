"""Wiring of the IVR process: the hotline flow, its prompts, services, journey recording, server."""
from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import redis.asyncio as aioredis
from sqlalchemy import func, insert, select

from acd.store import Store

from callcenter import callback_rules, calls, db
from callcenter.calls import fit
from callcenter.business_hours import hours_file
from callcenter.config import Settings
from callcenter.models import Call, CallbackRequest, JourneyStep
from ivr import flow as flows
from ivr import speech
from ivr.engine import JourneyEntry
from ivr.fastagi import FastAgiServer
from ivr.guard import Limits
from ivr.prompts import PromptError, PromptSpec, verify_wav
from ivr.queue_routes import QueueRoutes
from ivr.runner import FlowRunner, Recorder
from ivr.services import SERVICES, HotlineServices
from ivr.survey import SurveyRoute
from callcenter.business_hours import BusinessHours
from quality import survey_store
from quality.survey import SurveyRule

log = logging.getLogger("ivr")

HOTLINE_FLOW = Path(__file__).parent / "flows" / "hotline.toml"


def load_hotline() -> flows.Flow:
    return flows.load(HOTLINE_FLOW, SERVICES)


def prompt_specs(flow: flows.Flow) -> list[PromptSpec]:
    """Every prompt a flow can play: its own, and the fragments numbers are spoken with."""
    clash = set(flow.prompts) & {name for lang in speech.FRAGMENTS.values() for name in lang}
    if clash:
        raise flows.FlowError(f"flow {flow.name}: prompt names {sorted(clash)} clash with number fragments")
    specs = [PromptSpec(name, lang, texts[lang]) for name, texts in flow.prompts.items() for lang in flows.LANGUAGES]
    specs += [PromptSpec(name, lang, text) for lang, names in speech.FRAGMENTS.items() for name, text in names.items()]
    return specs


def check_audio(specs: list[PromptSpec], prompts_dir: Path) -> None:
    """Refuse to serve a flow with a prompt that has no playable audio."""
    missing = []
    for spec in specs:
        try:
            verify_wav(prompts_dir / spec.language / f"{spec.name}.wav")
        except PromptError as exc:
            missing.append(str(exc))
    if missing:
        raise flows.FlowError(f"{len(missing)} prompt(s) without audio (run `callcenter up`): " + "; ".join(missing[:5]))


def build_recorder(settings: Settings) -> Recorder:
    sessions = db.session_factory(settings.database_url)

    def journey(uniqueid: str, first_seq: int, entries: list[JourneyEntry]) -> None:
        c = JourneyStep.__table__.c  # a caller may key more than an input's maximum: cut, never refused
        rows = [{"call_uniqueid": uniqueid, "seq": first_seq + i, "at": e.at, "node": fit(c.node, e.node),
                 "input": fit(c.input, e.input), "outcome": fit(c.outcome, e.outcome or None)}
                for i, e in enumerate(entries)]
        with sessions() as session:
            session.execute(insert(JourneyStep), rows)
            session.commit()

    def call(uniqueid: str, fields: dict) -> None:
        with sessions() as session:
            calls.upsert_call(session, uniqueid, **fields)
            session.commit()

    def next_seq(uniqueid: str) -> int:
        with sessions() as session:
            last = session.scalar(select(func.max(JourneyStep.seq)).where(JourneyStep.call_uniqueid == uniqueid))
            return 0 if last is None else last + 1

    return Recorder(journey=journey, call=call, next_seq=next_seq)


def queue_callback_writer(sessions, home: Path):
    """Key 1 while waiting: a call back to the caller ID, if the call-back rules let the center call
    it (callcenter/callback_rules.py). The writer returns None when the request is taken (or was,
    by this call already), else the refusal's code."""
    def create(uniqueid: str, number: str, language: str) -> str | None:
        now = datetime.now(timezone.utc)
        with sessions() as s:
            if s.scalar(select(CallbackRequest.id).where(CallbackRequest.call_uniqueid == uniqueid)) is not None:
                return None  # one request per call, however often pressed
            call = s.scalar(select(Call).where(Call.uniqueid == uniqueid))
            customer_id = call.customer_id if call else None
            refused = callback_rules.admit(s, callback_rules.load(home), number, customer_id, now)
            if refused:
                callback_rules.record_refusal(s, refused, number, uniqueid, "queue")
                s.commit()
                return refused
            db.insert_ignoring_duplicates(s, CallbackRequest, [{
                "number": number, "customer_id": customer_id, "call_uniqueid": uniqueid,
                "reason": "queue", "language": language, "status": "pending", "created_at": now}])
            s.commit()
            return None
    return create


def survey_writers(sessions, home: Path) -> tuple:
    """The post-call survey's two writes: take the day's offer for the number (the rules read from
    <home>/survey.toml and the center's day from business_hours.toml, at every call), and store the
    answer (a "not satisfied" opens the team lead's follow-up)."""
    def claim(uniqueid: str, number: str) -> bool:
        now = datetime.now(timezone.utc)
        rule, zone = SurveyRule.load(home), BusinessHours.load(hours_file(home)).zone
        with sessions() as s:
            taken = survey_store.claim_offer(s, uniqueid, number, now, rule, zone)
            s.commit()
            return taken

    def record(uniqueid: str, answer: int) -> None:
        with sessions() as s:
            survey_store.record_answer(s, uniqueid, answer, datetime.now(timezone.utc), home)
            s.commit()
    return claim, record


def number_routes(sessions):
    """The access numbers table (callcenter/sip/store.py): what a dialled number starts."""
    from callcenter.sip import store

    def route(number: str):
        with sessions() as s:
            return store.number_route(s, number)
    return route


def recording_notices(sessions):
    """Whether callers to an access number hear the recording notice: the number's own setting
    (access_numbers.recording_notice, on unless set off). A number the table does not hold is no
    carrier's: only simulated callers reach the hotline with one (tests, benches, whose keys are
    timed from the greeting), and they hear none."""
    from callcenter.models import AccessNumber

    def notice(number: str) -> bool:
        with sessions() as s:
            setting = s.scalar(select(AccessNumber.recording_notice).where(AccessNumber.number == number))
            return bool(setting)
    return notice


def build_routes(settings: Settings) -> dict:
    flow = load_hotline()
    check_audio(prompt_specs(flow), settings.prompts_dir)
    sessions = db.session_factory(settings.database_url)
    limits = Limits(password_lock=timedelta(minutes=int(os.environ.get("CC_PASSWORD_LOCK_MINUTES", "30"))))
    services = HotlineServices(sessions, hours_file(settings.home), limits)
    queue = QueueRoutes(Store(aioredis.from_url(settings.effective_redis_url)), settings.prompts_dir,
                        queue_callback_writer(sessions, settings.home), aht_s=float(os.environ.get("CC_AHT_ESTIMATE_S", "180")))
    from callcenter import ami
    from ivr.recording_mute import RecordingMute

    mute = RecordingMute(lambda: ami.connect(settings))  # AMI connected at the first secret asked
    return {
        "hotline": FlowRunner(flow, settings.prompts_dir, services, build_recorder(settings),
                              number_route=number_routes(sessions), mute=mute,
                              recording_notice=recording_notices(sessions)),
        # the agent's password check (dialplan cc-verify): the caller back to the agent afterwards
        "verify": FlowRunner(flow, settings.prompts_dir, services, build_recorder(settings), entry="agent_verify",
                             mute=mute),
        "queue-position": queue.position,
        "queue-callback": queue.callback,
        # the post-call survey (dialplan cc-survey), after the agent hung up first
        "survey": SurveyRoute(settings.prompts_dir, *survey_writers(sessions, settings.home)),
    }


async def serve(settings: Settings) -> None:
    server = FastAgiServer(build_routes(settings), secret=settings.agi_secret, peers=settings.agi_peers)
    # one AGI URL in the dialplan, so several servers share its port (Asterisk's AGI() takes one URL)
    listener = await server.start(settings.agi_host, settings.agi_port, reuse_port=settings.agi_servers > 1)
    log.info("FastAGI listening on %s:%d", settings.agi_host, settings.agi_port)
    async with listener:
        await listener.serve_forever()
