"""The words of the customer look-up (agent_desktop/customer_lookup.py), Mandarin and English;
merged into i18n.STRINGS. One entry per reason (lookup_reason.<reason>) and error.<CODE> for
each refusal of the look-up routes."""
from __future__ import annotations

LOOKUP_STRINGS: dict[str, dict[str, str]] = {
    "lookup_reason": {"en": "Why", "zh": "查询原因"},
    "lookup_reason.this_call": {"en": "The caller on this call", "zh": "本通来电的客户"},
    "lookup_reason.callback": {"en": "Calling the customer back", "zh": "回拨客户"},
    "lookup_reason.work_order": {"en": "Working the customer's order", "zh": "处理客户工单"},
    "lookup_reason.complaint_followup": {"en": "Following up a complaint", "zh": "投诉跟进"},
    "lookup_note": {"en": "Note: whom it is for", "zh": "备注：为谁查询"},
    "lookup_unverified": {"en": "Caller not verified: profile limited until the service password is given",
                          "zh": "来电未验证：验证服务密码前仅显示部分资料"},
    "shown_when_verified": {"en": "Shown after the service password", "zh": "验证服务密码后显示"},
    "error.LOOKUP_REASON_REQUIRED": {"en": "A look-up needs your call or a reason: one of {choices}",
                                     "zh": "查询客户须关联您的通话或说明原因：{choices}"},
    "error.BAD_LOOKUP_REASON": {"en": "Reason: one of {choices}", "zh": "查询原因须为：{choices}"},
    "error.LOOKUP_NOTE_REQUIRED": {"en": "A search for a reason needs a note (up to {limit} characters)",
                                   "zh": "按原因查询须填写备注（最多 {limit} 个字符）"},
    "error.BAD_LOOKUP_NOTE": {"en": "Note: up to {limit} characters on one line",
                              "zh": "备注：一行，最多 {limit} 个字符"},
    # RATE_LIMITED (too many searches this hour) has its words in i18n.py, shared with the socket limits
}
