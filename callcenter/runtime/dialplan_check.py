"""Static checks of the shipped Asterisk configuration (asterisk_conf/).

Parsed with pyst2's config parser. What is checked:
- every context named anywhere (Goto/GotoIf/Gosub targets, Local channels, hangup handlers,
  Dial's U() subroutines, includes, pjsip endpoints, and our code in callcenter/dialplan.py)
  exists;
- no context that an inbound call can reach dials out: a Dial there may only ring
  ``Local/<x>@<context>`` (that context is then checked too) or an agent's phone,
  ``PJSIP/${EXTEN}`` or ``PJSIP/web${EXTEN}``, in an extension whose pattern matches agent
  extensions only (``_1XXX``); System-like applications are refused. Inbound means the hotline,
  where our services send callers, and every SIP endpoint's context: a carrier's trunk, and an
  agent's phone dialling (read from pjsip.conf with the files it includes: the trunks and phones
  callcenter/sip/render.py writes from the database are checked before Asterisk loads them);
- every SIP endpoint authenticates (an auth section) or is a trunk matched by its address (an
  identify section): none takes calls from whoever names it;
- in every context (an AMI Originate reaches any), nothing substituted into the arguments of an
  application that runs a command, writes a file or reaches a server (MixMonitor, Monitor, AGI,
  EAGI, Dial) can hold a comma: each ``${...}`` there is a FILTER to letters, digits and ``._-``,
  Asterisk's clock through STRFTIME, EXTEN under an agent-only pattern, or a variable the same
  extension Set from only such parts. A global never is: AMI's Setvar writes any, and an
  Originate's Variable shadows it. (A comma would be one more argument: MixMonitor's third is a
  shell command, run as root.)
"""
from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import asterisk.config

from callcenter import dialplan

AGENT_ONLY_PATTERNS = {"_1XXX"}
# an agent's desk phone and the desktop's softphone (callcenter/sip/names.py names both)
AGENT_DIALS = {"PJSIP/${EXTEN}", "PJSIP/web${EXTEN}"}
FORBIDDEN_APPS = {"system", "trysystem", "originate", "exec", "tryexec", "agi", "eagi"}
# AGI is allowed only where we put it ourselves, reaching our own server: the hotline entry
# the waiting loop (position announcements, call-back requests), the agent's password check and
# the post-call survey.
AGI_ALLOWED = {dialplan.HOTLINE, dialplan.WAIT, dialplan.VERIFY, dialplan.SURVEY}
GUARDED_APPS = {"mixmonitor", "monitor", "agi", "eagi", "dial"}
# FILTER's allowed characters: ranges within digits, lower or upper case letters (A-z would take
# [ \ ] ^ ` too), and single letters, digits, . _ and \- (a literal hyphen); nothing that splits
# or groups arguments (, ( ) " \ |) gets through.
SAFE_FILTER = re.compile(r"FILTER\((?:[0-9]-[0-9]|[a-z]-[a-z]|[A-Z]-[A-Z]|[0-9A-Za-z._]|\\-)+,")


@dataclass
class Step:
    exten: str
    app: str
    args: str
    line: int


@dataclass
class Dialplan:
    contexts: dict[str, list[Step]] = field(default_factory=dict)
    includes: dict[str, list[str]] = field(default_factory=dict)


def _inline_includes(path: Path, depth: int = 0) -> str:
    """The file's text with each #include/#tryinclude of a file beside it put in its place, as
    Asterisk reads it (the files callcenter/sip/render.py writes are checked like the shipped
    ones); an include of a file that is not there is dropped (manager_local.conf, or the
    provisioned files in asterisk_conf/ itself)."""
    def inline(match: re.Match) -> str:
        name = match.group(1).strip().strip('"')
        included = path.parent / name
        if depth < 3 and "/" not in name and included.is_file():
            return _inline_includes(included, depth + 1)
        return ""
    return re.sub(r"^#(?:try)?include\s+(.*)$", inline, path.read_text(), flags=re.M)


def _parse_conf(path: Path) -> asterisk.config.Config:
    # pyst2 does not know template markers "[name](!)" / "[name](tpl)" nor #include/#tryinclude
    # lines: drop the markers, and put included files beside this one in their place
    text = re.sub(r"^(\[[^\]]+\])\([^)]*\)", r"\1", _inline_includes(path), flags=re.M)
    with tempfile.NamedTemporaryFile("w", suffix=".conf") as tmp:
        tmp.write(text)
        tmp.flush()
        return asterisk.config.Config(tmp.name)


