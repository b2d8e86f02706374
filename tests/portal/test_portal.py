"""The patient portal in headless Chromium against a live server: sign in through the SMART
flow, then every section, each action checked through the FHIR API with other callers' tokens.
HTTP-level twins (CORS, discovery, scopes, the portal client): test_browser_apps.py."""

from __future__ import annotations

import re
from typing import Any

import requests

from tests.portal.conftest import Live
from tests.portal.world import EMERGENCY
from tests.portal.world import GRANTED
from tests.portal.world import TO_BLOCK
from tests.portal.world import USERS
from tests.portal.world import P
from tests.support import bearer


def sign_in(page: Any, live: Live, username: str) -> None:
    """Open the portal, go through the sign-in page, come back signed in."""
    page.goto(f"{live.url}/portal/")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/auth/authorize\?"))
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(USERS[username][0])
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(re.compile(r"/portal/(#.*)?$"))
    page.get_by_role("heading", name="Mes documents", level=1).wait_for()
    settled(page)


def settled(page: Any) -> None:
    """Wait until the section shown has loaded."""
    page.locator("main[aria-busy=false]").wait_for()


def api(live: Live, method: str, path: str, fhir_user: str | None = None, **kwargs: Any) -> requests.Response:
    """A FHIR call as someone else than the browser (a professional, or a system client)."""
    with live.app.app_context():
        headers = bearer(live.app, fhir_user=fhir_user, **kwargs)
    # the server's own tokens are minted for its configured audience: the issuer name here
    return requests.request(method, f"{live.fhir}/{path}", headers=headers, timeout=30)


def section(page: Any, name: str) -> None:
    page.get_by_role("navigation", name="Sections").get_by_role("link", name=name).click()
    page.get_by_role("heading", name=name, level=1).wait_for()
    settled(page)


def card(page: Any, title: str) -> Any:
    return page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=title, exact=True))


def test_documents_mask_hides_from_granted_physician(page: Any, live: Live) -> None:
    assert api(live, "GET", "DocumentReference/bilan", GRANTED).status_code == 200
    sign_in(page, live, "marie")
    titles = page.locator("main .card h2").all_inner_texts()
    assert titles == ["Bilan sanguin", "Compte rendu d'hospitalisation"]  # newest first
    bilan = card(page, "Bilan sanguin")
    assert "Dr Paul Martin (Médecin)" not in bilan.inner_text()
    bilan.get_by_role("button", name="Ouvrir").click()
    assert "Hémoglobine 13,5 g/dl." in bilan.locator("pre").inner_text()
    bilan.get_by_role("button", name="Masquer aux professionnels").click()
    card(page, "Bilan sanguin").get_by_role("button", name="Rendre visible").wait_for()
    assert "Masqué aux professionnels" in card(page, "Bilan sanguin").inner_text()
    # the engine applies it from the next request: the granted physician gets 404, the
    # attending physician (and the patient) still read it
    assert api(live, "GET", "DocumentReference/bilan", GRANTED).status_code == 404
    assert api(live, "GET", "DocumentReference/bilan", "Practitioner/medecin-traitant").status_code == 200
    assert api(live, "GET", "DocumentReference/compte-rendu", GRANTED).status_code == 200
    card(page, "Bilan sanguin").get_by_role("button", name="Rendre visible").click()
    card(page, "Bilan sanguin").get_by_role("button", name="Masquer aux professionnels").wait_for()
    assert api(live, "GET", "DocumentReference/bilan", GRANTED).status_code == 200


def test_block_and_unblock_a_professional(page: Any, live: Live) -> None:
    assert api(live, "GET", P, GRANTED).status_code == 200
    sign_in(page, live, "marie")
    section(page, "Professionnels")
    attending = card(page, "Dr Claire Lambert")
    assert "Médecin traitant" in attending.inner_text() and "RPPS 810001234567" in attending.inner_text()
    martin = card(page, "Dr Paul Martin")
    assert "Autorisé" in martin.inner_text() and "Médecin" in martin.inner_text()
    # search by RPPS, then authorise and block from the results
    page.get_by_label("Rechercher un professionnel (nom ou numéro RPPS)").fill("810005555555")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("heading", name="Résultats de la recherche (1)").wait_for()
    bernard = card(page, "Dr Luc Bernard").first
    assert "Chirurgien-dentiste" in bernard.inner_text()
    page.get_by_label("Rechercher un professionnel (nom ou numéro RPPS)").fill("Martin")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("heading", name="Résultats de la recherche (1)").wait_for()
    # block the granted physician: the block wins over the grant, from the next request
    card(page, "Dr Paul Martin").first.get_by_role("button", name="Bloquer", exact=True).click()
    settled(page)
    card(page, "Dr Paul Martin").get_by_role("button", name="Débloquer").wait_for()
    assert "Bloqué" in card(page, "Dr Paul Martin").inner_text()
    assert api(live, "GET", "DocumentReference/bilan", GRANTED).status_code == 404
    assert api(live, "GET", P, GRANTED).status_code == 404
    blocks = api(live, "GET", f"Consent?patient={P}").json()["entry"]
    assert any(e["resource"]["provision"]["type"] == "deny" for e in blocks)
    card(page, "Dr Paul Martin").get_by_role("button", name="Débloquer").click()
    settled(page)
    card(page, "Dr Paul Martin").get_by_role("button", name="Bloquer", exact=True).wait_for()
    assert api(live, "GET", "DocumentReference/bilan", GRANTED).status_code == 200


