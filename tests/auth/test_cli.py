"""``carnet token``: argparse hook, defaults, misuse, and the printed token authenticates."""
from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from fhir_server.auth.bearer import authenticate
from fhir_server.auth.cli import add_parser
from fhir_server.auth.issuers import AuthConfig


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="carnet")
    add_parser(parser.add_subparsers(required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_prints_a_token(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["token", "--data-dir", str(data_dir), "--fhir-user", "Practitioner/p1",
            "--purpose", "BTG", "--reason", "coma", "--ttl", "120"]
    assert run(argv) == 0
    token = capsys.readouterr().out.strip()
    requester = authenticate(f"Bearer {token}", AuthConfig.from_mapping({"DATA_DIR": data_dir}))
    assert (requester.kind, requester.ref, requester.mode, requester.reason) == (
        "practitioner", "Practitioner/p1", "bris_de_glace", "coma")
    assert requester.scopes == {"user/*.cruds"}


def test_system_token(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["token", "--data-dir", str(data_dir), "--scope", "system/Patient.rs"]) == 0
    token = capsys.readouterr().out.strip()
    requester = authenticate(f"Bearer {token}", AuthConfig.from_mapping({"DATA_DIR": data_dir}))
    assert (requester.kind, requester.sub, requester.scopes) == ("system", "carnet-cli", {"system/Patient.rs"})


def test_issuer_and_audience_from_environment(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FHIR_AUTH_ISSUER", "https://c.example")
    monkeypatch.setenv("FHIR_AUTH_AUDIENCE", '["https://c.example/fhir"]')
    assert run(["token", "--data-dir", str(data_dir), "--fhir-user", "Patient/1"]) == 0
    token = f"Bearer {capsys.readouterr().out.strip()}"
    server = AuthConfig.from_mapping(
        {"DATA_DIR": data_dir, "AUTH_ISSUER": "https://c.example", "AUTH_AUDIENCE": ["https://c.example/fhir"]}
    )
    assert authenticate(token, server).ref == "Patient/1"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--purpose", "ETREAT"], "needs --reason"),
        (["--reason", "why"], "goes with --purpose"),
        (["--fhir-user", "Device/1"], "fhirUser must be"),
        (["--ttl", "0"], "ttl"),
    ],
)
def test_misuse(data_dir: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str) -> None:
    assert run(["token", "--data-dir", str(data_dir), *extra]) == 2
    assert message in capsys.readouterr().err
