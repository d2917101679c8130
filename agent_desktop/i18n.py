"""Screen text in Mandarin and English, chosen by the user's own language setting."""
from __future__ import annotations

from agent_desktop.order_words import ORDER_STRINGS

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
    # errors: one entry per stable code (agent_desktop.errors; the router's are acd.protocol.ERRORS)
    "error.BAD_REQUEST": {"en": "The request is not valid", "zh": "请求无效"},
    "error.UNAUTHORIZED": {"en": "Please log in again", "zh": "请重新登录"},
    "error.FORBIDDEN": {"en": "You may not do this", "zh": "您无权执行此操作"},
    "error.NOT_FOUND": {"en": "Not found", "zh": "未找到"},
    "error.METHOD_NOT_ALLOWED": {"en": "This request method is not allowed here", "zh": "不支持此请求方法"},
    "error.TOO_LARGE": {"en": "The request is too large", "zh": "请求内容过大"},
    "error.SERVER_ERROR": {"en": "Something went wrong on the server; try again", "zh": "服务器出错，请重试"},
    "error.CSRF_FAILED": {"en": "This page has expired: reload it", "zh": "页面已过期，请刷新"},
    "error.BAD_JSON": {"en": "Send a JSON object", "zh": "请求内容须为JSON对象"},
    "error.BAD_TEXT": {"en": "{field}: text of at most {limit} characters", "zh": "{field}：最多{limit}个字符"},
    "error.MISSING_FIELD": {"en": "{field} is required", "zh": "{field}为必填项"},
    "error.BAD_NUMBER": {"en": "{field}: a whole number from {low} to {high}", "zh": "{field}：须为{low}到{high}的整数"},
    "error.BAD_CALL_ID": {"en": "call: a channel unique id (letters, digits, . _ -)",
                          "zh": "call：须为通道唯一标识（字母、数字、. _ -）"},
    "error.BAD_SEARCH": {"en": "Search with 2 to 40 characters (a name or a phone number)",
                         "zh": "请输入2到40个字符（姓名或电话号码）"},
    "error.BAD_CATEGORY": {"en": "category: one of {choices}", "zh": "类别须为：{choices}"},
    "error.BAD_PRIORITY": {"en": "priority: one of {choices}", "zh": "优先级须为：{choices}"},
    "error.BAD_DISPOSITION": {"en": "disposition: one of {choices}", "zh": "处理结果须为：{choices}"},
    "error.BAD_CUSTOMER_ID": {"en": "customer_id: a number", "zh": "customer_id须为数字"},
    "error.NO_SUCH_CUSTOMER": {"en": "No such customer", "zh": "无此客户"},
    "error.NOT_YOUR_TEAM": {"en": "Agent {ext} is not in your teams", "zh": "坐席{ext}不在您的班组"},
    "error.BAD_TRANSFER": {"en": "Transfer to a skill or to an agent, not both", "zh": "请转接到技能组或坐席（二选一）"},
    "error.BAD_SKILL": {"en": "skill: a queue's name (lower-case letters and _)", "zh": "技能组名称须为小写字母和_"},
    "error.BAD_USERNAME": {"en": "username: lower-case letters, digits, _ . - (2 to 40)",
                           "zh": "用户名：小写字母、数字、_ . -（2到40个字符）"},
    "error.BAD_ROLE": {"en": "Unknown role", "zh": "未知角色"},
    "error.BAD_LANGUAGE": {"en": "Unknown language", "zh": "未知语言"},
    "error.PASSWORD_TOO_SHORT": {"en": "A password has at least 6 characters", "zh": "密码至少6个字符"},
    "error.NAME_TAKEN": {"en": "That extension or user name is taken", "zh": "该分机号或用户名已被占用"},
    "error.NO_SUCH_SUPERVISOR": {"en": "No supervisor {name}", "zh": "无此班长：{name}"},
    "error.NO_SUCH_AGENT": {"en": "No agent {name}", "zh": "无此坐席：{name}"},
    "error.BAD_OVERFLOW": {"en": "overflow: \"seconds:level\" steps, such as 30:4,90:2",
                           "zh": "溢出规则须为“秒数:等级”，如 30:4,90:2"},
    "error.UNKNOWN_COMMAND": {"en": "Unknown command", "zh": "未知命令"},
    "error.BAD_EXTENSION": {"en": "An agent extension is 1XXX", "zh": "坐席分机号须为1XXX"},
    "error.BAD_STATE": {"en": "An agent may be set ready, not ready or logged out",
                        "zh": "坐席状态只能设为就绪、未就绪或签出"},
    "error.BAD_REASON": {"en": "Not ready needs a reason: break, meal, training or back office",
                         "zh": "未就绪须选择原因：休息、用餐、培训或后台工作"},
    "error.BAD_SECONDS": {"en": "Extend wrap-up by 1 to 600 seconds", "zh": "话后处理只能延长1到600秒"},
    "error.INVALID_AGENT_TRANSITION": {"en": "The agent cannot do that in their present state",
                                       "zh": "坐席当前状态不能执行此操作"},
    "error.NOT_IN_WRAPUP": {"en": "The agent is not in wrap-up", "zh": "坐席不在话后处理中"},
    "error.NO_SUCH_CALL": {"en": "No such call", "zh": "无此通话"},
    "error.NOT_YOUR_CALL": {"en": "That call is not yours", "zh": "这不是您的通话"},
    "error.ALREADY_HELD": {"en": "The caller is already on hold", "zh": "客户已在保持中"},
    "error.NOT_HELD": {"en": "The caller is not on hold", "zh": "客户未在保持中"},
    "error.NOT_CONNECTED": {"en": "The caller is not talking to the agent", "zh": "客户未与坐席通话"},
    "error.HOLD_FAILED": {"en": "The phone system refused the hold", "zh": "电话系统拒绝了保持"},
    "error.RESUME_FAILED": {"en": "The phone system refused to resume the call", "zh": "电话系统拒绝了恢复通话"},
    "error.BAD_TARGET": {"en": "Transfer to someone else", "zh": "请转接给其他人"},
    "error.AGENT_NOT_READY": {"en": "That agent is not ready", "zh": "该坐席未就绪"},
    "error.UNKNOWN_SKILL": {"en": "No queue serves that skill", "zh": "没有队列服务该技能组"},
    "error.TRANSFER_FAILED": {"en": "The phone system refused the transfer", "zh": "电话系统拒绝了转接"},
    "error.ROUTER_ERROR": {"en": "The router failed; try again", "zh": "路由服务出错，请重试"},
    "error.ROUTER_UNAVAILABLE": {"en": "The router did not answer; try again", "zh": "路由服务无响应，请重试"},
}
STRINGS.update(ORDER_STRINGS)  # the work-order screens' words (agent_desktop/order_words.py)


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
