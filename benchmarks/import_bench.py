"""Benchmark: import an X archive with 100k posts and 20k followers.

Builds the archive in a temporary folder (synthetic data, in the parts X uses for big
archives), imports it and prints the wall time and the peak memory of the import.

    .venv/bin/python benchmarks/import_bench.py [--tweets 100000] [--followers 20000] [--full]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.networks.base import NullProgress
from app.networks.x.importer import import_x
from tests.networks import archive_builders as b


def build(folder: Path, tweets: int, followers: int) -> Path:
    start = datetime(2015, 1, 1, tzinfo=UTC)
    items = [
        b.tweet(
            str(10**17 + i),
            f"Post number {i} about café culture in Zürich 🎉 and more words to look real "
            f"https://t.co/{i:08d}",
            start + timedelta(minutes=37 * i),
            likes=i % 50,
            retweets=i % 7,
            reply_to=str(10**17 + i - 1) if i % 5 == 0 and i else None,
            urls=[(f"https://t.co/{i:08d}", f"https://example.org/{i}")],
        )
        for i in range(tweets)
    ]
    files = b.x_files(
        tweets=items,
        followers=[str(2 * 10**9 + i) for i in range(followers)],
        following=[str(3 * 10**9 + i) for i in range(followers // 4)],
        tweet_parts=max(1, tweets // 25_000),
    )
    del items
    path = folder / "twitter-archive.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
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
        print(f"archive: {size / 2**20:.1f} MiB zip, built in {built:.1f} s", flush=True)
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
    cli.main(["import", "x", path, "--user", "bench"], standalone_mode=False)
    seconds = time.perf_counter() - t0
    print(
        f"import + analysis + save (manage.py import): {seconds:.1f} s, "
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


def import_only(path: str) -> None:
    t0 = time.perf_counter()
    data = import_x(path, NullProgress())
    seconds = time.perf_counter() - t0
    peak_rss = _peak_rss_mib()
    print(f"imported: {len(data.posts)} posts, {len(data.followers or [])} followers")
    print(f"import time: {seconds:.2f} s")
    print(f"import peak memory (max RSS of the importing process): {peak_rss:.0f} MiB")


if __name__ == "__main__":
    main()
