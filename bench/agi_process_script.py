#!/usr/bin/env python3
"""The classic way: one process per call, AGI over stdin/stdout (pyst2's AGI class).

The same minimal flow as the FastAGI side of bench/fastagi.py.
"""
from asterisk.agi import AGI

agi = AGI()  # reads the AGI environment from stdin
agi.set_variable("__CC_SKILL", "general")
agi.stream_file("/prompts/zh/welcome")
agi.set_variable("CC_IVR_RESULT", "ok")
