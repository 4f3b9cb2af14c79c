"""The committed sentiment model: its files, its features, and its answers on fixed sentences.

The sentences are made up for this test (no training tweets). A retrained model or a
changed featurizer changes the pinned numbers: update them together with the model, from
``scripts/train_sentiment.py``'s run, and say so in the commit.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from app.analysis import sentiment
from app.analysis.sentiment import (
    CHAR_NGRAMS,
    CLASSES,
    MODEL_DIR,
    MODEL_NAME,
    TOKEN_PATTERN,
    WORD_NGRAMS,
    Featurizer,
    ModelError,
    TrainedEngine,
    get_engine,
    hashed_index,
    load_model,
    vader_lexicon,
)

#: (text, label, score = P(positive) - P(negative), confidence = P(label)).
PINNED = [
    ("I love this, it is wonderful!", "positive", 0.992, 0.9943),
    ("This is terrible and I hate it.", "negative", -0.996, 0.9971),
    ("The meeting is on Tuesday.", "neutral", 0.3385, 0.5184),
    ("Not good at all", "negative", -0.912, 0.945),
    ("great :)", "positive", 0.9993, 0.9996),
    ("worst day ever :(", "negative", -0.9995, 0.9997),
    ("Our new espresso machine makes the best coffee I have ever had", "positive", 0.9184, 0.9382),
    (
        "The train was late again and nobody told us anything, so annoying",
        "negative",
        -0.9108,
        0.9242,
    ),
    ("The library opens at nine tomorrow morning.", "neutral", 0.1499, 0.7553),
    ("I don't think the update is bad at all", "negative", -0.9259, 0.9309),
    ("Can't wait to see everyone at the picnic on Saturday!!", "positive", 0.94, 0.9505),
    ("My laptop died in the middle of the presentation. Brilliant.", "negative", -0.351, 0.6214),
    ("Thanks so much for the lovely flowers", "positive", 0.9373, 0.9572),
    ("The report has 12 pages and three tables.", "neutral", -0.1318, 0.67),
]

#: Texts for the featurizer checks: case, punctuation runs, emoji, accents, repeated
#: n-grams, one-letter and long words, negations, empty text.
FEATURE_TEXTS = [
    "",
    "x",
    "a b",
    "I don't like it, NOT AT ALL!!!!",
    "Gas by my house hit $3.39!!!! I\u2019m going to Chapel Hill on Sat. :)",
    "\U0001f600\U0001f600 great \u2764\ufe0f",
    "na\u00efve caf\u00e9 cr\u00e8me br\u00fbl\u00e9e",
    "aaaaaaaa ababab lol lol lol",
    "never happy, never sad, wasn't bad",
    "Supercalifragilisticexpialidocious words are long",
    "tabs\tand\nnewlines  and   spaces",
]


@pytest.fixture(scope="module")
def engine() -> TrainedEngine:
    found = get_engine("trained")
    assert isinstance(found, TrainedEngine)
    return found


def test_pinned_sentences(engine: TrainedEngine) -> None:
    found = engine.predict([text for text, *_ in PINNED])
    assert found == [(tag, score, confidence) for _, tag, score, confidence in PINNED]


def test_pinned_sentences_one_at_a_time(engine: TrainedEngine) -> None:
    """A text scores the same alone as in a batch (per-batch caches change nothing)."""
    for text, _, score, _ in PINNED[:4]:
        assert engine.score(text) == score


def test_chunks_give_the_same_answers(engine: TrainedEngine, monkeypatch) -> None:
    """Big batches are scored in chunks (bounded memory); the answers do not change."""
    texts = [text for text, *_ in PINNED]
    whole = engine.predict(texts)
    monkeypatch.setattr(sentiment, "CHUNK", 4)
    assert engine.predict(texts) == whole


def test_probabilities_are_a_distribution(engine: TrainedEngine) -> None:
    probs = engine.probabilities([text for text, *_ in PINNED])
    assert probs.shape == (len(PINNED), 3)
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert engine.probabilities([]).shape == (0, 3)


def test_model_files_are_plain_arrays_and_a_json_header() -> None:
    weights = MODEL_DIR / f"{MODEL_NAME}.npz"
    header = json.loads((MODEL_DIR / f"{MODEL_NAME}.json").read_text(encoding="utf-8"))
    assert weights.stat().st_size < 4_000_000
    assert header["format"] == 1 and tuple(header["classes"]) == CLASSES
    assert header["sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert header["features"]["word"]["token_pattern"] == TOKEN_PATTERN
    assert tuple(header["features"]["word"]["ngram_range"]) == WORD_NGRAMS
    assert tuple(header["features"]["char"]["ngram_range"]) == CHAR_NGRAMS
    assert header["training"]["validation"] == {"kind": "random", "seed": 13, "fraction": 0.1}
    with zipfile.ZipFile(weights) as archive:
        assert sorted(archive.namelist()) == ["bias.npy", "char.npy", "lexicon.npy", "word.npy"]
    with np.load(weights, allow_pickle=False) as data:  # numbers only: no pickled objects
        n_word = header["features"]["word"]["n_features"]
        n_char = header["features"]["char"]["n_features"]
        assert data["word"].shape == (n_word, 3) and data["word"].dtype == np.float16
        assert data["char"].shape == (n_char, 3) and data["char"].dtype == np.float16
        assert data["lexicon"].shape == (3, 3) and data["bias"].shape == (3,)
        for key in data.files:
            assert data[key].dtype != object
            assert list(data[key].shape) == header["arrays"][key][0]


def test_load_model_refuses_a_changed_or_missing_file(tmp_path: Path) -> None:
    for suffix in (".npz", ".json"):
        shutil.copy(MODEL_DIR / f"{MODEL_NAME}{suffix}", tmp_path / f"{MODEL_NAME}{suffix}")
    header, arrays = load_model(tmp_path)
    assert set(arrays) == {"word", "char", "lexicon", "bias"}
    assert all(array.dtype == np.float32 for array in arrays.values())
    blob = bytearray((tmp_path / f"{MODEL_NAME}.npz").read_bytes())
    blob[-100] ^= 0xFF
    (tmp_path / f"{MODEL_NAME}.npz").write_bytes(bytes(blob))
    with pytest.raises(ModelError, match="does not match the digest"):
        load_model(tmp_path)
    (tmp_path / f"{MODEL_NAME}.json").write_text(json.dumps({**header, "format": 99}))
    with pytest.raises(ModelError, match="format 99"):
        load_model(tmp_path)
    with pytest.raises(ModelError, match="missing"):
        TrainedEngine(tmp_path / "nowhere")


def test_fast_scores_equal_the_full_feature_matrix(engine: TrainedEngine) -> None:
    """The engine multiplies small per-word matrices first; the result is the same as the
    full hashed matrix the model was trained on, times the weights."""
    texts = FEATURE_TEXTS + [text for text, *_ in PINNED]
    hashed, lexical = engine.featurizer.transform(texts)
    _, arrays = load_model()
    weights = np.vstack([arrays["word"], arrays["char"]]).astype(np.float64)
    logits = hashed @ weights + lexical @ arrays["lexicon"] + arrays["bias"]
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    assert np.allclose(engine.probabilities(texts), probs, atol=1e-9)


def test_lexicon_features_follow_vader_rules() -> None:
    lexicon, negations = vader_lexicon()
    featurizer = Featurizer(16, 16, lexicon, negations)
    lexical = featurizer.transform(["good", "not good", "GOOD", "table chair", ""])[1]
    good = lexicon["good"]
    assert lexical[0, 0] == pytest.approx(good / np.sqrt(good**2 + 15))
    assert lexical[0, 1] == 1.0 and lexical[0, 2] == 0.0
    assert lexical[1, 0] == pytest.approx(-0.74 * good / np.sqrt((0.74 * good) ** 2 + 15))
    assert lexical[1, 2] == pytest.approx(0.74 * good / (0.74 * good + 1))  # "not" is plain
    assert lexical[2, 0] > lexical[0, 0]  # capitals add emphasis, as in VADER
    assert lexical[3].tolist() == [0.0, 0.0, 0.0]
    assert lexical[4].tolist() == [0.0, 0.0, 0.0]


def test_hashing_equals_scikit_learn() -> None:
    """The app's featurizer gives exactly scikit-learn's HashingVectorizer counts (what
    ``scripts/train_sentiment.py`` trains on), scaled per block."""
    pytest.importorskip("sklearn")
    from scipy.sparse import diags, hstack
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.utils import murmurhash3_32

    n = 2**18
    for feature in ("hello", " :) ", "caf\u00e9 \U0001f600", "", "a b"):
        assert hashed_index(feature, n) == abs(murmurhash3_32(feature, seed=0)) % n
        assert hashed_index(feature, 1000) == abs(murmurhash3_32(feature, seed=0)) % 1000
    common = {"n_features": n, "alternate_sign": False, "norm": None, "lowercase": True}
    words = HashingVectorizer(token_pattern=TOKEN_PATTERN, ngram_range=WORD_NGRAMS, **common)
    chars = HashingVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS, **common)
    blocks = []
    for vectorizer in (words, chars):
        counts = vectorizer.transform(FEATURE_TEXTS).astype(np.float64)
        total = np.asarray(counts.sum(axis=1)).ravel()
        blocks.append(diags(1.0 / np.sqrt(np.maximum(total, 1.0))) @ counts)
    reference = hstack(blocks).tocsr()
    lexicon, negations = vader_lexicon()
    mine, _ = Featurizer(n, n, lexicon, negations).transform(FEATURE_TEXTS)
    assert mine.shape == reference.shape
    assert abs(mine - reference).max() < 1e-6
    assert mine.nnz == reference.nnz
