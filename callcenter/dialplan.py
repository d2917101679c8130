"""Names shared by our code and the dialplan in asterisk_conf/extensions.conf.

A context or channel variable is named here once; tests/unit/test_asterisk_conf.py checks that
every context named here exists in the shipped dialplan.
"""
from __future__ import annotations

# Contexts
IVR_END = "cc-ivr-end"  # the menu ended the call itself (out of hours, after a callback request)
CALLBACK_END = "cc-callback-end"  # a waiting caller took a call back instead
CALLBACK_DIAL = "cc-callback-dial"  # the agent answered a call back: dial the customer
HOTLINE = "hotline"  # inbound entry: answer, record, FastAGI to the IVR
AGI_FAIL = "agi_fail"  # the IVR was unreachable or failed: a general agent
WAIT = "cc-wait"  # callers wait here (music on hold) for the router
CONNECT = "cc-connect"  # the router redirects a caller here to ring CC_AGENT_EXT
AGENT_PHONES = "cc-agent-phones"  # an agent's phone (simulated or SIP)
AGENT_SIP = "cc-agent-sip"  # an agent's real phone: desk phone or the desktop's softphone
AGENT_INTERNAL = "cc-agent-internal"  # where an agent's own phone's calls start
HOLD = "cc-hold"  # a caller the agent put on hold: music
AGENT_HOLD = "cc-agent-hold"  # the agent's leg while the caller is on hold
RESUME = "cc-resume"  # bridges the caller back to CC_AGENT_CHANNEL
VERIFY = "cc-verify"  # the agent's password check: the menu's password step, then back (cc-resume)
SURVEY = "cc-survey"  # the agent's side ended, the caller is still on: the post-call survey, then hang up
HANGUP_HANDLER = "cc-hangup"
AGENT_ANSWERED = "cc-agent-answered"  # Gosub on the agent's leg as they answer (Dial's U option)
CALLBACK_HANGUP = "cc-callback-hangup"  # hangup handler of a call back's agent leg
OUTBOUND_REPORT = "cc-outbound-report"  # a call back's try through a carrier: which one, how it went
AGENT_HOLD_GONE = "cc-agent-hold-gone"  # hangup handler of a held agent leg
SIM_CALLER = "sim-caller"  # the originating half of a simulated caller
SIM_PHONE = "sim-phone"
SIM_HOSTILE_NAME = "sim-hostile-name"  # a simulated caller with any caller ID name at all
SIM_AGENT_RINGING = "sim-agent-ringing"  # bench/screen_pop.py: an AgentRinging and nothing else

#: contexts our code sends channels to (Originate / Redirect); all must exist in the dialplan
CONTEXTS_USED_BY_CODE = (HOTLINE, AGI_FAIL, WAIT, CONNECT, AGENT_PHONES, SIM_CALLER, SIM_HOSTILE_NAME, IVR_END, CALLBACK_DIAL,
                         HOLD, AGENT_HOLD, RESUME, VERIFY, SIM_AGENT_RINGING, SURVEY)

#: contexts where a call from outside the center starts
INBOUND_CONTEXTS = (HOTLINE,)

#: contexts our services move inbound callers into (router Redirect), so inbound calls reach them
CONTEXTS_CODE_SENDS_CALLERS_TO = (WAIT, CONNECT, HOLD, RESUME, VERIFY, SURVEY)

# Channel variables set by the IVR for the router (SET VARIABLE, values validated first)
IVR_RESULT = "CC_IVR_RESULT"  # "ok" when the IVR finished and handed off
SKILL = "__CC_SKILL"  # inherited by the agent leg
PRIORITY = "__CC_PRIORITY"
LANGUAGE = "__CC_LANGUAGE"
CUSTOMER_ID = "__CC_CUSTOMER_ID"
VERIFIED = "__CC_VERIFIED"  # "1" when the caller keyed the right service password
HANDOFF_REASON = "__CC_HANDOFF_REASON"  # why the menu handed off: caller_asked, password_locked ...
PATH = "__CC_PATH"  # menu nodes visited, "/"-separated (the full journey is in the database)

# Set by the router before Redirect to CONNECT
AGENT_EXT = "CC_AGENT_EXT"
RING_TIME = "CC_RING_TIME"  # seconds the agent's phone rings

