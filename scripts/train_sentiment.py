"""Train the ``trained`` sentiment engine and write its model files and report.

Data: ``semeval-2013-2016.tsv`` (``label<TAB>text``, 49,474 English tweets of SemEval-2013
Task 2, 2014 Task 9, 2015 Task 10 and 2016 Task 4; see ``../shared/sentiment/README.md``).
The tweets are read where they lie and never copied into the repository: the model file
holds hashed-feature weights only, no vocabulary.

Method, all seeded (``--seed``, default 13):

1. Every text goes through :func:`app.analysis.sentiment.clean_text` (HTML, links,
   ``@mentions`` and a leading ``RT @user:`` removed), as the app does before scoring;
   tweets left empty are dropped (the app counts such posts as "no text").
2. Validation split: a seeded random 10% of the file's lines (:func:`split_lines`); the
   model is trained on the other 90%, shuffled.
3. Features: scikit-learn ``HashingVectorizer`` word 1-2-grams and ``char_wb`` 2-5-grams,
   2**18 columns each, counts scaled by ``1/sqrt(total)`` per block, plus the three lexicon
   features of :class:`app.analysis.sentiment.Featurizer`; the script checks that the app's
   own featurizer gives the same matrix on the validation texts.
4. ``LogisticRegression(C=0.5, class_weight="balanced")`` (multinomial, lbfgs).
5. Weights are written as float16 (hashed blocks) and float32 arrays in an ``.npz`` with a
   fixed zip timestamp (same input, same bytes), and a JSON header with their SHA-256.
6. The written model is loaded back through the app's engine and evaluated on the
   validation split next to VADER and TextBlob. With ``--time-split`` (default on) a second
   model with the same settings is fitted on all but the last 20,448 lines (the SemEval-2016
   test rows) and evaluated on them: a check on later, unseen tweets. That model is not kept.

Run from the project root (about 3 minutes on one core)::

    .venv/bin/python scripts/train_sentiment.py
    .venv/bin/python scripts/train_sentiment.py --data /path/to/semeval-2013-2016.tsv

Needs the dev requirements (scikit-learn); the app itself does not.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import time
import zipfile
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.analysis.sentiment import (  # noqa: E402
    CHAR_NGRAMS,
    CLASSES,
    LABELS,
    LEXICON_FEATURES,
    MODEL_DIR,
    MODEL_FORMAT,
    MODEL_NAME,
    TOKEN_PATTERN,
    WORD_NGRAMS,
    Featurizer,
    TrainedEngine,
    clean_text,
    get_engine,
    lexicon_digest,
    vader_lexicon,
)

DEFAULT_DATA = ROOT.parent / "shared" / "sentiment" / "semeval-2013-2016.tsv"
DEFAULT_REPORT = ROOT / "docs" / "sentiment_report.txt"
SEED = 13
VALIDATION_FRACTION = 0.1
#: The SemEval-2016 Task 4 test rows are the file's last lines.
TIME_SPLIT_ROWS = 20448
N_FEATURES = 2**18
C = 0.5
#: Confidence bins of the calibration table in the report.
BINS = (0.0, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0001)


def read_rows(path: Path) -> list[tuple[str, str]]:
    """``(label, raw_text)`` per line of the TSV, in file order."""
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            tag, sep, text = line.rstrip("\n").partition("\t")
            if not sep or tag not in CLASSES:
                raise SystemExit(f"{path}:{number}: expected 'label<TAB>text'")
            rows.append((tag, text))
    return rows


def split_lines(n: int, seed: int = SEED, fraction: float = VALIDATION_FRACTION) -> np.ndarray:
    """A boolean mask over the file's ``n`` lines: True for the validation lines."""
    order = np.random.default_rng(seed).permutation(n)
    mask = np.zeros(n, dtype=bool)
    mask[order[: round(n * fraction)]] = True
    return mask


def validation_rows(path: Path, header: dict[str, Any]) -> list[tuple[str, str]]:
    """The ``(cleaned_text, label)`` validation rows the model in ``header`` held out."""
    rows = read_rows(path)
    split = header["training"]["validation"]
    mask = split_lines(len(rows), split["seed"], split["fraction"])
    cleaned = [
        (clean_text(text), tag) for (tag, text), held in zip(rows, mask, strict=True) if held
    ]
    return [(text, tag) for text, tag in cleaned if text]


