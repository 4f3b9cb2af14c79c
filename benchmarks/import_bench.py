"""Benchmark: import a big X archive; print the time and the peak memory of the import.

Builds the archive in a temporary folder (synthetic data; one ``data/tweets.js``, the shape
the issue's hostile upload had, written as a stream so building needs no memory either),
imports it in a fresh process and prints the wall time, the peak resident memory (VmHWM)
and the peak of Python allocations (tracemalloc) of the import.

    .venv/bin/python benchmarks/import_bench.py [--tweets 100000] [--followers 20000] [--full]
    .venv/bin/python benchmarks/import_bench.py --tweets 1000000   # a ~1 GiB tweets.js

Parsing holds one tweet at a time and the posts go into a
:class:`~app.networks.base.PostSpool` (a temporary file past 20,000), so the peak memory
does not grow with the archive. The raw reference is the bare parse of the same three
members with ijson's C backend (``ijson.items``), nothing done with the items; the import's
CPU time is printed next to it with their ratio. ``--full`` runs the whole ``manage.py
import`` (analysis and save included) in a fresh process and prints its time, CPU time and
peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.networks.base import NullProgress
from app.networks.x.importer import import_x
from tests.networks import archive_builders as b


def build(folder: Path, tweets: int, followers: int) -> Path:
    """Write the archive zip, streaming the big files into it."""
    start = datetime(2015, 1, 1, tzinfo=UTC)
    small = b.x_files(tweets=[], followers=[], following=[])
    path = folder / "twitter-archive.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, content in small.items():
            if name in ("data/tweets.js", "data/follower.js", "data/following.js"):
                continue
            zf.writestr(name, content)
        with zf.open("data/tweets.js", "w", force_zip64=True) as fh:
            fh.write(b"window.YTD.tweets.part0 = [")
            for i in range(tweets):
                item = b.tweet(
                    str(10**17 + i),
                    f"Post number {i} about café culture in Zürich 🎉 and more words to look "
                    f"real https://t.co/{i:08d}",
                    start + timedelta(minutes=37 * i),
                    likes=i % 50,
                    retweets=i % 7,
                    reply_to=str(10**17 + i - 1) if i % 5 == 0 and i else None,
                    urls=[(f"https://t.co/{i:08d}", f"https://example.org/{i}")],
                )
                text = json.dumps(item, indent=2, ensure_ascii=False)
                fh.write(((",\n" if i else "\n") + text).encode())
            fh.write(b"\n]")
        for name, kind, count, base in (
            ("data/follower.js", "follower", followers, 2 * 10**9),
            ("data/following.js", "following", followers // 4, 3 * 10**9),
        ):
            with zf.open(name, "w") as fh:
                fh.write(f"window.YTD.{kind}.part0 = [".encode())
                for i in range(count):
                    account = {
                        kind: {
                            "accountId": str(base + i),
                            "userLink": f"https://twitter.com/intent/user?user_id={base + i}",
                        }
                    }
                    fh.write(((",\n" if i else "\n") + json.dumps(account)).encode())
                fh.write(b"\n]")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tweets", type=int, default=100_000)
    parser.add_argument("--followers", type=int, default=20_000)
    parser.add_argument("--import-only", metavar="ZIP", help=argparse.SUPPRESS)
    parser.add_argument("--full-only", metavar="ZIP", help=argparse.SUPPRESS)
    parser.add_argument(
        "--full", action="store_true", help="also time the whole manage.py import (analysis, save)"
    )
    args = parser.parse_args()
    if args.import_only:
        import_only(args.import_only)
        return
    if args.full_only:
        full_only(args.full_only)
        return
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        path = build(Path(tmp), args.tweets, args.followers)
        built = time.perf_counter() - t0
        size = path.stat().st_size
        with zipfile.ZipFile(path) as zf:
            member = zf.getinfo("data/tweets.js").file_size
        print(
            f"archive: {size / 2**20:.1f} MiB zip, tweets.js {member / 2**20:.0f} MiB, "
            f"built in {built:.1f} s",
            flush=True,
        )
        # Import in a fresh process so its peak RSS is the import's alone.
        subprocess.run([sys.executable, __file__, "--import-only", str(path)], check=True)
        if args.full:
            full_import(path, Path(tmp))


def full_import(path: Path, folder: Path) -> None:
    """The whole ``manage.py import``: read, analyse, save rows, switch the snapshot."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder}/bench.db",
        "INSTANCE_PATH": str(folder),
        "FLASK_APP": "app.app:create_app",
    }
    root = Path(__file__).resolve().parents[1]
    manage = [sys.executable, str(root / "manage.py")]
    subprocess.run([*manage, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run(
        [
            *manage,
            "create-user",
            "bench",
            "--email",
            "bench@example.com",
            "--password",
            "bench password",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    done = subprocess.run(
        [sys.executable, __file__, "--full-only", str(path)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    print(done.stdout.strip())


def full_only(path: str) -> None:
    """Run ``manage.py import`` in this fresh process and report its time and VmHWM."""
    from manage import cli

    t0 = time.perf_counter()
    cpu = time.process_time()
    cli.main(["import", "x", path, "--user", "bench"], standalone_mode=False)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu
    print(
        f"import + analysis + save (manage.py import): {seconds:.1f} s ({cpu:.1f} s CPU), "
        f"peak memory {_peak_rss_mib():.0f} MiB"
    )


def _peak_rss_mib() -> float:
    """VmHWM: the process's peak resident memory (reset by exec, unlike ru_maxrss)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover


def raw_parse(path: str) -> float:
    """CPU seconds of the bare ijson parse of the archive's three big members."""
    import ijson

    cpu = time.process_time()
    with zipfile.ZipFile(path) as zf:
        for name in ("data/tweets.js", "data/follower.js", "data/following.js"):
            with zf.open(name) as fh:
                while fh.read(1) != b"=":
                    pass
                for _ in ijson.items(fh, "item", use_float=True):
                    pass
    return time.process_time() - cpu


def import_only(path: str) -> None:
    base_rss = _peak_rss_mib()
    t0 = time.perf_counter()
    cpu = time.process_time()
    data = import_x(path, NullProgress())
    cpu = time.process_time() - cpu
    seconds = time.perf_counter() - t0
    peak_rss = _peak_rss_mib()
    raw = raw_parse(path)
    print(f"imported: {len(data.posts)} posts, {len(data.followers or [])} followers")
    print(f"import time: {seconds:.2f} s ({cpu:.2f} s CPU)")
    print(f"raw ijson parse of the same members: {raw:.2f} s CPU; import/raw {cpu / raw:.2f}x")
    print(
        f"import peak memory (max RSS of the importing process): {peak_rss:.0f} MiB "
        f"({base_rss:.0f} MiB before the import)"
    )
    if os.environ.get("IMPORT_BENCH_TRACEMALLOC"):
        del data
        tracemalloc.start()
        kept = import_x(path, NullProgress())
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"tracemalloc peak of the import: {peak / 2**20:.0f} MiB ({len(kept.posts)} posts)")


if __name__ == "__main__":
    main()
