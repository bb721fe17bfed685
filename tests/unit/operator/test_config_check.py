"""``relais config check`` on settings built in the test (no environment, nothing started)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import SecretStr

from relais.config import CredentialsSettings, KafkaSettings, OAuthClient, Settings
from relais.demo.processes import new_dpop_key
from relais.domain.opco import OpcoCode
from relais.operator.config_check import check

TODAY = date(2026, 11, 27)
CFA = "12345678900011"


def keys_csv(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "keys.csv"
    path.write_text("siret,opco,key,expiry\n" + "\n".join(rows) + "\n")
    path.chmod(0o600)
    return path


# every OPCO whose bundled profile asks for OAuth2, and whether it asks for DPoP
OAUTH_OPCOS = {
    OpcoCode.AKTO: False,
    OpcoCode.ATLAS: False,
    OpcoCode.MOBILITES: False,
    OpcoCode.OPCOEP: False,
    OpcoCode.AFDAS: True,
}


def messages(settings: Settings, level: str) -> list[str]:
    return [f.message for f in check(settings, today=TODAY).findings if f.level == level]


def test_complete_settings_have_no_error(tmp_path: Path) -> None:
    rows = [f"{CFA},{opco},k-{opco},2027-06-30" for opco in OpcoCode]
    settings = Settings(
        kafka=KafkaSettings(topic_sources={"cfa.events.v1": [CFA]}),
        credentials=CredentialsSettings(
            keys_file=keys_csv(tmp_path, rows),
            oauth_clients={
                code: OAuthClient(
                    client_id="c",
                    client_secret=SecretStr("s"),
                    dpop_key=SecretStr(new_dpop_key("RS256").decode()) if dpop else None,
                )
                for code, dpop in OAUTH_OPCOS.items()
            },
        ),
    )

    report = check(settings, today=TODAY)

    assert report.errors == 0, [f for f in report.findings if f.level == "error"]
    assert any("11 keys for 1 CFA" in f.message for f in report.findings)


def test_expired_and_soon_expiring_keys_and_missing_oauth_are_reported(tmp_path: Path) -> None:
    rows = [
        f"{CFA},ATLAS,k1,2026-11-01",  # expired
        f"{CFA},AKTO,k2,2026-12-10",  # within 30 days
        f"{CFA},AFDAS,k3,",  # no expiry known
        "123,AFDAS,k4,",  # not a SIRET
    ]
    settings = Settings(credentials=CredentialsSettings(keys_file=keys_csv(tmp_path, rows)))

    errors = messages(settings, "error")
    warnings = messages(settings, "warning")

    assert f"key of {CFA} at ATLAS expired" in errors
    assert f"AKTO needs an OAuth2 client; none for {CFA}" in errors
    assert f"AFDAS needs an OAuth2 client with a DPoP key; none for {CFA}" in errors
    assert "MOBILITES needs an OAuth2 client; none for every CFA" in errors
    assert any("not a SIRET" in e for e in errors)
    assert f"key of {CFA} at AKTO expires on 2026-12-10" in warnings
    assert any(w.startswith(f"CFA {CFA} has no key at") and "OCAPIAT" in w for w in warnings)
    assert not any("k1" in m or "k2" in m for m in errors + warnings)  # no secret shown


def test_no_credentials_and_clashing_topics_are_errors() -> None:
    settings = Settings(kafka=KafkaSettings(input_topic="same", status_topic="same"))

    errors = messages(settings, "error")

    assert "input, status and DLQ topics must be distinct" in errors
    assert "no keys_file nor keys_dir: no CFA can be served" in errors


def test_a_status_or_rejected_topic_read_as_input_is_an_error() -> None:
    pattern = KafkaSettings(input_pattern=r"cfa\..*", status_topic_pattern="cfa.{siret}.status")
    errors = messages(Settings(kafka=pattern), "error")
    assert "relais would read its own topic cfa.12345678901234.status as input" in errors
    errors = messages(Settings(kafka=KafkaSettings(input_topic="relais.rejected.v1")), "error")
    assert "relais would read its own topic relais.rejected.v1 as input" in errors
    fine = KafkaSettings(
        input_pattern=r"cfa\.[0-9]{14}\.events", status_topic_pattern="cfa.{siret}.status"
    )
    assert not [e for e in messages(Settings(kafka=fine), "error") if "own topic" in e]


def test_unreadable_profiles_file_is_an_error(tmp_path: Path) -> None:
    broken = tmp_path / "profiles.json"
    broken.write_text("{not json")
    settings = Settings.model_validate({"opco": {"profiles_file": broken}})

    assert any("invalid" in e and "profiles.json" in e for e in messages(settings, "error"))


def test_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 3 item 6: credentials per (CFA, OPCO) from files or the environment."""
    from relais.adapters.credentials import load_credentials
    from relais.config import load_settings

    monkeypatch.setenv(f"RELAIS_CREDENTIALS__KEYS__ATLAS__{CFA}", "env-key-atlas")
    monkeypatch.setenv("RELAIS_CREDENTIALS__KEYS__akto__12345678900029", "env-key-akto")
    monkeypatch.setenv("RELAIS_CREDENTIALS__KEYS__AKTO__123", "not-a-siret")
    monkeypatch.setenv("RELAIS_CREDENTIALS__OAUTH_CLIENTS__AKTO__CLIENT_ID", "c")
    monkeypatch.setenv("RELAIS_CREDENTIALS__OAUTH_CLIENTS__AKTO__CLIENT_SECRET", "s")
    settings = load_settings(secrets_dir=Path("/nonexistent"))
    assert "env-key" not in repr(settings)

    store = load_credentials(settings)

    assert store.api_key(CFA, OpcoCode.ATLAS).value.get_secret_value() == "env-key-atlas"
    assert store.has_key("12345678900029", OpcoCode.AKTO)
    assert store.problems == ["credentials.keys.AKTO: not a SIRET (14 digits)"]
    report = check(settings, today=TODAY)
    assert "no keys_file nor keys_dir: no CFA can be served" not in [
        f.message for f in report.findings
    ]
    assert all("env-key" not in f.message for f in report.findings)


def test_a_stale_referential_is_named(tmp_path: Path) -> None:
    import shutil

    from relais.domain.referentials import default_schemas_dir

    schemas = tmp_path / "schemas"
    shutil.copytree(default_schemas_dir() / "referentials", schemas / "referentials")
    grid = schemas / "referentials" / "remuneration-apprentis.csv"
    lines = grid.read_text(encoding="utf-8").splitlines(keepends=True)
    grid.write_text("# valid-until: 2026-10-31\n" + "".join(lines[1:]), encoding="utf-8")
    settings = Settings(schemas_dir=schemas)

    warnings = [m for m in messages(settings, "warning") if "valid" in m]

    assert warnings == [
        "remuneration-apprentis.csv: stale, valid until 2026-10-31; update it "
        "(schemas/referentials/README.md)"
    ]
    fresh = check(Settings(), today=TODAY).findings
    assert any(f.area == "referential" and f.level == "ok" for f in fresh)