def parse_extensions(path: Path) -> Dialplan:
    plan = Dialplan()
    for category in _parse_conf(path).categories:
        if category.name in ("general", "globals"):
            continue
        steps = plan.contexts.setdefault(category.name, [])
        current = ""
        for item in category.items:
            if item.name == "include":
                plan.includes.setdefault(category.name, []).append(item.value.strip())
                continue
            if item.name not in ("exten", "same"):
                continue
            parts = item.value.split(",", 2)
            if item.name == "exten":
                current = parts[0].strip()
                body = parts[2] if len(parts) > 2 else ""
            else:
                body = item.value.split(",", 1)[1] if "," in item.value else ""
            m = re.match(r"\s*([A-Za-z_]+)\((.*)\)\s*$", body)
            app, args = (m.group(1), m.group(2)) if m else (body.strip(), "")
            steps.append(Step(current, app, args, item.number))
    return plan


def _sections(pjsip_path: Path) -> list[tuple[str, dict[str, str]]]:
    """(name, settings) of every pjsip section, values stripped (pyst2 keeps the space after =)."""
    return [(category.name, {item.name.strip(): item.value.strip() for item in category.items})
            for category in _parse_conf(pjsip_path).categories]


def endpoint_contexts(pjsip_path: Path) -> dict[str, str]:
    """pjsip section -> context, for endpoints and endpoint templates."""
    return {name: values["context"] for name, values in _sections(pjsip_path)
            if values.get("type") == "endpoint" and "context" in values}


def unauthenticated_endpoints(pjsip_path: Path) -> list[str]:
    """Endpoints anyone could use: neither an auth (a phone proves its password) nor an identify
    section (a trunk, matched by its address). Identified by user name alone, such an endpoint
    would take a call from whoever names it in From. Templates ([name](!)) are not endpoints."""
    templates = set(re.findall(r"^\[([^\]]+)\]\(!", _inline_includes(pjsip_path), flags=re.M))
    sections = _sections(pjsip_path)
    identified = {values.get("endpoint") for _, values in sections if values.get("type") == "identify"}
    return [f"pjsip [{name}]: an endpoint with no auth and no identify section takes calls from anyone"
            for name, values in sections
            if values.get("type") == "endpoint" and name not in templates and not values.get("auth")
            and name not in identified]


def _split_target(target: str, here: str) -> str | None:
    """The context of a Goto-style target "ctx,exten,prio" | "exten,prio" | "label"."""
    parts = [p.strip() for p in target.split(",")]
    return parts[0] if len(parts) == 3 else here if parts[0] else None


def targets(step: Step, here: str) -> list[str]:
    """Contexts a dialplan step can send the channel (or a new channel) to."""
    app, args = step.app.lower(), step.args
    found: list[str] = []
    if app in ("goto", "gosub"):
        found.append(_split_target(re.sub(r"\(.*\)$", "", args), here))
    elif app in ("gotoif", "gosubif"):
        branches = args.split("?", 1)[1] if "?" in args else ""
        for branch in branches.split(":"):
            if branch.strip():
                found.append(_split_target(re.sub(r"\(.*\)$", "", branch), here))
    elif app == "execif":
        inner = args.split("?", 1)[1] if "?" in args else ""
        m = re.match(r"\s*([A-Za-z_]+)\((.*)\)", inner)
        if m:
            found += targets(Step(step.exten, m.group(1), m.group(2), step.line), here)
    elif app == "set" and "hangup_handler_push" in args:
        found.append(_split_target(args.split("=", 1)[1], here))
    if app == "dial":  # the ${...} in a Local's number (a FILTER's comma) is not the argument's end
        found += re.findall(r"Local/[^@,&]+@([A-Za-z0-9_-]+)", _flatten(args))
        found += [m.split("^")[0] for m in re.findall(r"U\(([^)]*)\)", args)]
    return [t for t in found if t and "$" not in t]


def _flatten(text: str) -> str:
    """text with each outermost ${...} as one placeholder "V": what is left is the syntax."""
    out, depth, i = [], 0, 0
    while i < len(text):
        if text.startswith("${", i):
            if depth == 0:
                out.append("V")
            depth += 1
            i += 2
            continue
        if depth:
            depth += text[i] == "{"
            depth -= text[i] == "}"
        else:
            out.append(text[i])
        i += 1
    return "".join(out)


def _first_argument(args: str) -> str:
    """An application's first argument, as written: up to the first comma outside ${...}."""
    depth, i = 0, 0
    while i < len(args):
        if args.startswith("${", i):
            depth, i = depth + 1, i + 2
            continue
        if depth:
            depth += args[i] == "{"
            depth -= args[i] == "}"
        elif args[i] == ",":
            return args[:i]
        i += 1
    return args


