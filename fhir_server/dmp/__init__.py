"""The DMP's server side: what the Code de la santé publique (CSP) asks of a shared medical record
beyond what the pure consent engine (``consent/``) decides. Each rule, and where it is enforced:

- L.1111-15 (the holder may make items inaccessible; ``MASQUE_PS``), R.1111-49 (masked items stay
  visible to their author), L.1111-16 §2 (the attending physician reads everything), L.1111-19
  (the holder authorises and blocks professionals at any time), R.1111-46 (the profession ×
  document-class access matrix): ``consent.engine`` (decisions and query filters), ``consent.state``
  (grants and blocks read from Consent), ``consent.matrix``; the matrix in force is served at
  ``GET /dmp/access-matrix`` by ``matrix_endpoint``.
- R.1111-53 (an item hidden from the holder until the consultation d'annonce, lifted after 30
  days, the holder told at 14 days): ``consent.labels`` (the lapse, in the query) and ``timers``
  (the notice, ``carnet timers``), written by ``notices``.
- R.1111-50 (items about a minor's protected acts hidden from the legal representatives):
  ``consent.labels`` (``INVISIBLE_REPRESENTANTS_LEGAUX``).
- L.1111-17 I (break-glass access, and the SAMU regulating physician's access, unless the holder
  objected to that mode), R.1111-48 (the holder and the attending physician told afterwards):
  ``emergency`` (the windows the server opens, their traces and notices) over
  ``consent.engine.emergency_barrier``.
- R.1111-43 (every access traced; the traces read by the holder, the attending physician and the
  professional concerned): ``fhir_server.audit`` writes one AuditEvent per access in the same
  transaction as the data; ``consent.engine`` decides who reads it.
- L.1111-18 (the record kept 10 years from its closure), R.1111-36 (deleted within 3 months when
  the holder asks): ``retention`` (close, reopen, purge; ``carnet purge``) and ``record_operations``
  (``Patient/$close``, ``Patient/$reopen``).
- No article, Carnet's own help for L.1111-19: ``Consent/$preview`` in ``record_operations`` shows
  the holder what a change of authorisations would grant and take away before it is saved.

``cli`` holds the ``carnet timers`` and ``carnet purge`` commands.
"""
