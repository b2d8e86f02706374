"""Document content benchmark against a real `carnet serve` (gunicorn, the embedded SQLite store, or
the MongoDB adapter on its stand-in with ``--mongodb``).

Prints upload (raw PUT Binary) and download (GET Binary, streamed) MB/s for 1 MB and 32 MB PDFs
beside a plain file copy of the same bytes on the same disk, and the server's peak memory (RSS of
the gunicorn master and workers, sampled every 5 ms, and the workers' VmHWM) during a 64 MiB
upload. Usage:
    .venv/bin/python bench/documents.py [--mongodb] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import carnet_server  # noqa: E402
from tests.servers import cli_token  # noqa: E402
from tests.servers import embedded_env  # noqa: E402
from tests.servers import server_port  # noqa: E402
from tests.servers import wire_store  # noqa: E402

MB = 1024 * 1024


def pdf_file(path: Path, size: int) -> Path:
    """A file of ``size`` bytes shaped like a PDF (header, incompressible body, trailer)."""
    head, tail = b"%PDF-1.7\n", b"\n%%EOF\n"
    with path.open("wb") as out:
        out.write(head)
        left = size - len(head) - len(tail)
        while left > 0:
            piece = os.urandom(min(left, MB))
            out.write(piece)
            left -= len(piece)
        out.write(tail)
    return path


def tree(pid: int) -> list[int]:
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [pid, *(int(c) for c in children)]


def status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def server_pid(port: int) -> int:
    out = subprocess.run(["pgrep", "-f", "--", f"--port {port}"], capture_output=True, text=True).stdout.split()
    return min(int(p) for p in out)


def timed(call: Callable[[], None], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5, help="runs per measure (the best is kept)")
    parser.add_argument("--mongodb", action="store_true", help="the MongoDB adapter on its stand-in (carnet store)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=str(ROOT)) as tmp:  # the disk the server writes to
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        files = {
            label: pdf_file(Path(tmp) / f"{label}.pdf", size)
            for label, size in (("1 MB", MB), ("32 MB", 32 * MB), ("64 MiB", 64 * MB))
        }
        env = embedded_env()
        standin = wire_store(data_dir) if args.mongodb else nullcontext(None)
        with (
            standin as uri,
            carnet_server(data_dir, workers=1, env={**env, **({"MONGODB_URI": uri} if uri else {})}) as base,
        ):
            pid = server_pid(server_port(base))
            token = cli_token(data_dir, "--scope", "system/*.cruds")
            auth = {"Authorization": f"Bearer {token}"}
            session = requests.Session()
            print(f"store: {'MongoDB adapter (carnet store stand-in)' if uri else 'SQLite'}; best of {args.repeat}")
            print(f"{'size':>7} {'upload MB/s':>12} {'download MB/s':>14} {'file copy MB/s':>15}")
            for label in ("1 MB", "32 MB"):
                path = files[label]
                size = path.stat().st_size

                # each function reads this round's path and size (bound now, as defaults)
                def upload(path: Path = path) -> None:
                    with path.open("rb") as body:
                        resp = session.put(
                            f"{base}/Binary/bench",
                            data=body,
                            headers={**auth, "Content-Type": "application/pdf", "Prefer": "return=minimal"},
                        )
                    assert resp.status_code in (200, 201), resp.text[:500]

                def download(size: int = size) -> None:
                    with session.get(
                        f"{base}/Binary/bench", headers={**auth, "Accept": "application/pdf"}, stream=True
                    ) as resp:
                        assert resp.status_code == 200, resp.text[:500]
                        got = sum(len(c) for c in resp.iter_content(256 * 1024))
                    assert got == size, (got, size)

                def copy(path: Path = path) -> None:
                    target = data_dir / "copy.pdf"
                    shutil.copyfile(path, target)
                    with target.open("rb") as f:
                        os.fsync(f.fileno())

                up, down, cp = (timed(f, args.repeat) for f in (upload, download, copy))
                mb = size / MB
                print(f"{label:>7} {mb / up:12.1f} {mb / down:14.1f} {mb / cp:15.1f}")
            # peak memory during a 64 MiB upload
            pids = tree(pid)
            before = sum(status_kb(p, "VmRSS") for p in pids)
            peak, done = [before], threading.Event()

            def sample() -> None:
                while not done.is_set():
                    peak[0] = max(peak[0], sum(status_kb(p, "VmRSS") for p in tree(pid)))
                    time.sleep(0.005)

            sampler = threading.Thread(target=sample)
            sampler.start()
            with files["64 MiB"].open("rb") as body:
                resp = session.put(
                    f"{base}/Binary/big",
                    data=body,
                    headers={**auth, "Content-Type": "application/pdf", "Prefer": "return=minimal"},
                )
            done.set()
            sampler.join()
            assert resp.status_code in (200, 201), resp.text[:500]
            hwm = max(status_kb(p, "VmHWM") for p in tree(pid)[1:] or [pid])
            print(
                f"64 MiB upload: server RSS {before / 1024:.0f} MiB before, peak {peak[0] / 1024:.0f} MiB "
                f"(+{(peak[0] - before) / 1024:.0f} MiB); worker VmHWM {hwm / 1024:.0f} MiB"
            )


if __name__ == "__main__":
    main()
