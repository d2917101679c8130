"""Words of the softphone and of where calls ring (agent_desktop/phone.py, static/softphone.js)."""
from __future__ import annotations

SOFTPHONE_STRINGS: dict[str, dict[str, str]] = {
    "sp_rings_on": {"en": "Calls ring on", "zh": "来电振铃于"},
    "sp_choose": {"en": "Choose a phone", "zh": "选择话机"},
    "sp_device.sip": {"en": "Desk phone", "zh": "桌面话机"},
    "sp_device.webrtc": {"en": "This browser", "zh": "本浏览器"},
    "sp_status.none": {"en": "No phone chosen", "zh": "未选择话机"},
    "sp_status.desk": {"en": "Desk phone {user}", "zh": "桌面话机 {user}"},
    "sp_status.connecting": {"en": "Softphone connecting", "zh": "软电话连接中"},
    "sp_status.registered": {"en": "Softphone ready", "zh": "软电话就绪"},
    "sp_status.unregistered": {"en": "Softphone not registered", "zh": "软电话未注册"},
    "sp_status.ringing": {"en": "Ringing in this browser", "zh": "本浏览器振铃中"},
    "sp_status.talking": {"en": "Talking in this browser", "zh": "本浏览器通话中"},
    "sp_status.no_microphone": {"en": "No microphone: allow it for this page", "zh": "无法使用麦克风，请允许本页面使用"},
    "sp_answer": {"en": "Answer", "zh": "接听"},
    "sp_hangup": {"en": "Hang up", "zh": "挂断"},
    "sp_mute": {"en": "Mute", "zh": "静音"},
    "sp_unmute": {"en": "Unmute", "zh": "取消静音"},
    "sp_ringing_here": {"en": "Ringing in this browser: answer here", "zh": "本浏览器振铃：请在此接听"},
    "error.NO_EXTENSION": {"en": "You have no agent extension: ask an administrator", "zh": "您没有坐席分机号，请联系管理员"},
    "error.BAD_DEVICE": {"en": "Calls ring on the desk phone or this browser", "zh": "来电只能振铃于桌面话机或本浏览器"},
}
