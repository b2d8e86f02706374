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
from tests.portal.world import MINOR
from tests.portal.world import P
from tests.portal.world import TO_BLOCK
from tests.portal.world import USERS
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
