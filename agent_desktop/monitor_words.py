"""Words of live monitoring: the wallboard's listen / whisper / barge controls, the agent's
"being coached" notice, and the monitoring refusals (acd/monitor.py, agent_desktop/monitor_events.py)."""
from __future__ import annotations

MONITOR_STRINGS: dict[str, dict[str, str]] = {
    "monitor.listen": {"en": "Listen", "zh": "监听"},
    "monitor.whisper": {"en": "Whisper", "zh": "耳语"},
    "monitor.barge": {"en": "Barge in", "zh": "强插"},
    "monitor_help.listen": {"en": "You hear both; neither hears you", "zh": "您能听到双方，双方听不到您"},
    "monitor_help.whisper": {"en": "Only the agent hears you", "zh": "只有坐席能听到您"},
    "monitor_help.barge": {"en": "Both the caller and the agent hear you", "zh": "来电者和坐席都能听到您"},
    "monitor_stop": {"en": "Stop monitoring", "zh": "停止监听"},
    "monitor_actions": {"en": "Monitor {name}'s call", "zh": "监听{name}的通话"},
    "monitor_ringing": {"en": "Your phone is ringing: answer it to {mode}", "zh": "您的话机正在振铃，接听后开始{mode}"},
    "monitor_active": {"en": "Monitoring {name}: {mode}", "zh": "正在监听{name}：{mode}"},
    "monitor_ended": {"en": "Monitoring ended", "zh": "监听已结束"},
    "monitor_keyed": {"en": "Monitoring {name}: {mode} (keyed on your phone)", "zh": "正在监听{name}：{mode}（已在您的话机上切换）"},
    "coached": {"en": "A supervisor is coaching you on this call", "zh": "班长正在辅导您的这通电话"},
    "coached.whisper": {"en": "Whisper: only you hear the supervisor", "zh": "耳语：只有您能听到班长"},
    "coached.barge": {"en": "Barge: the caller hears the supervisor too", "zh": "强插：来电者也能听到班长"},
    "coached.listen": {"en": "A supervisor is listening", "zh": "班长正在监听"},
    "error.BAD_MONITOR_MODE": {"en": "Choose listen, whisper or barge", "zh": "请选择监听、耳语或强插"},
    "error.BAD_MONITOR_ID": {"en": "No such monitoring session", "zh": "没有该监听会话"},
    "error.LISTEN_ONLY": {"en": "Quality inspectors may only listen", "zh": "质检员只能监听"},
    "error.NOT_ON_CALL": {"en": "That call is not talking to an agent now", "zh": "该通话目前未与坐席通话"},
    "error.ALREADY_MONITORING": {"en": "You are already monitoring a call: stop that one first",
                                 "zh": "您正在监听另一通电话，请先停止"},
    "error.NO_SUCH_MONITOR": {"en": "You are not monitoring that call (it may have ended)",
                              "zh": "您未在监听该通话（可能已结束）"},
    "error.MONITOR_NOT_ANSWERED": {"en": "Answer your phone first", "zh": "请先接听您的话机"},
    "error.MONITOR_FAILED": {"en": "The monitoring mode could not be switched; try again",
                             "zh": "无法切换监听模式，请重试"},
}
