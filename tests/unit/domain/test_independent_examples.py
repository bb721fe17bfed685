"""`relais validate` on dossiers written independently from the domain notes (issue 2's check).

``tests/examples/independent/`` holds one valid initial contract and variants each breaking one
rule of convergence-api.md §3 (built by ``build.py`` there from the notes alone, without reading
the validator); ``manifest.json`` says what each must give. The CLI runs in-process on each file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from relais.entrypoints.cli import main

from .conftest import EXAMPLES

HERE = EXAMPLES / "independent"
MANIFEST: dict[str, Any] = json.loads((HERE / "manifest.json").read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = MANIFEST["cases"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    code = exit_info.value.code
    assert isinstance(code, int)
    return code, out, err


def matches(path: str, patterns: list[str]) -> bool:
    return any(path == p or (p.endswith("*") and path.startswith(p[:-1])) for p in patterns)


def test_manifest_covers_every_file_and_enough_variants() -> None:
    files = {p.name for p in HERE.glob("*.json")} - {"manifest.json"}
    assert files == {c["file"] for c in CASES}
    assert sum(c["expect"] == "error" for c in CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c["file"].removesuffix(".json") for c in CASES])
def test_independent_example(case: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", str(HERE / case["file"]), "--today", MANIFEST["today"])
    expect = case["expect"]
    if expect == "not_json":
        assert code == 2
        assert out == "" and err.startswith("relais validate: ")
        return
    result = json.loads(out)
    assert set(result) == {"valid", "opco", "errors", "warnings"}
    for finding in result["errors"] + result["warnings"]:
        assert set(finding) == {"code", "severity", "path", "message"}
        assert finding["message"]
    errors = [(e["code"], e["path"]) for e in result["errors"]]
    warnings = [(w["code"], w["path"]) for w in result["warnings"]]
    if expect in ("valid", "lenient"):
        assert (code, errors) == (0, []), case["rule"]
        assert result["valid"] is True
        if expect == "valid":
            assert warnings == [], case["rule"]
        if case["opco"]:
            assert result["opco"] == case["opco"]
    elif expect == "error":
        assert code == 1 and result["valid"] is False, case["rule"]
        assert any(matches(p, case["paths"]) for _, p in errors), (case["rule"], errors)
        extra = [(c, p) for c, p in errors if not matches(p, case["paths"] + case["also"])]
        assert extra == [], case["rule"]
    else:
        assert expect == "no_error_on"
        assert [(c, p) for c, p in errors if matches(p, case["paths"])] == [], case["rule"]


def test_paths_inside_an_event_and_a_body_are_relative_to_the_cerfa(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = json.loads((HERE / "040-siret-luhn.json").read_text(encoding="utf-8"))
    event = json.loads((HERE / "002-event.json").read_text(encoding="utf-8"))
    event["data"]["cerfa"] = bad
    for name, doc in (("event", event), ("body", {"cerfa": bad})):
        file = tmp_path / f"{name}.json"
        file.write_text(json.dumps(doc), encoding="utf-8")
        code, out, _ = run(capsys, "validate", str(file), "--today", MANIFEST["today"])
        assert code == 1
        assert [e["path"] for e in json.loads(out)["errors"]] == ["employeur.siret"]


@pytest.mark.parametrize(
    ("idcc", "code", "printed"),
    [
        ("43", 0, "OPCOMMERCE"),
        ("0043", 0, "OPCOMMERCE"),
        ("3248", 0, "OPCO2I"),
        ("1486", 0, "ATLAS"),
    ],
)
def test_route_known_idcc(
    idcc: str, code: int, printed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "route", "--idcc", idcc)[:2] == (code, printed + "\n")


@pytest.mark.parametrize("idcc", ["9999", "9998", "0001", "abc", "12345"])
def test_route_without_an_opco_exits_1_with_a_message(
    idcc: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "route", "--idcc", idcc)
    assert (code, out) == (1, "")
    assert err.startswith("relais route: ")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"cerfa": NaN}', "NaN is not JSON"),
        ('{"a": -Infinity}', "-Infinity is not JSON"),
        ("{ nope", "line 1 column 3"),
        ("[" * 100_000, "nested too deeply"),
    ],
)
def test_not_json_says_why_and_exits_2(
    text: str, reason: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    file = tmp_path / "input.json"
    file.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "validate", str(file))
    assert (code, out) == (2, "")
    assert err.startswith("relais validate: input is not") and reason in err


def test_a_closed_pipe_is_no_traceback() -> None:
    import os
    import subprocess
    import sys

    relais = str(Path(sys.executable).parent / "relais")
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before relais writes (as with `| head`)
    try:
        proc = subprocess.run(
            [
                relais,
                "validate",
                str(HERE / "000-valid-initial.json"),
                "--today",
                MANIFEST["today"],
            ],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 0
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


def test_event_envelope_findings_name_the_attribute_in_french(
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = str(HERE / "004-event-bad-source.json")
    code, out, _ = run(capsys, "validate", event, "--today", MANIFEST["today"])
    assert code == 1
    [finding] = json.loads(out)["errors"]
    assert finding["code"] == "ENVELOPE_INVALID_SOURCE" and finding["path"] == "source"
    assert "SIRET du CFA" in finding["message"]


@pytest.mark.parametrize("name", ["071-courriel-long", "063b-rncp-too-long", "061-naf"])
def test_one_problem_one_finding(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", str(HERE / f"{name}.json"), "--today", MANIFEST["today"])
    assert code == 1
    assert len(json.loads(out)["errors"]) == 1