def dial_violations(step: Step, context: str) -> list[str]:
    if step.app.lower() != "dial":
        return []
    where = f"[{context}] line {step.line}"
    problems = []
    for dest in _first_argument(step.args).split("&"):
        dest = dest.strip()
        if re.fullmatch(r"Local/[^@]+@[A-Za-z0-9_-]+(/n)?", _flatten(dest)):
            continue
        if dest in AGENT_DIALS and step.exten in AGENT_ONLY_PATTERNS:
            continue
        problems.append(f"{where}: Dial({dest}) can dial out of the center")
    return problems


def references(text: str) -> list[str]:
    """The outermost ${...} expressions in text, without the ${ }."""
    found, depth, start, i = [], 0, 0, 0
    while i < len(text):
        if text.startswith("${", i):
            if depth == 0:
                start = i + 2
            depth += 1
            i += 2
            continue
        if text[i] == "}" and depth:
            depth -= 1
            if depth == 0:
                found.append(text[start:i])
        elif text[i] == "{" and depth:
            depth += 1
        i += 1
    return found


def _clean(expr: str, exten: str, assigned: set[str]) -> bool:
    """A substitution that cannot hold a comma (or anything else that splits arguments)."""
    return (SAFE_FILTER.match(expr) is not None
            or expr.startswith("STRFTIME(${EPOCH},")
            or (expr == "EXTEN" and exten in AGENT_ONLY_PATTERNS)
            or expr in assigned)


def unfiltered_arguments(plan: Dialplan) -> list[str]:
    """Values that reach a command, a file name or a server's address unfiltered (module doc)."""
    problems = []
    for ctx, steps in plan.contexts.items():
        assigned: set[str] = set()  # channel variables this extension Set from clean parts only
        exten = None
        for step in steps:
            if step.exten != exten:
                exten, assigned = step.exten, set()
            app = step.app.lower()
            if app == "set" and "=" in step.args:
                name, value = step.args.split("=", 1)
                name = name.strip().lstrip("_")
                if all(_clean(ref, exten, assigned) for ref in references(value)):
                    assigned.add(name)
                else:
                    assigned.discard(name)
            elif app in GUARDED_APPS:
                for ref in references(step.args):
                    if not _clean(ref, exten, assigned):
                        problems.append(f"[{ctx}] line {step.line}: {step.app}() takes ${{{ref}}} unfiltered "
                                        "(a comma in it would be one more argument)")
    return problems


def reachable(plan: Dialplan, starts: tuple[str, ...]) -> set[str]:
    seen: set[str] = set()
    todo = list(starts)
    while todo:
        ctx = todo.pop()
        if ctx in seen or ctx not in plan.contexts:
            continue
        seen.add(ctx)
        todo += plan.includes.get(ctx, [])
        for step in plan.contexts[ctx]:
            todo += targets(step, ctx)
    return seen


def check(conf_dir: Path) -> list[str]:
    """Every problem found, as lines; empty when the configuration is sound."""
    plan = parse_extensions(conf_dir / "extensions.conf")
    endpoints = endpoint_contexts(conf_dir / "pjsip.conf")
    problems: list[str] = []

    def need(ctx: str, who: str) -> None:
        if ctx not in plan.contexts:
            problems.append(f"{who} names context {ctx!r}, which extensions.conf does not define")

    for name in dialplan.CONTEXTS_USED_BY_CODE:
        need(name, "callcenter/dialplan.py")
    for endpoint, ctx in endpoints.items():
        need(ctx, f"pjsip.conf [{endpoint}]")
    for ctx, steps in plan.contexts.items():
        for inc in plan.includes.get(ctx, []):
            need(inc, f"[{ctx}] include")
        for step in steps:
            for target in targets(step, ctx):
                need(target, f"[{ctx}] line {step.line} {step.app}")

    problems += unfiltered_arguments(plan)
    problems += unauthenticated_endpoints(conf_dir / "pjsip.conf")
    # every SIP endpoint is the outside world: a carrier's caller, or an agent's phone dialling
    inbound_starts = tuple(dialplan.INBOUND_CONTEXTS) + tuple(sorted(set(endpoints.values()))) \
        + dialplan.CONTEXTS_CODE_SENDS_CALLERS_TO
    for ctx in sorted(reachable(plan, inbound_starts)):
        for step in plan.contexts[ctx]:
            problems += dial_violations(step, ctx)
            app = step.app.lower()
            if app in FORBIDDEN_APPS and not (app == "agi" and ctx in AGI_ALLOWED):
                problems.append(f"[{ctx}] line {step.line}: {step.app}() is not allowed where inbound calls go")
    return problems