def metrics(gold: Sequence[str], pred: Sequence[str | None]) -> dict[str, Any]:
    """Accuracy, macro-recall, macro-F1, per-class recall and the confusion matrix."""
    recall: dict[str, float] = {}
    f1s = []
    matrix: dict[str, dict[str | None, int]] = {g: dict.fromkeys(LABELS, 0) for g in LABELS}
    for g, p in zip(gold, pred, strict=True):
        matrix[g][p] = matrix[g].get(p, 0) + 1  # a missing label (None) is simply wrong
    for tag in LABELS:
        tp = matrix[tag][tag]
        n_gold = sum(matrix[tag].values())
        n_pred = sum(matrix[g][tag] for g in LABELS)
        recall[tag] = tp / n_gold if n_gold else 0.0
        precision = tp / n_pred if n_pred else 0.0
        total = precision + recall[tag]
        f1s.append(2 * precision * recall[tag] / total if total else 0.0)
    return {
        "n": len(gold),
        "accuracy": sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold),
        "macro_recall": sum(recall.values()) / len(LABELS),
        "macro_f1": sum(f1s) / len(LABELS),
        "recall": recall,
        "confusion": matrix,
    }


def hashed_blocks(texts: Sequence[str]) -> Any:
    """The scikit-learn reference for :class:`Featurizer`'s hashed matrix."""
    from scipy.sparse import diags, hstack
    from sklearn.feature_extraction.text import HashingVectorizer

    common = {"n_features": N_FEATURES, "alternate_sign": False, "norm": None, "lowercase": True}
    words = HashingVectorizer(token_pattern=TOKEN_PATTERN, ngram_range=WORD_NGRAMS, **common)
    chars = HashingVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS, **common)
    blocks = []
    for vectorizer in (words, chars):
        counts = vectorizer.transform(texts).astype(np.float64)
        total = np.asarray(counts.sum(axis=1)).ravel()
        total[total == 0] = 1.0
        blocks.append(diags(1.0 / np.sqrt(total)) @ counts)
    return hstack(blocks).tocsr()


def design(texts: Sequence[str], featurizer: Featurizer) -> Any:
    """Hashed blocks (scikit-learn) next to the lexicon features (the app's code)."""
    from scipy.sparse import csr_matrix, hstack

    _, lexical = featurizer.transform(texts)
    return hstack([hashed_blocks(texts), csr_matrix(lexical)]).tocsr()


def fit(x: Any, y: np.ndarray, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, class_weight="balanced", max_iter=5000, random_state=seed)
    model.fit(x, y)
    return model


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An ``.npz`` (zip of ``.npy``) with fixed timestamps, so equal arrays give equal bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for key, array in arrays.items():
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            data = io.BytesIO()
            np.lib.format.write_array(data, np.ascontiguousarray(array), allow_pickle=False)
            archive.writestr(info, data.getvalue(), compresslevel=9)
    return buffer.getvalue()


def confident_line(
    name: str, at: float, gold: Sequence[str], found: Sequence[tuple[str, float, float]]
) -> str:
    """How many labels reach the engine's ``confident_at``, and how many of those are right."""
    chosen = [(g, f[0]) for g, f in zip(gold, found, strict=True) if f[2] >= at]
    right = sum(g == p for g, p in chosen)
    share = right / len(chosen) if chosen else 0.0
    return (
        f"  {name:10} confidence >= {at}: {len(chosen):,} of {len(gold):,} labels"
        f" ({len(chosen) / len(gold):.0%}), {share:.1%} right"
    )


def lexicon_predictions(name: str, texts: Sequence[str]) -> list[str]:
    return [found[0] for found in get_engine(name).predict(texts)]


def calibration(gold: Sequence[str], found: Sequence[tuple[str, float, float]]) -> list[str]:
    """Lines of the table: per confidence bin, how many labels and how many were right."""
    lines = []
    for low, high in pairwise(BINS):
        chosen = [(g, f) for g, f in zip(gold, found, strict=True) if low <= f[2] < high]
        right = sum(g == f[0] for g, f in chosen)
        share = f"{right / len(chosen):.3f}" if chosen else "  n/a"
        lines.append(f"  {low:.1f} - {min(high, 1.0):.1f}   {len(chosen):>6,}   {share}")
    return lines


def format_metrics(name: str, m: dict[str, Any]) -> str:
    r = m["recall"]
    return (
        f"  {name:10} {m['macro_recall']:.3f}   {r['negative']:.3f}   {r['neutral']:.3f}"
        f"   {r['positive']:.3f}   {m['macro_f1']:.3f}   {m['accuracy']:.3f}"
    )


