"""The README's configuration reference is generated from Settings and must not drift."""

from pathlib import Path

from relais.config_reference import BEGIN, END, splice

README = Path(__file__).resolve().parents[2] / "README.md"


def test_configuration_reference_is_up_to_date() -> None:
    text = README.read_text(encoding="utf-8")
    assert BEGIN in text and END in text
    assert splice(text) == text, "run: python -m relais.config_reference --write README.md"


def test_the_two_commands_are_documented() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text
