"""Accuracy and speed of every sentiment engine, on held-out SemEval tweets and on VADER's
human-rated tweets, in one run.

Data sets:

* **Validation split**: the tweets of ``semeval-2013-2016.tsv`` (``--data``, default
  ``../shared/sentiment/``) that the trained model held out, as its header
  (``app/analysis/models/sentiment-en.json``) says: a seeded random 10% of the lines.
  Texts go through ``clean_text`` as in the app.
* **VADER's tweets**: ``tweets_GroundTruth.txt`` from Hutto & Gilbert, "VADER: A
  Parsimonious Rule-based Model for Sentiment Analysis of Social Media Text" (ICWSM 2014):
  4,200 tweets, each with the mean rating of 20 people on a -4..+4 scale. It ships inside
  the vaderSentiment 3.3.2 source distribution (``additional_resources/
  hutto_ICWSM_2014.tar.gz``), so this script fetches it with ``pip download`` into
  ``benchmarks/.cache`` (gitignored) the first time it runs. Gold labels: mean rating >=
  +0.5 positive, <= -0.5 negative, else neutral (``--gold``). VADER was built with these
  tweets, so its numbers there are flattered.

Per engine and data set: macro-recall (the SemEval measure), per-class recall, macro-F1,
accuracy, and posts/s of the engine alone on cleaned text. Then the whole pipeline,
``analyse_sentiment`` (cleaning, language detection, scoring, summary), on ``--speed``
distinct tweets of the file, in CPU seconds of this process (the machine is shared), and
the validation split run through the pipeline, where posts the language detector does not
take for English get no label and count as wrong, as when an import is read back.

Last, a "project | raw | ratio" table (``report.py``), CPU seconds in the same run: each
engine's ``predict`` against the raw library calls on the same texts (VADER's
``polarity_scores``, TextBlob's ``PatternAnalyzer``; the trained engine, which computes
VADER's features and hashed n-grams, against raw VADER), language detection against a bare
``pycld2.detect`` loop, and the whole pipeline against the engine alone.

Run: ``.venv/bin/python benchmarks/sentiment_bench.py``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from report import Report  # noqa: E402

from app.analysis.sentiment import (  # noqa: E402
    ENGINES,
    analyse_sentiment,
    clean_text,
    detect_language,
    get_engine,
)
from app.networks.base import Post  # noqa: E402
from scripts.train_sentiment import DEFAULT_DATA, metrics, read_rows, validation_rows  # noqa: E402

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


def load_vader_tweets(path: Path, gold: float) -> list[tuple[str, str]]:
    """``(cleaned_text, gold_label)`` pairs; the file is ``id<TAB>mean<TAB>text``."""
    rows = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t", 2)
        if len(parts) != 3:
            continue
        mean = float(parts[1])
        tag = "positive" if mean >= gold else "negative" if mean <= -gold else "neutral"
        rows.append((clean_text(parts[2]), tag))
    return rows


def engine_rows(name: str, rows: list[tuple[str, str]]) -> tuple[dict, float]:
    """Metrics of one engine on ``rows`` and its posts/s (CPU time, engine only)."""
    engine = get_engine(name)
    texts = [text for text, _ in rows]
    engine.predict(["warm up"])
    start = time.process_time()
    found = engine.predict(texts)
    rate = len(texts) / max(time.process_time() - start, 1e-9)
    return metrics([tag for _, tag in rows], [f[0] for f in found]), rate


def line(name: str, m: dict, rate: float | None) -> str:
    r = m["recall"]
    speed = f"{rate:>9,.0f}" if rate is not None else f"{'':>9}"
    return (
        f"  {name:9} {m['macro_recall']:>7.3f} {r['negative']:>6.3f} {r['neutral']:>6.3f}"
        f" {r['positive']:>6.3f} {m['macro_f1']:>8.3f} {m['accuracy']:>6.3f} {speed}"
    )


HEAD = f"  {'engine':9} {'macroR':>7} {'R-neg':>6} {'R-neu':>6} {'R-pos':>6} {'macroF1':>8}"
HEAD += f" {'acc':>6} {'posts/s':>9}"


def posts_of(texts: list[str]) -> list[Post]:
    return [
        Post(str(i), datetime(2025, 1 + i % 12, 1 + i % 28, tzinfo=UTC), text)
        for i, text in enumerate(texts)
    ]


def pipeline(name: str, texts: list[str]) -> tuple[float, float]:
    """``analyse_sentiment`` posts/s over ``texts``: CPU time and wall time."""
    posts = posts_of(texts)
    get_engine(name).predict(["warm up"])
    cpu, wall = time.process_time(), time.perf_counter()
    analyse_sentiment(posts, name)
    return len(posts) / (time.process_time() - cpu), len(posts) / (time.perf_counter() - wall)


def pipeline_labels(name: str, rows: list[tuple[str, str]]) -> tuple[dict, int]:
    """Metrics when each tweet goes through ``analyse_sentiment`` as a post: a post that
    gets no label (language) counts as wrong. Returns the metrics and the unlabelled count."""
    per_post, _ = analyse_sentiment(posts_of([text for text, _ in rows]), name)
    pred = [per_post[str(i)][0] if str(i) in per_post else None for i in range(len(rows))]
    return metrics([tag for _, tag in rows], pred), sum(p is None for p in pred)


def cpu_time(work: Callable[[], object]) -> float:
    """CPU seconds of one ``work()`` call (this process; the machine is shared)."""
    start = time.process_time()
    work()
    return time.process_time() - start


def raw_scorers() -> dict[str, Callable[[str], object]]:
    """The libraries' own calls, with nothing of the app around them."""
    from textblob.en.sentiments import PatternAnalyzer
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    blob = PatternAnalyzer()
    return {
        "vader": vader.polarity_scores,
        "textblob": blob.analyze,
        "trained": vader.polarity_scores,
    }


