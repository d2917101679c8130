"""Who may see and work which order (object checks, next to the data they guard).

- An admin: every order, every action a person may take.
- A group's members and its lead: the group's orders; the lead alone bulk-assigns, and with the
  order's owner cancels it or hands its ownership over.
- The owner of record (first responder), often the agent who opened it on a call: the order,
  a comment, a hand-over, and a return visit's outcome when they call the customer back.
- An agent whose return-visit call this is: the order and the visit's outcome.
The role-level check (which roles reach a route at all) is the desktop's; this is the second one.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.models import OrderGroup, OrderGroupMember, User, WorkOrder
from callcenter.orders import lifecycle

VISIT_OUTCOMES = ("confirm", "not_fixed", "no_answer")
OWNER_OR_LEAD = ("cancel", "hand_over")


@dataclass(frozen=True)
class Actor:
    username: str
    role: str
    groups: frozenset[str] = frozenset()  # member or lead of
    leads: frozenset[str] = frozenset()  # lead of

    @property
    def admin(self) -> bool:
        return self.role == "admin"


SYSTEM = Actor("system", "system")


def actor_for(s: Session, user: User) -> Actor:
    if user.role == "admin":
        every = frozenset(s.scalars(select(OrderGroup.code)))
        return Actor(user.username, user.role, every, every)
    member = set(s.scalars(select(OrderGroupMember.group_code).where(OrderGroupMember.user_id == user.id)))
    leads = set(s.scalars(select(OrderGroup.code).where(OrderGroup.lead_id == user.id)))
    return Actor(user.username, user.role, frozenset(member | leads), frozenset(leads))


def works(actor: Actor, order: WorkOrder) -> bool:
    """A member of the order's group (or its lead, or an admin), or the person it is assigned to."""
    return actor.admin or order.group_code in actor.groups or (order.assignee == actor.username)


def owns(actor: Actor, order: WorkOrder) -> bool:
    return actor.username in (order.owner, order.created_by)


def can_view(actor: Actor, order: WorkOrder, on_visit: bool = False) -> bool:
    return works(actor, order) or owns(actor, order) or on_visit


def can_act(actor: Actor, order: WorkOrder, action: str, on_visit: bool = False) -> bool:
    """May this person take ``action`` (a lifecycle action, "comment" or "hand_over") on the order?"""
    if action in lifecycle.SYSTEM_ACTIONS:
        return False
    if action in OWNER_OR_LEAD:
        return actor.admin or order.group_code in actor.leads or owns(actor, order)
    if works(actor, order):
        return True
    if action in VISIT_OUTCOMES:
        return on_visit or owns(actor, order)
    return action == "comment" and owns(actor, order)


def can_bulk_assign(actor: Actor, orders: list[WorkOrder]) -> bool:
    return actor.admin or all(o.group_code in actor.leads for o in orders)
