"""The conformance table (``schemas/conformance.md``, ``relais rules --markdown``).

One row per finding code of the catalogue: severity, the notes' section, the paths it is reported
at and its French messages (read from the rules' own ``error(...)``/``warning(...)`` calls, so the
table cannot drift from the code), its reference and the comparison with the state's CERFA form
(``relais.domain.rules.conformance``). Placeholders of computed paths or messages show as ``{...}``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from relais.domain.events import schema_error_code
from relais.domain.rules.catalogue import CATALOGUE
from relais.domain.rules.conformance import CONFORMANCE, VERDICTS

DOMAIN = Path(__file__).resolve().parent / "domain"
MAX_MESSAGES = 3
TARGET = "conformance.md"


def _sources() -> list[Path]:
    rules = sorted((DOMAIN / "rules").glob("*.py"))
    validate = DOMAIN.parent / "entrypoints" / "commands" / "validate.py"
    return [*rules, DOMAIN / "routing.py", DOMAIN / "validation.py", validate]


def _text(node: ast.expr, env: dict[str, str] | None = None) -> str:
    """A constant string as is; computed parts as ``{expression}`` (a local variable holding a
    constant is replaced by it)."""
    env = env or {}
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.Name) and node.id in env:
        return env[node.id]
    if isinstance(node, ast.JoinedStr):
        return "".join(
            str(v.value)
            if isinstance(v, ast.Constant)
            else _text(v.value, env)
            if isinstance(v, ast.FormattedValue) and isinstance(v.value, ast.Name)
            else "{" + ast.unparse(v.value if isinstance(v, ast.FormattedValue) else v) + "}"
            for v in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _text(node.left, env) + _text(node.right, env)
    return "{" + ast.unparse(node) + "}"


def _constants(nodes: list[ast.stmt], params: frozenset[str] = frozenset()) -> dict[str, str]:
    """Names bound to a constant string (``path = "contrat.x"``) by these statements, at any
    depth; a name bound twice to different strings, or a parameter, is left computed."""
    out: dict[str, str] = {}
    seen: dict[str, int] = {}
    for node in (n for stmt in nodes for n in ast.walk(stmt)):
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.For):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    seen[target.id] = seen.get(target.id, 0) + 1
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            out[node.targets[0].id] = node.value.value
    return {k: v for k, v in out.items() if seen.get(k) == 1 and k not in params}


def _calls() -> Iterator[tuple[str, str, str]]:
    """(code or code template, path, message) of every ``error``/``warning`` call of the rules."""
    for source in _sources():
        tree = ast.parse(source.read_text(encoding="utf-8"))
        top = [n for n in tree.body if isinstance(n, ast.Assign)]
        module_env = _constants(list(top))
        funcs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
        for func in funcs:
            params = frozenset(a.arg for a in [*func.args.args, *func.args.kwonlyargs])
            env = {**module_env, **_constants(func.body, params)}
            for node in ast.walk(func):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in ("error", "warning")
                    and len(node.args) >= 3
                ):
                    code, path, message = (_text(a, env) for a in node.args[:3])
                    yield code, path, message


_SCHEMA_CODE = re.compile(r"\{schema_error_code\('(\w+)'\)\}")


def _matches(template: str, code: str) -> bool:
    computed = _SCHEMA_CODE.fullmatch(template)
    if computed:  # error(schema_error_code("extra_forbidden"), ...)
        return code == schema_error_code(computed[1])
    if template == "{code}":  # relais validate: error(code, ...) with code = envelope_error_code()
        return code.startswith("ENVELOPE_")
    if "{" not in template:
        return template == code
    head, _, rest = template.partition("{")
    tail = rest.partition("}")[2]
    return code.startswith(head) and code.endswith(tail) and len(code) > len(head) + len(tail)


def usages() -> dict[str, tuple[list[str], list[str]]]:
    """Code -> (paths, messages) as the rules write them, in source order, without repeats."""
    calls = list(_calls())
    out: dict[str, tuple[list[str], list[str]]] = {}
    for code in CATALOGUE:
        paths: list[str] = []
        messages: list[str] = []
        for template, path, message in calls:
            if _matches(template, code):
                if path not in paths:
                    paths.append(path)
                if message not in messages:
                    messages.append(message)
        out[code] = (paths, messages)
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown() -> str:
    used = usages()
    lines = [
        "# Conformance of relais's rules to the state's CERFA form (generated: do not edit)",
        "",
        "Generated by `relais schemas write` (also printed by `relais rules --markdown`) from the",
        "rule catalogue (`relais/domain/rules/catalogue.py`), the comparison",
        "(`relais/domain/rules/conformance.py`) and the rules' own findings (paths, messages).",
        "References: `form:<X>` = `ui/app/(application)/cerfa/controls/<X>.control.ts` and",
        "`schema:<X>` = `shared/helpers/cerfa/schema/<X>.ts` of the public repository",
        "`mission-apprentissage/contrat` (the state's CERFA form); `notes` = convergence-api.md;",
        "`C. trav.` = Code du travail. Where the form and the notes disagree relais follows the",
        "form and keeps the other reading as a warning. Verdicts: "
        + ", ".join(f"`{v}`" for v in VERDICTS)
        + ".",
        "",
        "| code | severity | path | message (French, as reported) | reference | "
        "relais vs state form | why |",
        "|---|---|---|---|---|---|---|",
    ]
    counts = dict.fromkeys(VERDICTS, 0)
    for code, info in sorted(CATALOGUE.items()):
        conf = CONFORMANCE[code]
        counts[conf.verdict] += 1
        paths, messages = used[code]
        shown = messages[:MAX_MESSAGES] or [info.summary]
        more = len(messages) - MAX_MESSAGES
        message = " / ".join(shown) + (f" (+{more})" if more > 0 else "")
        reference = conf.reference
        if info.section[:1].isdigit() and "notes" not in reference:
            reference += f"; notes {info.section}"
        cells = [
            f"`{code}`",
            info.severity,
            ", ".join(f"`{p}`" for p in paths) if paths else "(any)",
            message,
            reference,
            conf.verdict,
            conf.why or "",
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines += ["", "Totals: " + ", ".join(f"{v} {n}" for v, n in counts.items()) + "."]
    return "\n".join(lines) + "\n"


def conformance_documents() -> dict[str, str]:
    """The ``relais.contracts`` source: ``schemas/conformance.md``."""
    return {TARGET: markdown()}
