"""``relais rules [--markdown]``: the rule catalogue with each rule's reference and comparison.

JSON by default (one object per finding code: code, severity, section, summary, reference,
verdict, why); ``--markdown`` prints the conformance table (``schemas/conformance.md``).
"""

from __future__ import annotations

import json

import click


@click.command(
    "rules",
    help="Print the rule catalogue and its conformance to the state's CERFA form (JSON, or the "
    "Markdown table of schemas/conformance.md).",
)
@click.option("--markdown", is_flag=True, help="Print the conformance table as Markdown.")
def command(markdown: bool) -> int:
    if markdown:
        from relais.conformance_doc import markdown as table

        print(table(), end="")
        return 0
    from relais.domain.rules.conformance import rows

    print(json.dumps(rows(), ensure_ascii=False, indent=2))
    return 0
