"""The demo's live terminal view (``rich``): per OPCO, what happened to the events sent to it.

Rendered from the ``Tracker`` only (what the status topic said), so the view shows what a CFA
would see, not relais's internals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from relais.demo.tracker import Tracker
from relais.domain.opco import ALL_OPCO

_STATUS_COLUMNS = (
    ("submitted", "green"),
    ("rejected", "yellow"),
    ("failed", "red"),
    ("dead_lettered", "magenta"),
    ("pending", "cyan"),
)


@dataclass
class Banner:
    """What the runner tells the view besides the tracker."""

    elapsed_s: float = 0.0
    planned: int = 0
    published: int = 0
    skipped: int = 0
    faults: Mapping[str, str] = field(default_factory=dict)  # opco -> description
    notes: Sequence[str] = ()
    phase: str = "starting"


def _fmt_ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.1f}s" if value >= 10_000 else f"{value:.0f}"


def render(tracker: Tracker, banner: Banner) -> Group:
    table = _opco_table(tracker, banner)
    lines = _panel_lines(tracker, banner)
    return Group(Panel(Group(*lines), title="relais demo"), table)


def _opco_table(tracker: Tracker, banner: Banner) -> Table:
    """One row per OPCO: events by status, retries, etats, latency."""
    table = Table(title="relais demo: CFA events by OPCO", expand=False, show_lines=False)
    table.add_column("OPCO", style="bold")
    table.add_column("sent", justify="right")
    for name, style in _STATUS_COLUMNS:
        table.add_column(name.replace("_", " "), justify="right", style=style)
    table.add_column("retries", justify="right", style="yellow")
    table.add_column("dossiers", justify="left")
    table.add_column("factures", justify="left")
    table.add_column("p50 ms", justify="right")
    table.add_column("p99 ms", justify="right")
    by_opco = tracker.counts_by_opco()
    etats = tracker.etats_by_opco()
    rows = [o.value for o in ALL_OPCO] + (["-"] if "-" in by_opco else [])
    for opco in rows:
        counts = by_opco.get(opco, {})
        sent = sum(counts.values())
        lat = tracker.latency_summary(opco) if sent else {}
        etat_row = etats.get(opco, {})
        dossiers = " ".join(
            f"{k.split(':', 1)[1]}:{v}" for k, v in etat_row.items() if k.startswith("dossier:")
        )
        factures = " ".join(
            f"{k.split(':', 1)[1]}:{v}" for k, v in etat_row.items() if k.startswith("facture:")
        )
        name = opco + (" ⚠" if opco in banner.faults else "")
        table.add_row(
            name,
            str(sent),
            *(str(counts.get(status, 0) or "") for status, _ in _STATUS_COLUMNS),
            str(tracker.retries_by_opco.get(opco, 0) or ""),
            dossiers,
            factures,
            _fmt_ms(lat.get("p50")),
            _fmt_ms(lat.get("p99")),
        )
    return table


def _panel_lines(tracker: Tracker, banner: Banner) -> list[Text]:
    """The banner: phase, progress, totals, faults, the commonest error codes, notes."""
    total = tracker.counts_by_status()
    overall = tracker.latency_summary()
    head = Text()
    head.append(f"{banner.phase}  ", style="bold")
    head.append(f"t={banner.elapsed_s:5.1f}s  ")
    head.append(f"published {banner.published}/{banner.planned}  ")
    if banner.skipped:
        head.append(f"skipped {banner.skipped}  ", style="yellow")
    head.append("  ".join(f"{k} {v}" for k, v in total.items()))
    head.append(f"  latency p50 {_fmt_ms(overall['p50'])} p99 {_fmt_ms(overall['p99'])} ms")
    lines: list[Text] = [head]
    unsettled = len(tracker.unsettled())
    lines.append(
        Text(
            f"status records {tracker.status_records} (redelivered {tracker.redelivered}), "
            f"awaiting OPCO decision {unsettled}, "
            f"retrying notes {sum(tracker.retries_by_opco.values())}"
        )
    )
    for opco, what in banner.faults.items():
        lines.append(Text(f"fault at {opco}: {what}", style="red"))
    errors = tracker.error_codes()
    if errors:
        top = sorted(errors.items(), key=lambda kv: -kv[1])[:6]
        lines.append(Text("errors: " + ", ".join(f"{c}×{n}" for c, n in top), style="yellow"))
    lines.extend(Text(note, style="dim") for note in banner.notes)
    return lines
