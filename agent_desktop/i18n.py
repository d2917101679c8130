"""Screen text in Mandarin and English, chosen by the user's own language setting."""
from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "title": {"en": "Call center desktop", "zh": "呼叫中心工作台"},
    "login": {"en": "Log in", "zh": "登录"},
    "logout": {"en": "Log out", "zh": "退出"},
    "username": {"en": "User name", "zh": "用户名"},
    "password": {"en": "Password", "zh": "密码"},
    "bad_login": {"en": "Wrong user name or password", "zh": "用户名或密码错误"},
    "seat": {"en": "Seat", "zh": "坐席"},
    "state": {"en": "State", "zh": "状态"},
    "ready": {"en": "Ready", "zh": "就绪"},
    "not_ready": {"en": "Not ready", "zh": "未就绪"},
    "logged_out": {"en": "Logged out", "zh": "已签出"},
    "reserved": {"en": "Reserved", "zh": "预占"},
    "ringing": {"en": "Ringing", "zh": "振铃"},
    "on_call": {"en": "On call", "zh": "通话中"},
    "wrapup": {"en": "Wrap-up", "zh": "话后处理"},
    "reason": {"en": "Reason", "zh": "原因"},
    "break": {"en": "Break", "zh": "休息"},
    "meal": {"en": "Meal", "zh": "用餐"},
    "training": {"en": "Training", "zh": "培训"},
    "back_office": {"en": "Back office", "zh": "后台工作"},
    "no_answer": {"en": "No answer", "zh": "未接听"},
    "supervisor": {"en": "Set by supervisor", "zh": "班长设置"},
    "today": {"en": "Today", "zh": "今日"},
    "calls_answered": {"en": "Calls answered", "zh": "接听量"},
    "talk_time": {"en": "Talk time", "zh": "通话时长"},
    "customer": {"en": "Customer", "zh": "客户"},
    "unknown_caller": {"en": "Unknown caller: search", "zh": "未知来电：查找客户"},
    "search": {"en": "Search", "zh": "查找"},
    "vip": {"en": "VIP level", "zh": "VIP等级"},
    "language": {"en": "Language", "zh": "语言"},
    "plan": {"en": "Plan", "zh": "套餐"},
    "balance": {"en": "Balance", "zh": "余额"},
    "bills": {"en": "Recent bills", "zh": "近期账单"},
    "open_orders": {"en": "Open work orders", "zh": "未结工单"},
    "recent_calls": {"en": "Recent calls", "zh": "近期来电"},
    "menu_path": {"en": "Menu path", "zh": "菜单路径"},
    "password_verified": {"en": "Service password verified", "zh": "服务密码已验证"},
    "password_not_verified": {"en": "Service password NOT verified", "zh": "服务密码未验证"},
    "queue": {"en": "Queue", "zh": "队列"},
    "waited": {"en": "Waited", "zh": "等待"},
    "transfer_notes": {"en": "Notes from the previous agent", "zh": "上一坐席备注"},
    "hangup": {"en": "Hang up", "zh": "挂断"},
    "hold": {"en": "Hold", "zh": "保持"},
    "resume": {"en": "Resume", "zh": "恢复通话"},
    "on_hold": {"en": "Caller on hold (music)", "zh": "客户保持中（播放音乐）"},
    "transfer": {"en": "Transfer", "zh": "转接"},
    "to_skill": {"en": "to skill", "zh": "转技能组"},
    "to_agent": {"en": "or to agent", "zh": "或转坐席"},
    "note": {"en": "Note", "zh": "备注"},
    "work_order": {"en": "Work order", "zh": "工单"},
    "create_order": {"en": "Create work order", "zh": "创建工单"},
    "category": {"en": "Category", "zh": "类别"},
    "description": {"en": "Description", "zh": "描述"},
    "priority": {"en": "Priority", "zh": "优先级"},
    "disposition": {"en": "Disposition", "zh": "处理结果"},
    "notes": {"en": "Notes", "zh": "备注"},
    "save_wrapup": {"en": "Save", "zh": "保存"},
    "end_wrapup": {"en": "Ready now", "zh": "立即就绪"},
    "wallboard": {"en": "Wallboard", "zh": "监控大屏"},
    "waiting": {"en": "Waiting", "zh": "排队数"},
    "longest_wait": {"en": "Longest wait", "zh": "最长等待"},
    "service_level": {"en": "Service level", "zh": "服务水平"},
    "answered": {"en": "Answered", "zh": "接通"},
    "abandoned": {"en": "Abandoned", "zh": "放弃"},
    "agents": {"en": "Agents", "zh": "坐席"},
    "time_in_state": {"en": "Time in state", "zh": "状态时长"},
    "set_state": {"en": "Set state", "zh": "设置状态"},
    "extend_wrapup": {"en": "+60 s wrap-up", "zh": "延长话后60秒"},
    "admin": {"en": "Administration", "zh": "系统管理"},
    "users": {"en": "Users", "zh": "用户"},
    "teams": {"en": "Teams", "zh": "班组"},
    "skills": {"en": "Skills", "zh": "技能"},
    "queues": {"en": "Queues", "zh": "队列"},
    "save": {"en": "Save", "zh": "保存"},
    "home_other": {"en": "Your screens (quality review, work orders) come in a later release.",
                   "zh": "您的功能页面（质检、工单）将在后续版本提供。"},
    # how a call ended: one entry per cdr.end_reason.EndReason / EndDetail code
    "end.agent_hangup": {"en": "Agent hung up", "zh": "坐席挂机"},
    "end.caller_hangup": {"en": "Caller hung up", "zh": "客户挂机"},
    "end.ivr_ended": {"en": "Ended by the menu", "zh": "语音菜单结束"},
    "end.callback_requested": {"en": "Caller asked for a call back", "zh": "客户预约回拨"},
    "end.abandoned_ringing": {"en": "Abandoned while the agent's phone rang", "zh": "坐席振铃时放弃"},
    "end.abandoned_waiting": {"en": "Abandoned while waiting", "zh": "排队时放弃"},
    "end.hung_up_on_hold": {"en": "Caller hung up on hold", "zh": "保持中客户挂机"},
    "end.hung_up_in_ivr": {"en": "Caller hung up in the menu", "zh": "语音菜单中挂机"},
    "end.hung_up_before_queue": {"en": "Caller hung up before queueing", "zh": "进入队列前挂机"},
    "end.lost": {"en": "Lost (no end event)", "zh": "丢失（无结束事件）"},
    "end.unknown": {"en": "Ended (unknown how)", "zh": "结束（原因未知）"},
    "end_detail.ivr_unreachable": {"en": "menu unreachable", "zh": "语音菜单不可达"},
    "end_detail.ivr_error": {"en": "menu error", "zh": "语音菜单出错"},
    "in_progress": {"en": "In progress", "zh": "进行中"},
}


def translate(key: str, language: str) -> str:
    entry = STRINGS.get(key)
    if entry is None:
        return key
    return entry.get(language) or entry["en"]


def _words(key: str, fallback: str, language: str) -> str:
    return translate(key, language) if key in STRINGS else fallback


def end_reason_words(code: str | None, detail: str | None, language: str) -> str:
    """A call's end reason and detail (cdr.end_reason codes) in words; a code without words shows as is."""
    if not code:
        return translate("in_progress", language)
    words = _words(f"end.{code}", code, language)
    if not detail:
        return words
    detail = _words(f"end_detail.{detail}", detail, language)
    return f"{words}（{detail}）" if language == "zh" else f"{words} ({detail})"


def strings(language: str) -> dict[str, str]:
    return {key: translate(key, language) for key in STRINGS}
