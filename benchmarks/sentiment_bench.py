"""Accuracy and speed of the two sentiment engines on human-rated tweets.

Data: ``tweets_GroundTruth.txt`` from Hutto & Gilbert, "VADER: A Parsimonious Rule-based
Model for Sentiment Analysis of Social Media Text" (ICWSM 2014): 4,200 tweets, each with the
mean rating of 20 people on a -4..+4 scale. It ships inside the vaderSentiment 3.3.2 source
distribution (``additional_resources/hutto_ICWSM_2014.tar.gz``), so this script fetches it
with ``pip download`` into ``benchmarks/.cache`` (gitignored) the first time it runs.

Gold labels: mean rating >= +0.5 positive, <= -0.5 negative, else neutral (``--gold 0.5``;
one rater step on a 9-point scale). ``--gold 0.05`` leaves only ~100 neutral tweets.

Run: ``.venv/bin/python benchmarks/sentiment_bench.py``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.analysis.sentiment import ENGINES, clean_text, get_engine  # noqa: E402

CACHE = Path(__file__).resolve().parent / ".cache"
SDIST = "vaderSentiment==3.3.2"
INNER = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
MEMBER = "hutto_ICWSM_2014/tweets_GroundTruth.txt"
LABELS = ("positive", "neutral", "negative")


def locate_dataset(cache: Path = CACHE) -> Path:
    """Return the path of ``tweets_GroundTruth.txt``, downloading the sdist if needed."""
    target = cache / MEMBER
    if target.exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    sdist = cache / "vaderSentiment-3.3.2.tar.gz"
    if not sdist.exists():
        cmd = [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps"]
        subprocess.run([*cmd, SDIST, "-d", str(cache), "-q"], check=True, timeout=300)
    with tarfile.open(sdist) as outer:
        inner_file = outer.extractfile(INNER)
        if inner_file is None:
            raise SystemExit(f"{INNER} missing from {sdist}")
        with tarfile.open(fileobj=inner_file) as inner:
            inner.extract(MEMBER, cache, filter="data")
    return target


def load(path: Path, gold: float) -> list[tuple[str, str]]:
    """Read ``(text, gold_label)`` pairs; the file is ``id<TAB>mean<TAB>text``."""
    rows = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t", 2)
        if len(parts) != 3:
            continue
        mean = float(parts[1])
        tag = "positive" if mean >= gold else "negative" if mean <= -gold else "neutral"
        rows.append((parts[2], tag))
    return rows


def to_label(score: float, threshold: float) -> str:
    return "positive" if score >= threshold else "negative" if score <= -threshold else "neutral"


def metrics(gold: list[str], pred: list[str]) -> dict[str, float]:
    """Accuracy, macro-precision/recall/F1 over the three labels."""
    recalls, f1s = [], []
    for tag in LABELS:
        tp = sum(g == tag and p == tag for g, p in zip(gold, pred, strict=True))
        n_gold = sum(g == tag for g in gold)
        n_pred = sum(p == tag for p in pred)
        recall = tp / n_gold if n_gold else 0.0
        precision = tp / n_pred if n_pred else 0.0
        recalls.append(recall)
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    accuracy = sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold)
    return {
        "accuracy": accuracy,
        "macro_recall": sum(recalls) / 3,
        "macro_f1": sum(f1s) / 3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=float, default=0.5, help="gold label threshold")
    parser.add_argument("--data", type=Path, help="tweets_GroundTruth.txt (else downloaded)")
    args = parser.parse_args()
    rows = load(args.data or locate_dataset(), args.gold)
    gold = [tag for _, tag in rows]
    texts = [clean_text(text) for text, _ in rows]
    dist = {tag: gold.count(tag) for tag in LABELS}
    print(f"{len(rows)} tweets, gold at +-{args.gold}: {dist}")
    print(f"{'engine':10} {'thresh':>6} {'acc':>6} {'macroR':>7} {'macroF1':>8} {'posts/s':>9}")
    for name in ENGINES:
        engine = get_engine(name)
        engine.score("warm up")
        start = time.perf_counter()
        scores = [engine.score(text) for text in texts]
        rate = len(texts) / (time.perf_counter() - start)
        thresholds = (engine.threshold,)
        if name == "textblob":
            thresholds = (0.0001, 0.05, 0.1, 0.2)
        for threshold in thresholds:
            m = metrics(gold, [to_label(s, threshold) for s in scores])
            mark = "*" if threshold == engine.threshold else " "
            print(
                f"{name:10} {threshold:>6.4g}{mark}{m['accuracy']:>6.3f} {m['macro_recall']:>7.3f}"
                f" {m['macro_f1']:>8.3f} {rate:>9.0f}"
            )
    print("* = threshold the app uses")


if __name__ == "__main__":
    main()