def raw_report(texts: list[str], cleaned: list[str]) -> Report:
    """Engines, language detection and the pipeline against raw calls, CPU seconds."""
    import pycld2

    report = Report(f"Sentiment speed on {len(texts):,} distinct tweets, CPU seconds")
    raw = raw_scorers()
    for name in ENGINES:
        engine = get_engine(name)
        engine.predict(["warm up"])
        scorer = raw[name]
        mine = cpu_time(lambda engine=engine: engine.predict(cleaned))
        bare = cpu_time(lambda scorer=scorer: [scorer(text) for text in cleaned])
        what = "raw VADER polarity_scores" if name != "textblob" else "raw PatternAnalyzer"
        report.add(f"{name} engine predict", mine, bare, "s", f"raw: {what}")
    mine = cpu_time(lambda: [detect_language(text) for text in cleaned])
    bare = cpu_time(lambda: [pycld2.detect(text) for text in cleaned])
    report.add("language detection", mine, bare, "s", "raw: pycld2.detect loop")
    posts = posts_of(texts)
    for name in ENGINES:
        engine = get_engine(name)
        mine = cpu_time(lambda name=name: analyse_sentiment(posts, name))
        bare = cpu_time(lambda engine=engine: engine.predict(cleaned))
        report.add(f"{name} whole pipeline", mine, bare, "s", "raw: the engine alone")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the SemEval TSV")
    parser.add_argument("--gold", type=float, default=0.5, help="VADER tweets' gold threshold")
    parser.add_argument("--vader-data", type=Path, help="tweets_GroundTruth.txt (else fetched)")
    parser.add_argument("--speed", type=int, default=20000, help="tweets for the pipeline rate")
    args = parser.parse_args()

    header = get_engine("trained").header  # type: ignore[attr-defined]
    valid = validation_rows(args.data, header)
    dist = {tag: sum(g == tag for _, g in valid) for tag in LABELS}
    print(f"Validation split: {len(valid):,} held-out SemEval tweets {dist}")
    print(HEAD)
    for name in ENGINES:
        print(line(name, *engine_rows(name, valid)))

    vader_rows = load_vader_tweets(args.vader_data or locate_dataset(), args.gold)
    vader_rows = [row for row in vader_rows if row[0]]
    dist = {tag: sum(g == tag for _, g in vader_rows) for tag in LABELS}
    print(f"\nVADER's human-rated tweets (gold at +-{args.gold}): {len(vader_rows):,} {dist}")
    print(HEAD)
    for name in ENGINES:
        print(line(name, *engine_rows(name, vader_rows)))

    texts = list(dict.fromkeys(text for _, text in read_rows(args.data)))[-args.speed :]
    cleaned = [clean_text(text) for text in texts]
    start = time.process_time()
    for text in cleaned:
        detect_language(text)
    lang_rate = len(cleaned) / (time.process_time() - start)
    print(f"\nWhole pipeline (analyse_sentiment) on {len(texts):,} distinct raw tweets:")
    print(f"  language detection alone (CLD2): {lang_rate:,.0f} posts/s")
    for name in ENGINES:
        cpu, wall = pipeline(name, texts)
        print(f"  {name:9} {cpu:>9,.0f} posts/s (CPU time), {wall:,.0f} wall")

    print("\nValidation split through the pipeline (a post left unlabelled counts as wrong):")
    print(HEAD)
    for name in ENGINES:
        found, unlabelled = pipeline_labels(name, valid)
        print(line(name, found, None) + f"   unlabelled: {unlabelled}")

    raw_report(texts, cleaned).print()


if __name__ == "__main__":
    main()
