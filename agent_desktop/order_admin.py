"""Admin screen for the back office's groups: each group's name and lead (who hears of orders
nearing or past their deadline), and its members (who work its queue). Every change is audited."""
from __future__ import annotations

import re

from flask import Blueprint, redirect, request, url_for
from sqlalchemy import select

from agent_desktop.admin import audit, form
from agent_desktop.auth import require
from agent_desktop.context import desktop
from agent_desktop.errors import ApiError
from agent_desktop.order_pages import screen
from callcenter.models import OrderGroup, OrderGroupMember, User

bp = Blueprint("order_admin", __name__, url_prefix="/admin/order-groups")

GROUP = re.compile(r"[a-z][a-z_]{1,31}")
LEAD_ROLES = ("backoffice", "supervisor")


@bp.get("/")
@require("admin")
def index():
    with desktop().sessions() as s:
        groups = s.scalars(select(OrderGroup).order_by(OrderGroup.code)).all()
        names = dict(s.execute(select(User.id, User.username)).all())
        members = {}
        for code, user_id in s.execute(select(OrderGroupMember.group_code, OrderGroupMember.user_id)):
            members.setdefault(code, []).append(names.get(user_id, "?"))
        rows = [{"code": g.code, "name": g.name, "lead": names.get(g.lead_id), "members": sorted(members.get(g.code, []))}
                for g in groups]
        return screen("order_groups.html", groups=rows)


def _user(s, username: str, roles=LEAD_ROLES) -> User:
    user = s.scalar(select(User).where(User.username == username, User.role.in_(roles), User.active.is_(True)))
    if user is None:
        raise ApiError("NO_SUCH_USER", name=username)
    return user


@bp.post("/")
@require("admin")
def save_group():
    code, name, lead = form("code", 32), form("name", 80), form("lead", 40)
    if not GROUP.fullmatch(code):
        raise ApiError("BAD_GROUP_CODE")
    with desktop().sessions() as s:
        group = s.get(OrderGroup, code) or OrderGroup(code=code)
        group.name = name or group.name or code
        group.lead_id = _user(s, lead).id if lead else None
        s.add(group)
        audit(s, "save_order_group", code, f"lead {lead or '-'}")
        s.commit()
    return redirect(url_for("order_admin.index"), 303)


@bp.post("/members")
@require("admin")
def save_member():
    code, username = form("group", 32), form("username", 40)
    remove = request.form.get("remove") == "1"
    with desktop().sessions() as s:
        if s.get(OrderGroup, code) is None:
            raise ApiError("NO_SUCH_GROUP")
        user = _user(s, username, ("backoffice", "supervisor", "admin"))
        row = s.get(OrderGroupMember, (code, user.id))
        if remove and row is not None:
            s.delete(row)
        elif not remove and row is None:
            s.add(OrderGroupMember(group_code=code, user_id=user.id))
        audit(s, "remove_group_member" if remove else "add_group_member", code, username)
        s.commit()
    return redirect(url_for("order_admin.index"), 303)