def confusion_lines(matrix: dict[str, dict[str, int]]) -> list[str]:
    lines = ["  gold \\ predicted   negative   neutral  positive"]
    for g in ("negative", "neutral", "positive"):
        row = matrix[g]
        lines.append(f"  {g:17} {row['negative']:>9,} {row['neutral']:>9,} {row['positive']:>9,}")
    return lines


def time_split(rows: list[tuple[str, str]], featurizer: Featurizer, seed: int) -> dict[str, Any]:
    """Fit on all but the SemEval-2016 test rows and evaluate on them (the model is dropped)."""
    cut = len(rows) - TIME_SPLIT_ROWS
    cleaned = [(clean_text(text), tag) for tag, text in rows]
    train = [(t, g) for t, g in cleaned[:cut] if t]
    test = [(t, g) for t, g in cleaned[cut:] if t]
    order = np.random.default_rng(seed).permutation(len(train))
    train = [train[i] for i in order]
    model = fit(
        design([t for t, _ in train], featurizer),
        np.array([CLASSES.index(g) for _, g in train]),
        seed,
    )
    pred = model.predict(design([t for t, _ in test], featurizer))
    gold = [g for _, g in test]
    out = {"trained": metrics(gold, [CLASSES[p] for p in pred]), "train_rows": len(train)}
    for name in ("vader", "textblob"):
        out[name] = metrics(gold, lexicon_predictions(name, [t for t, _ in test]))
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the labelled TSV")
    parser.add_argument("--out", type=Path, default=MODEL_DIR, help="folder for the model")
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT, help="report file")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--time-split",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also fit and evaluate on the SemEval-2016 test rows (the model is not kept)",
    )
    args = parser.parse_args(argv)
    import sklearn
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # one core, and the same sums in the same order every run
    started = time.perf_counter()
    data_bytes = args.data.read_bytes()
    rows = read_rows(args.data)
    held = split_lines(len(rows), args.seed)
    cleaned = [(clean_text(text), tag) for tag, text in rows]
    train = [row for row, h in zip(cleaned, held, strict=True) if not h and row[0]]
    valid = [row for row, h in zip(cleaned, held, strict=True) if h and row[0]]
    empty = sum(1 for text, _ in cleaned if not text)
    order = np.random.default_rng(args.seed).permutation(len(train))
    train = [train[i] for i in order]
    print(f"{len(rows):,} lines: {len(train):,} training, {len(valid):,} validation, {empty} empty")

    lexicon, negations = vader_lexicon()
    featurizer = Featurizer(N_FEATURES, N_FEATURES, lexicon, negations)
    valid_texts = [t for t, _ in valid]
    reference = hashed_blocks(valid_texts)
    mine, _ = featurizer.transform(valid_texts)
    if abs(reference - mine).max() > 1e-6:
        raise SystemExit("the app's featurizer differs from scikit-learn's HashingVectorizer")

    model = fit(
        design([t for t, _ in train], featurizer),
        np.array([CLASSES.index(g) for _, g in train]),
        args.seed,
    )
    if tuple(CLASSES[i] for i in model.classes_) != CLASSES:
        raise SystemExit(f"unexpected classes {model.classes_}")
    coef = model.coef_
    arrays = {
        "word": coef[:, :N_FEATURES].T.astype(np.float16),
        "char": coef[:, N_FEATURES : 2 * N_FEATURES].T.astype(np.float16),
        "lexicon": coef[:, 2 * N_FEATURES :].T.astype(np.float32),
        "bias": model.intercept_.astype(np.float32),
    }
    blob = npz_bytes(arrays)
    header: dict[str, Any] = {
        "format": MODEL_FORMAT,
        "name": MODEL_NAME,
        "classes": list(CLASSES),
        "features": {
            "word": {
                "n_features": N_FEATURES,
                "ngram_range": list(WORD_NGRAMS),
                "token_pattern": TOKEN_PATTERN,
            },
            "char": {
                "n_features": N_FEATURES,
                "analyzer": "char_wb",
                "ngram_range": list(CHAR_NGRAMS),
            },
            "hashing": "sklearn HashingVectorizer: murmurhash3_32 seed 0, abs(h) % n, "
            "alternate_sign=False, lowercase; counts / sqrt(block total)",
            "lexicon": list(LEXICON_FEATURES),
        },
        "arrays": {key: [list(value.shape), str(value.dtype)] for key, value in arrays.items()},
        "lexicon_sha256": lexicon_digest(lexicon),
        "training": {
            "data": args.data.name,
            "data_sha256": hashlib.sha256(data_bytes).hexdigest(),
            "lines": len(rows),
            "rows": len(train),
            "seed": args.seed,
            "validation": {"kind": "random", "seed": args.seed, "fraction": VALIDATION_FRACTION},
            "model": f"LogisticRegression(C={C}, class_weight='balanced'), multinomial, lbfgs",
            "scikit_learn": sklearn.__version__,
        },
        "sha256": hashlib.sha256(blob).hexdigest(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{MODEL_NAME}.npz").write_bytes(blob)

    header_path = args.out / f"{MODEL_NAME}.json"
    header_path.write_text(json.dumps(header, indent=1) + "\n", encoding="utf-8")
    engine = TrainedEngine(args.out)  # evaluate the written files as the app reads them
    gold = [g for _, g in valid]
    found = engine.predict(valid_texts)
    results = {"trained": metrics(gold, [f[0] for f in found])}
    confident = [confident_line("trained", engine.confident_at, gold, found)]
    for name in ("vader", "textblob"):
        theirs = get_engine(name).predict(valid_texts)
        results[name] = metrics(gold, [f[0] for f in theirs])
        confident.append(confident_line(name, get_engine(name).confident_at, gold, theirs))
    header["validation"] = {
        name: {
            "n": m["n"],
            "macro_recall": round(m["macro_recall"], 4),
            "macro_f1": round(m["macro_f1"], 4),
            "accuracy": round(m["accuracy"], 4),
            "recall": {k: round(v, 4) for k, v in m["recall"].items()},
        }
        for name, m in results.items()
    }
    header_path.write_text(json.dumps(header, indent=1) + "\n", encoding="utf-8")
    later = time_split(rows, featurizer, args.seed) if args.time_split else None

    counts = {tag: sum(g == tag for g in gold) for tag in LABELS}
    head = f"  {'engine':10} macroR   recall: neg    neu      pos   macroF1  accuracy"
    lines = [
        "Sentiment engines on held-out tweets (written by scripts/train_sentiment.py)",
        "",
        f"Data: {args.data.name}, {len(rows):,} labelled English tweets (SemEval 2013-2016",
        "Twitter sentiment: Nakov et al. 2016, Rosenthal et al. 2015); texts cleaned by",
        f"clean_text; {empty} left empty (links or mentions only) are dropped.",
        f"Validation split: a random 10% of the lines (numpy default_rng seed {args.seed}),",
        f"{len(valid):,} tweets: {counts['negative']:,} negative, {counts['neutral']:,} neutral,"
        f" {counts['positive']:,} positive.",
        f"The trained model learnt from the other {len(train):,} (shuffled, seed {args.seed}).",
        f"Model: {header['training']['model']}; word 1-2-grams and char_wb 2-5-grams",
        f"hashed into 2 x {N_FEATURES:,} columns, plus 3 VADER-lexicon features.",
        f"File: {MODEL_NAME}.npz, {len(blob):,} bytes, sha256 {header['sha256'][:16]}...",
        "",
        "Validation split (every engine on the same tweets; a label is right or wrong):",
        head,
        *(format_metrics(name, results[name]) for name in ("trained", "vader", "textblob")),
        "",
        "Confusion matrix of the trained model on the validation split:",
        *confusion_lines(results["trained"]["confusion"]),
        "",
        "The trained model's confidence (probability of its label) on the validation split:",
        "  confidence   labels   share right",
        *calibration(gold, found),
        "",
        "Confident labels (the page's 'confident only' filter) on the validation split:",
        *confident,
    ]
    if later:
        lines += [
            "",
            f"Later tweets: a model with the same settings fitted on the first "
            f"{len(rows) - TIME_SPLIT_ROWS:,} lines",
            f"({later['train_rows']:,} with text) and evaluated on the last {TIME_SPLIT_ROWS:,} "
            "(the SemEval-2016 Task 4 test rows),",
            f"{later['trained']['n']:,} with text; that model is not kept:",
            head,
            *(format_metrics(name, later[name]) for name in ("trained", "vader", "textblob")),
        ]
    lines += ["", f"scikit-learn {sklearn.__version__}, numpy {np.__version__}."]
    args.report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    print(f"{time.perf_counter() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