def test_authorise_a_searched_professional(page: Any, live: Live) -> None:
    assert api(live, "GET", "DocumentReference/bilan", TO_BLOCK).status_code == 404
    sign_in(page, live, "marie")
    section(page, "Professionnels")
    page.get_by_label("Rechercher un professionnel (nom ou numéro RPPS)").fill("Bernard")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Résultats de la recherche (1)").wait_for()
    card(page, "Dr Luc Bernard").get_by_role("button", name="Autoriser").click()
    settled(page)
    card(page, "Dr Luc Bernard").get_by_role("button", name="Retirer l'autorisation").wait_for()
    consents = api(live, "GET", f"Consent?patient={P}").json()["entry"]
    refs = [
        e["resource"]["provision"]["actor"][0]["reference"]["reference"]
        for e in consents
        if e["resource"]["provision"]["type"] == "permit"
    ]
    assert sorted(refs) == sorted([GRANTED, TO_BLOCK])


def test_access_history_shows_who_and_emergencies(page: Any, live: Live) -> None:
    assert api(live, "GET", "DocumentReference/compte-rendu", GRANTED).status_code == 200
    emergency = api(live, "GET", P, EMERGENCY, purpose="BTG", reason="Patiente inconsciente aux urgences")
    assert emergency.status_code == 200
    sign_in(page, live, "marie")
    section(page, "Historique des accès")
    table = page.get_by_role("table")
    rows = table.get_by_role("row")
    martin = rows.filter(has_text="Dr Paul Martin").first
    assert "Médecin" in martin.inner_text() and "Consultation : document" in martin.inner_text()
    petit = rows.filter(has_text="Dr Anne Petit")
    assert "Accès en urgence (bris de glace)" in petit.first.inner_text()
    assert "motif : Patiente inconsciente aux urgences" in petit.first.inner_text()
    assert rows.filter(has_text="Le patient").count() == 0
    page.get_by_label("Afficher aussi mes propres consultations").check()
    rows.filter(has_text="Le patient").first.wait_for()


def test_emergency_objections(page: Any, live: Live) -> None:
    sign_in(page, live, "marie")
    section(page, "Accès en urgence")
    btg = page.get_by_role("switch", name="Accès en urgence par bris de glace")
    centre = page.get_by_role("switch", name="Accès par le centre de régulation (centre 15 / SAMU)")
    assert not btg.is_checked() and not centre.is_checked()
    btg.check()
    page.get_by_role("status").get_by_text("Opposition enregistrée").wait_for()
    settled(page)
    assert page.get_by_role("switch", name="Accès en urgence par bris de glace").is_checked()
    refused = api(live, "GET", P, EMERGENCY, purpose="BTG", reason="urgence")
    assert refused.status_code == 404
    allowed = api(live, "GET", P, EMERGENCY, purpose="ETREAT", reason="appel au 15")
    assert allowed.status_code == 200
    page.get_by_role("switch", name="Accès en urgence par bris de glace").uncheck()
    page.get_by_role("status").get_by_text("Opposition levée").wait_for()
    settled(page)
    assert not page.get_by_role("switch", name="Accès en urgence par bris de glace").is_checked()
    objections = api(live, "GET", f"Consent?patient={P}").json().get("entry", [])
    assert [e for e in objections if e["resource"]["provision"]["type"] == "deny"] == []


