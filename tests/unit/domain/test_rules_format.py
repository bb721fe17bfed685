from typing import Any

import pytest

from .conftest import Run, codes, only_codes, set_path


@pytest.mark.parametrize(
    ("path", "value", "finding"),
    [
        ("employeur.siret", "82834757500016", ("error", "EMPLOYEUR_SIRET_CLE", "employeur.siret")),
        (
            "employeur.siret",
            "8283475750001",
            ("error", "EMPLOYEUR_SIRET_FORMAT", "employeur.siret"),
        ),
        (
            "employeur.siret",
            "828347575 00015",
            ("warning", "EMPLOYEUR_SIRET_ESPACES", "employeur.siret"),
        ),
        ("employeur.siret", "12345678900007", ("error", "EMPLOYEUR_SIREN_CLE", "employeur.siret")),
        (
            "organismeFormation.siret",
            "13098723300018",
            ("error", "CFA_SIRET_CLE", "organismeFormation.siret"),
        ),
        (
            "organismeFormation.uaiCfa",
            "0755123A",
            ("error", "CFA_UAI_CLE", "organismeFormation.uaiCfa"),
        ),
        (
            "organismeFormation.uaiCfa",
            "755123L",
            ("error", "CFA_UAI_FORMAT", "organismeFormation.uaiCfa"),
        ),
        (
            "organismeFormation.uaiCfa",
            "0755123l",
            ("warning", "CFA_UAI_MINUSCULE", "organismeFormation.uaiCfa"),
        ),
        ("employeur.naf", "62.02A", None),
        ("employeur.naf", "6202a", ("warning", "EMPLOYEUR_NAF_MINUSCULE", "employeur.naf")),
        ("employeur.naf", "620A", ("error", "EMPLOYEUR_NAF_FORMAT", "employeur.naf")),
        ("employeur.codeIdcc", "14860", ("error", "EMPLOYEUR_IDCC_FORMAT", "employeur.codeIdcc")),
        (
            "employeur.telephone",
            "01 45 67 89 01",
            ("warning", "TELEPHONE_SEPARATEURS", "employeur.telephone"),
        ),
        (
            "employeur.telephone",
            "+33145678901",
            ("warning", "TELEPHONE_INTERNATIONAL", "employeur.telephone"),
        ),
        ("employeur.telephone", "0145", ("error", "TELEPHONE_FORMAT", "employeur.telephone")),
        ("employeur.courriel", "rh@atelier", ("error", "COURRIEL_FORMAT", "employeur.courriel")),
        (
            "employeur.courriel",
            "a" * 76 + "@x.fr",
            ("error", "COURRIEL_LONGUEUR", "employeur.courriel"),
        ),
        ("employeur.denomination", "x" * 81, ("error", "LONGUEUR_MAX", "employeur.denomination")),
        (
            "employeur.typeEmployeur",
            17,
            ("error", "VALEUR_NON_AUTORISEE", "employeur.typeEmployeur"),
        ),
        ("apprenti.sexe", "X", ("error", "VALEUR_NON_AUTORISEE", "apprenti.sexe")),
        ("apprenti.nationalite", 4, ("error", "VALEUR_NON_AUTORISEE", "apprenti.nationalite")),
        ("apprenti.diplome", 71, ("warning", "DIPLOME_CODE_ANCIEN", "apprenti.diplome")),
        ("apprenti.diplome", 64, None),
        ("apprenti.nom", "Mart1n", ("error", "NOM_CARACTERES", "apprenti.nom")),
        ("apprenti.nom", "D'Artagnan", ("warning", "NOM_APOSTROPHE", "apprenti.nom")),
        ("apprenti.nom", "Éléonore-Ségolène", None),
        ("formation.rncp", "35340", None),
        ("formation.rncp", "RNCP1", ("error", "FORMATION_RNCP_FORMAT", "formation.rncp")),
        (
            "formation.codeDiplome",
            "3203121",
            ("error", "FORMATION_CODE_DIPLOME_FORMAT", "formation.codeDiplome"),
        ),
        ("contrat.typeContratApp", 24, ("error", "VALEUR_NON_AUTORISEE", "contrat.typeContratApp")),
        ("contrat.noContrat", "02B202212000000", None),
        (
            "contrat.noContrat",
            "02C202212000000",
            ("error", "CONTRAT_NO_CONTRAT_FORMAT", "contrat.noContrat"),
        ),
        (
            "contrat.dureeTravailHebdoMinutes",
            60,
            ("error", "CONTRAT_DUREE_HEBDO_MINUTES", "contrat.dureeTravailHebdoMinutes"),
        ),
        (
            "contrat.remunerationsAnnuelles[0].typeSalaire",
            "SMAG",
            ("error", "REMUNERATION_TYPE_SALAIRE", "contrat.remunerationsAnnuelles[0].typeSalaire"),
        ),
        (
            "contrat.remunerationsAnnuelles[0].ordre",
            "5.1",
            ("error", "REMUNERATION_ORDRE_FORMAT", "contrat.remunerationsAnnuelles[0].ordre"),
        ),
        (
            "contrat.remunerationsAnnuelles[1].taux",
            1001,
            ("error", "REMUNERATION_TAUX_BORNES", "contrat.remunerationsAnnuelles[1].taux"),
        ),
        ("versionCERFA", "10103*12", ("warning", "CERFA_VERSION", "versionCERFA")),
        (
            "apprenti.adresse.repetitionVoie",
            "bis",
            ("warning", "ADRESSE_REPETITION_VOIE", "apprenti.adresse.repetitionVoie"),
        ),
    ],
)
def test_format_rule(
    run: Run, dossier: dict[str, Any], path: str, value: Any, finding: tuple[str, str, str] | None
) -> None:
    result = run(set_path(dossier, path, value))
    if finding is None:
        assert result.findings == []
    else:
        assert finding in codes(result)
        assert result.valid is (finding[0] == "warning")


