"""FHIR operations (https://hl7.org/fhir/R4/operations.html): ``definition`` (what an operation is),
``registry`` (the ones served), ``routes`` (their URLs), and the generic operations themselves;
the DMP record operations live in ``fhir_server.dmp.record_operations``.
"""