# Set on calls by the router and the IVR's queue routes
TRANSFERRED = "__CC_TRANSFERRED"  # "1": a transferred call, served first
END = "CC_END"  # who ended a connected call: "agent" (empty: the caller)
HELD_CALL = "CC_HELD_CALL"  # on the agent's leg while its caller is on hold: the call's uniqueid
AGENT_CHANNEL = "CC_AGENT_CHANNEL"  # the held agent leg cc-resume bridges back to
CALLBACK = "CC_CALLBACK"  # "ok": the waiting caller asked for a call back
CALL_ID = "CC_CALL_ID"  # on a call back's agent leg: the request's uniqueid
AGENT = "CC_AGENT"  # on a call back's agent leg: the agent's extension
CALLBACK_NUMBER = "CC_CALLBACK_NUMBER"  # on a call back's agent leg: whom to dial
OUT_CALL = "CC_OUT_CALL"  # a call back's id, inherited (__) by its legs out through a carrier
OUT_TRUNK = "CC_OUT_TRUNK"  # on a call back's leg out: the carrier's endpoint tried now

# Asterisk's own
UNIQUEID = "UNIQUEID"
BRIDGEPEER = "BRIDGEPEER"


def bare(name: str) -> str:
    """A variable's name without its inheritance prefix, as Getvar/Setvar on the channel itself
    read and overwrite it."""
    return name.lstrip("_")

#: global variable naming a simulated phone for agent extension ext: "answer_after:talk" seconds
def simphone_variable(extension: str) -> str:
    return f"SIMPHONE_{extension}"


#: global variable saying where agent ext's calls ring: "webrtc" (the desktop's softphone), else
#: the desk phone (callcenter/sip/phones.py sets it; cc-agent-sip only compares it)
def phone_variable(extension: str) -> str:
    return f"CC_PHONE_{extension}"


# UserEvents emitted by the dialplan (see extensions.conf)
EV_CALL_ENTERED = "CallEntered"
EV_IVR_FAILED = "IvrFailed"
EV_CALL_QUEUED = "CallQueued"
EV_AGENT_RINGING = "AgentRinging"
EV_AGENT_ANSWERED = "AgentAnswered"
EV_AGENT_NO_ANSWER = "AgentNoAnswer"
EV_CALL_ENDED = "CallEnded"
EV_CALLBACK_ENDED = "CallbackEnded"
EV_OUTBOUND_TRUNK = "OutboundTrunk"  # a call back's try through a carrier: which one, its DIALSTATUS
EV_AGENT_LEFT_HOLD = "AgentLeftHold"
EV_CALLER_VERIFIED = "CallerVerified"
EV_AGENT_HUNG_UP = "AgentHungUp"  # the agent's side ended; the caller stays on for the survey

#: the contexts each of our UserEvents is sent from (extensions.conf). acd.protocol.parse_event
#: takes one of ours only from a channel in one of these: an AMI client's `Action: UserEvent` has
#: no channel, and pops no screen and moves no call. tests/unit/test_asterisk_conf.py checks this
#: table against every UserEvent() in the shipped dialplan.
EVENT_CONTEXTS: dict[str, frozenset[str]] = {
    EV_CALL_ENTERED: frozenset({HOTLINE}),
    EV_IVR_FAILED: frozenset({AGI_FAIL}),
    EV_CALL_QUEUED: frozenset({WAIT}),
    EV_AGENT_RINGING: frozenset({CONNECT, SIM_AGENT_RINGING}),
    EV_AGENT_ANSWERED: frozenset({AGENT_ANSWERED, CALLBACK_DIAL}),
    EV_AGENT_NO_ANSWER: frozenset({CONNECT}),
    EV_CALL_ENDED: frozenset({HANGUP_HANDLER}),
    EV_CALLBACK_ENDED: frozenset({CALLBACK_HANGUP}),
    EV_OUTBOUND_TRUNK: frozenset({OUTBOUND_REPORT}),
    EV_AGENT_LEFT_HOLD: frozenset({AGENT_HOLD_GONE}),
    EV_CALLER_VERIFIED: frozenset({VERIFY}),
    EV_AGENT_HUNG_UP: frozenset({SURVEY}),
}

#: events sent on the caller's own channel with `CallId: ${UNIQUEID}`: their CallId must be the
#: channel's Uniqueid, so a channel whose uniqueid an AMI client chose ("x,CallId: <another
#: call>") cannot speak for another call
OWN_CHANNEL_EVENTS = frozenset({EV_CALL_ENTERED, EV_IVR_FAILED, EV_CALL_QUEUED, EV_AGENT_RINGING, EV_AGENT_NO_ANSWER,
                                EV_CALL_ENDED, EV_CALLER_VERIFIED, EV_AGENT_HUNG_UP})