def test_close_and_reopen_the_record(page: Any, live: Live) -> None:
    sign_in(page, live, "marie")
    section(page, "Mon dossier")
    page.get_by_role("button", name="Fermer mon dossier").click()
    page.get_by_role("button", name="Confirmer").click()  # no reason yet: nothing is sent
    assert page.get_by_label("Motif de la fermeture").evaluate("el => el === document.activeElement")
    assert api(live, "GET", P, GRANTED).status_code == 200
    page.get_by_label("Motif de la fermeture").fill("Je ne souhaite plus de dossier partagé")
    page.get_by_role("button", name="Confirmer").click()
    page.get_by_role("button", name="Rouvrir mon dossier").wait_for()
    assert page.locator("#etat-dossier").inner_text() == "Fermé"
    assert api(live, "GET", P, GRANTED).status_code == 404
    patient = api(live, "GET", P).json()
    assert patient["active"] is False
    page.get_by_role("button", name="Rouvrir mon dossier").click()
    page.get_by_role("button", name="Fermer mon dossier").wait_for()
    assert page.locator("#etat-dossier").inner_text() == "Ouvert"
    assert api(live, "GET", P, GRANTED).status_code == 200


def test_guardian_sees_the_minor_record_but_not_its_secret(page: Any, live: Live) -> None:
    sign_in(page, live, "sophie")
    assert "Dossier de Hugo Durand (vous le représentez)" in page.locator("#who").inner_text()
    titles = page.locator("main .card h2").all_inner_texts()
    assert titles == ["Carnet de vaccination"]  # INVISIBLE_REPRESENTANTS_LEGAUX stays hidden
    card(page, "Carnet de vaccination").get_by_role("button", name="Masquer aux professionnels").click()
    card(page, "Carnet de vaccination").get_by_role("button", name="Rendre visible").wait_for()
    labels = api(live, "GET", "DocumentReference/vaccins").json()["securityLabel"]
    assert any(c["code"] == "MASQUE_PS" for label in labels for c in label["coding"])
    assert api(live, "GET", "DocumentReference/confidentiel").status_code == 200  # still there
    section(page, "Mon dossier")
    assert "Hugo Durand" in page.locator("main").inner_text()


def test_advance_directives(page: Any, live: Live) -> None:
    sign_in(page, live, "marie")
    section(page, "Directives anticipées")
    page.get_by_label("Rédiger mes directives").fill("Je refuse tout acharnement thérapeutique.")
    page.get_by_role("button", name="Enregistrer mes directives").click()
    page.get_by_role("button", name="Lire").wait_for()
    page.get_by_role("button", name="Lire").click()
    assert "acharnement" in page.locator("main pre").inner_text()
    found = api(live, "GET", f"DocumentReference?patient={P}&type=EXPPAT_3").json()["entry"]
    assert len(found) == 1 and found[0]["resource"]["author"] == [{"reference": P}]
    page.get_by_role("button", name="Supprimer").click()
    page.get_by_text("Aucune directive anticipée déposée.").wait_for()


def test_add_edit_then_remove_an_emergency_contact(page: Any, live: Live) -> None:
    sign_in(page, live, "marie")
    section(page, "Mes proches")
    page.get_by_text("Aucun proche enregistré.").wait_for()
    page.get_by_role("button", name="Ajouter un proche").click()
    page.get_by_label("Prénom").fill("Paul")
    page.get_by_label("Nom", exact=True).fill("Durand")
    page.get_by_label("Téléphone").fill("+33 6 12 34 56 78")
    page.get_by_label("Lien").select_option("ECON")
    page.get_by_role("button", name="Enregistrer").click()
    settled(page)
    paul = card(page, "Paul Durand")
    paul.wait_for()
    assert "Contact d'urgence · +33 6 12 34 56 78" in paul.inner_text()
    found = api(live, "GET", f"RelatedPerson?patient={P}").json()["entry"]
    assert [e["resource"]["relationship"][0]["coding"][0]["code"] for e in found] == ["ECON"]
    paul.get_by_role("button", name="Modifier").click()
    page.get_by_label("Téléphone").fill("+33 6 00 00 00 00")
    page.get_by_label("Lien").select_option("NOK")
    page.get_by_role("button", name="Enregistrer").click()
    settled(page)
    page.get_by_text("Personne de confiance · +33 6 00 00 00 00").wait_for()
    card(page, "Paul Durand").get_by_role("button", name="Retirer").click()
    page.get_by_text("Aucun proche enregistré.").wait_for()
    assert api(live, "GET", f"RelatedPerson?patient={P}").json()["total"] == 0


def test_a_legal_representative_is_shown_read_only(page: Any, live: Live) -> None:
    sign_in(page, live, "sophie")
    section(page, "Mes proches")
    sophie = card(page, "Sophie Durand")
    assert "Représentant légal" in sophie.inner_text()
    assert "géré par l'administration" in sophie.inner_text()
    assert sophie.get_by_role("button").count() == 0