def test_la_poste_employer_siret_passes(run: Run, dossier: dict[str, Any]) -> None:
    assert run(set_path(dossier, "employeur.siret", "35600000049837")).findings == []


@pytest.mark.parametrize(
    ("hours", "minutes", "ok"),
    [
        (40, 0, True),
        (40, None, True),
        (39, 59, True),
        (40, 1, False),
        (41, 0, False),
        (-1, 0, False),
    ],
)
def test_weekly_hours_up_to_exactly_40(
    run: Run, dossier: dict[str, Any], hours: int, minutes: int | None, ok: bool
) -> None:
    set_path(dossier, "contrat.dureeTravailHebdoHeures", hours)
    set_path(dossier, "contrat.dureeTravailHebdoMinutes", minutes)
    found = only_codes(run(dossier)) & {"CONTRAT_DUREE_HEBDO_MAX", "CONTRAT_DUREE_HEBDO_NEGATIVE"}
    assert (not found) is ok


class TestNir:
    """The apprentice's NIR: format, key, consistency with sexe / birth date / department."""

    def test_wrong_key(self, run: Run, dossier: dict[str, Any]) -> None:
        assert ("error", "APPRENTI_NIR_CLE", "apprenti.nir") in codes(
            run(set_path(dossier, "apprenti.nir", "107037512345681"))
        )

    def test_without_key_is_accepted(self, run: Run, dossier: dict[str, Any]) -> None:
        assert run(set_path(dossier, "apprenti.nir", "1070375123456")).findings == []

    def test_format(self, run: Run, dossier: dict[str, Any]) -> None:
        assert ("error", "APPRENTI_NIR_FORMAT", "apprenti.nir") in codes(
            run(set_path(dossier, "apprenti.nir", "10703751234"))
        )

    def test_sexe(self, run: Run, dossier: dict[str, Any]) -> None:
        found = only_codes(run(set_path(dossier, "apprenti.sexe", "F")))
        assert found == {"APPRENTI_NIR_SEXE"}

    def test_birth_year_and_month(self, run: Run, dossier: dict[str, Any]) -> None:
        set_path(dossier, "apprenti.dateNaissance", "2006-04-15")
        found = only_codes(run(dossier))
        assert {"APPRENTI_NIR_ANNEE", "APPRENTI_NIR_MOIS"} <= found

    def test_fictitious_month_is_only_a_warning(self, run: Run, dossier: dict[str, Any]) -> None:
        from relais.domain.rules.identifiers import nir_key

        nir13 = "1073375123456"  # month 33: born abroad, month unknown
        result = run(set_path(dossier, "apprenti.nir", f"{nir13}{nir_key(nir13):02d}"))
        assert result.valid
        assert ("warning", "APPRENTI_NIR_MOIS_INCONNU", "apprenti.nir") in codes(result)

    def test_department(self, run: Run, dossier: dict[str, Any]) -> None:
        assert only_codes(run(set_path(dossier, "apprenti.departementNaissance", "92"))) == {
            "APPRENTI_NIR_DEPARTEMENT"
        }
        assert run(set_path(dossier, "apprenti.departementNaissance", "075")).findings == []

    @pytest.mark.parametrize(
        ("nir13", "dept"),
        [
            ("209052A040120", "2A"),
            ("209052B040120", "2B"),
            ("2090520040120", "2A"),
            ("2090520040120", "2B"),
        ],
    )
    def test_corsica(self, run: Run, dossier: dict[str, Any], nir13: str, dept: str) -> None:
        from relais.domain.rules.identifiers import nir_key

        set_path(dossier, "apprenti.sexe", "F")
        set_path(dossier, "apprenti.dateNaissance", "2009-05-20")
        set_path(dossier, "apprenti.nir", f"{nir13}{nir_key(nir13):02d}")
        set_path(dossier, "apprenti.departementNaissance", dept)
        found = only_codes(run(dossier))
        assert not {c for c in found if c.startswith("APPRENTI_NIR")}

    def test_corsica_department_mismatch(self, run: Run, dossier: dict[str, Any]) -> None:
        from relais.domain.rules.identifiers import nir_key

        set_path(dossier, "apprenti.sexe", "F")
        set_path(dossier, "apprenti.dateNaissance", "2009-05-20")
        set_path(dossier, "apprenti.nir", f"209052A040120{nir_key('209052A040120'):02d}")
        set_path(dossier, "apprenti.departementNaissance", "2B")
        assert "APPRENTI_NIR_DEPARTEMENT" in only_codes(run(dossier))

    def test_overseas_and_abroad(self, run: Run, dossier: dict[str, Any]) -> None:
        from relais.domain.rules.identifiers import nir_key

        for nir13, dept in (("1070397112345", "971"), ("1070399123456", "099")):
            set_path(dossier, "apprenti.nir", f"{nir13}{nir_key(nir13):02d}")
            set_path(dossier, "apprenti.departementNaissance", dept)
            assert not {c for c in only_codes(run(dossier)) if c.startswith("APPRENTI_NIR")}, dept
