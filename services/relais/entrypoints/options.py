"""Options several commands share, as Click decorators (no heavy import here)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from click.shell_completion import CompletionItem

from relais.domain.opco import OpcoCode

F = TypeVar("F", bound=Callable[..., Any])

OPCO_CODES = [code.value for code in OpcoCode]
STATE_FILE = Path(".relais") / "demo.json"


class OpcoParam(click.ParamType[str]):
    """An OPCO code, checked against the 11, any case in, upper case out (and completed)."""

    name = "OPCO"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        code = str(value).strip().upper()
        if code not in OPCO_CODES:
            self.fail(f"{value!r} is not an OPCO code; one of {', '.join(OPCO_CODES)}", param, ctx)
        return code

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        return [CompletionItem(c) for c in OPCO_CODES if c.startswith(incomplete.upper())]

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "OPCO"


def opco_choice() -> OpcoParam:
    return OpcoParam()


def file_path(**kwargs: Any) -> click.Path:
    return click.Path(path_type=Path, **kwargs)


def target_options(func: F) -> F:
    """--bootstrap, --state-file, --no-demo: which deployment an operator command talks to."""
    func = click.option("--no-demo", is_flag=True, help="Ignore a running demo's state file.")(func)
    func = click.option(
        "--state-file",
        type=file_path(dir_okay=False),
        default=None,
        help=f"Demo state file (default: {STATE_FILE}).",
    )(func)
    return click.option(
        "--bootstrap",
        default=None,
        metavar="HOST:PORT",
        help="Kafka bootstrap servers (default: RELAIS_KAFKA__BOOTSTRAP_SERVERS, else a running "
        "demo's).",
    )(func)


def json_option(help_text: str = "One JSON document on stdout.") -> Callable[[F], F]:
    return click.option("--json", "as_json", is_flag=True, help=help_text)


def namespace(**kwargs: Any) -> argparse.Namespace:
    """The parsed options as the handlers read them (``args.name``)."""
    if "as_json" in kwargs:
        kwargs["json"] = kwargs.pop("as_json")
    return argparse.Namespace(**kwargs)