SECTIONS = [
    "Mes documents",
    "Historique des accès",
    "Professionnels",
    "Accès en urgence",
    "Mes proches",
    "Directives anticipées",
    "Mon dossier",
]
#: every control without an accessible name (text, aria-label, aria-labelledby or a <label>)
UNNAMED = """() => [...document.querySelectorAll('button, a[href], input, select, textarea')].filter((el) => {
  const text = (el.getAttribute('aria-label') || el.textContent || '').trim();
  const labelled = el.getAttribute('aria-labelledby') || (el.labels && el.labels.length);
  return !(labelled || (el.tagName !== 'INPUT' && el.tagName !== 'SELECT' && el.tagName !== 'TEXTAREA' && text));
}).map((el) => el.outerHTML.slice(0, 120))"""


def test_every_section_named_and_usable_at_360px(page: Any, live: Live) -> None:
    import os

    shots = os.environ.get("CARNET_SCREENSHOTS")  # a folder: save a screenshot of each page there
    assert api(live, "GET", "DocumentReference/bilan", GRANTED).status_code == 200
    assert api(live, "GET", P, EMERGENCY, purpose="ETREAT", reason="Appel au centre 15 : malaise").status_code == 200
    page.goto(f"{live.url}/portal/")
    page.get_by_role("button", name="Se connecter").wait_for()
    if shots:
        page.screenshot(path=f"{shots}/connexion.png", full_page=True)
    sign_in(page, live, "marie")
    for name in SECTIONS:
        section(page, name)
        if name == "Professionnels":
            page.get_by_label("Rechercher un professionnel (nom ou numéro RPPS)").fill("Bernard")
            page.get_by_role("button", name="Rechercher").click()
            page.get_by_role("heading", name="Résultats de la recherche (1)").wait_for()
        if name == "Mon dossier":
            page.get_by_role("button", name="Fermer mon dossier").click()
        assert page.evaluate(UNNAMED) == [], name
        if shots:
            slug = re.sub(r"[^a-z]+", "-", name.lower().replace("è", "e").replace("é", "e")).strip("-")
            page.screenshot(path=f"{shots}/{slug}.png", full_page=True)
    page.set_viewport_size({"width": 360, "height": 740})
    for name in SECTIONS:
        section(page, name)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} is {overflow}px wider than a 360px screen"


def test_keyboard_only(page: Any, live: Live) -> None:
    page.goto(f"{live.url}/portal/")
    page.get_by_role("button", name="Se connecter").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/auth/authorize\?"))
    page.locator("input[name=username]").focus()
    page.keyboard.type("marie")
    page.keyboard.press("Tab")
    page.keyboard.type(USERS["marie"][0])
    page.keyboard.press("Enter")  # submits with the first button: Approve
    page.get_by_role("heading", name="Mes documents", level=1).wait_for()
    settled(page)
    # the skip link comes first, then the sections; a section link is followed with Enter
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"
    page.get_by_role("link", name="Accès en urgence").focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Accès en urgence", level=1).wait_for()
    settled(page)
    page.get_by_role("switch", name="Accès en urgence par bris de glace").focus()
    page.keyboard.press("Space")
    page.get_by_role("status").get_by_text("Opposition enregistrée").wait_for()
    consents = api(live, "GET", f"Consent?patient={P}").json()["entry"]
    assert any(e["resource"]["provision"].get("purpose", [{}])[0].get("code") == "BTG" for e in consents)


def test_server_errors_in_words_and_signed_out_start(page: Any, live: Live) -> None:
    page.goto(f"{live.url}/portal/?code=forged&state=nope")
    page.get_by_text("La connexion a expiré : recommencez.").wait_for()
    page.get_by_role("button", name="Se connecter").wait_for()
    sign_in(page, live, "marie")
    section(page, "Mon dossier")
    # the record is closed elsewhere meanwhile: $close answers 409, shown in the server's words
    closed = requests.post(
        f"{live.fhir}/Patient/ins-adulte/$close",
        timeout=30,
        json={"resourceType": "Parameters", "parameter": [{"name": "reason", "valueString": "ailleurs"}]},
        headers={**_system(live), "Content-Type": "application/fhir+json"},
    )
    assert closed.status_code == 200
    page.get_by_role("button", name="Fermer mon dossier").click()
    page.get_by_label("Motif de la fermeture").fill("test")
    page.get_by_role("button", name="Confirmer").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "Conflit : Patient/ins-adulte is already closed" in alert.inner_text()


def _system(live: Live) -> dict[str, str]:
    with live.app.app_context():
        return bearer(live.app)


def test_practitioner_has_no_record_here(page: Any, live: Live) -> None:
    page.goto(f"{live.url}/portal/")
    page.get_by_role("button", name="Se connecter").click()
    page.locator("input[name=username]").fill("dr")
    page.locator("input[name=password]").fill(USERS["dr"][0])
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("Aucun dossier ne vous est ouvert").wait_for()
    assert page.get_by_role("navigation", name="Sections").count() == 0
