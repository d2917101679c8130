"""FastAGI route ``survey``: the post-call survey, for a caller whose agent hung up first.

The dialplan's cc-survey runs it on the caller's channel after the agent's side ended. The call's
offer is taken first (quality/survey_store.py: the share, once a day per number); a caller not
picked hears nothing and the call ends. A picked caller hears one question in the call's
language, "1 satisfied, 2 acceptable, 3 not satisfied", played the way the menu plays its prompts
(generated files under prompts/<zh|en>/, from ivr/flows/hotline.toml); a wrong key or silence
asks again, at most ASKS times; then, or when the caller hangs up, the answer stays none (NULL on
the call, never a score). The answer is stored before the thanks is played, so a caller who keys
and hangs up at once still counts.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from acd.protocol import digits
from callcenter import dialplan
from ivr.fastagi import AgiChannel
from quality.survey import answer_for

log = logging.getLogger("ivr.survey")

ASKS = 2  # the question played at most this often: a wrong key or silence asks again once
ANSWER_WAIT_S = 5.0  # after the question, how long the caller has to key
ALL_KEYS = "0123456789*#"  # any key ends the question: a wrong one asks again


@dataclass
class SurveyRoute:
    prompts_dir: Path
    claim: Callable[[str, str], bool]  # uniqueid, calling number -> asked now? (blocking: run in a thread)
    record: Callable[[str, int], None]  # uniqueid, answer (blocking)

    async def __call__(self, agi: AgiChannel) -> None:
        uniqueid = agi.uniqueid
        if not uniqueid:
            raise ValueError("AGI request without a uniqueid")
        number = digits(agi.headers.get("agi_callerid", ""))
        if not await asyncio.to_thread(self.claim, uniqueid, number):
            return  # not picked, or this number was asked today: the call simply ends
        language = await agi.get_variable(dialplan.bare(dialplan.LANGUAGE))
        language = language if language in ("zh", "en") else "zh"
        answer = None
        for _ in range(ASKS):
            key = await agi.stream_file(self._file(language, "survey_ask"), ALL_KEYS)
            if not key:
                key = await agi.wait_for_digit(ANSWER_WAIT_S)
            answer = answer_for(key)
            if answer is not None:
                break
        if answer is None:
            log.info("%s: survey offered, no answer", uniqueid)
            return
        await asyncio.to_thread(self.record, uniqueid, answer)
        log.info("%s: survey answered %d", uniqueid, answer)
        await agi.stream_file(self._file(language, "survey_thanks"))

    def _file(self, language: str, name: str) -> str:
        return str(self.prompts_dir / language / name)
