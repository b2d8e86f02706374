"""``carnet token``: argparse hook, defaults, misuse, and the printed token authenticates."""

from __future__ import annotations

import argparse
import gc
import io
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
    argv = [
        "token",
        "--data-dir",
        str(data_dir),
        "--fhir-user",
        "Practitioner/p1",
        "--purpose",
        "BTG",
        "--reason",
        "coma",
        "--ttl",
        "120",
    ]
    assert run(argv) == 0
    token = capsys.readouterr().out.strip()
    requester = authenticate(f"Bearer {token}", AuthConfig.from_mapping({"DATA_DIR": data_dir}))
    assert (requester.kind, requester.ref, requester.mode, requester.reason) == (
        "practitioner",
        "Practitioner/p1",
        "bris_de_glace",
        "coma",
    )
    assert requester.scopes == {"user/*.cruds"}


def test_system_token(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["token", "--data-dir", str(data_dir), "--scope", "system/Patient.rs"]) == 0
    token = capsys.readouterr().out.strip()
    requester = authenticate(f"Bearer {token}", AuthConfig.from_mapping({"DATA_DIR": data_dir}))
    assert (requester.kind, requester.sub, requester.scopes) == (
        "system",
        "carnet-cli",
        frozenset({"system/Patient.rs"}),
    )


def test_issuer_and_audience_from_environment(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARNET_TOKEN_ISSUER", "https://c.example")
    monkeypatch.setenv("CARNET_BASE_URL", "https://c.example/fhir")
    assert run(["token", "--data-dir", str(data_dir), "--fhir-user", "Patient/1"]) == 0
    token = f"Bearer {capsys.readouterr().out.strip()}"
    server = AuthConfig.from_mapping(
        {
            "DATA_DIR": data_dir,
            "TOKEN_ISSUER": "https://c.example",
            "TOKEN_AUDIENCE": ["https://c.example/fhir"],
        }
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


# a one-shot command leaves the embedded store to the end of its process, which here goes on
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore:coroutine 'AsyncMongoClient.__aexit__':RuntimeWarning")
def test_clients_and_users(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from fhir_server.auth import accounts
    from fhir_server.storage import opened_collections

    monkeypatch.delenv("MONGODB_URI", raising=False)

    def carnet(command: str, *extra: str) -> int:
        return run([*command.split(), "--data-dir", str(tmp_path), *extra])

    def printed() -> dict[str, str]:
        return dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines())

    assert carnet("clients add --name lab --scope system/*.rs") == 0
    secret_client = printed()
    assert set(secret_client) == {"client_id", "client_secret"}
    assert carnet("clients add --name svc --scope system/*.rs --jwks-url https://svc.example/j") == 0
    assert set(printed()) == {"client_id"}
    app = "clients add --name app --scope openid --redirect-uri https://app.example/cb --public"
    assert carnet(app) == 0
    assert set(printed()) == {"client_id"}
    assert carnet("clients add --name bad --scope user/*.rs") == 2
    assert "system/ scopes only" in capsys.readouterr().err

    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret\n"))
    assert carnet("users add --username lea --fhir-user Patient/p1") == 0
    assert carnet("users add --username dr --fhir-user Practitioner/d1", "--password", "pw") == 0
    assert carnet("users add --username dr --fhir-user Practitioner/d1", "--password", "pw") == 2
    assert "exists" in capsys.readouterr().err

    with opened_collections({"DATA_DIR": str(tmp_path)}) as db:  # where the server looks
        client = accounts.query_client(db, secret_client["client_id"])
        assert client is not None and client.check_client_secret(secret_client["client_secret"])
        assert accounts.login(db, "lea", "s3cret") is not None
        assert accounts.login(db, "dr", "pw") is not None
    gc.collect()  # the commands' stores end here, under this test's filters
