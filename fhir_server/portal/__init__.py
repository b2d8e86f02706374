"""The patient portal at ``/portal/``: a single-page app (French, plain ES modules and CSS under
``static/``, no build step) that signs in through this server's own SMART authorization code +
PKCE flow, as the public client ``client.CLIENT_ID`` the server registers for itself, and then
works only through the public FHIR API with the signed-in person's token."""

from __future__ import annotations

from fhir_server.portal.views import bp

__all__ = ["bp"]
