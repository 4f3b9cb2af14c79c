"""Sentiment of the connected account's posts: a trained model and two lexicon engines.

``trained`` is a linear classifier over hashed word and character n-grams plus three
lexicon features, trained on 44,527 labelled English tweets (SemEval 2013-2016) by
``scripts/train_sentiment.py``; its weights are ``app/analysis/models/sentiment-en.npz``
(plain arrays, no pickle) with ``sentiment-en.json`` describing them. It gives each post
the probabilities of negative, neutral and positive: the label is the most probable one,
the score is ``P(positive) - P(negative)`` and the confidence is the label's probability.

``vader`` scores with vaderSentiment's ``compound`` score, ``textblob`` with TextBlob's
pattern lexicon (``polarity``); both give a float in ``[-1, 1]`` that a threshold turns into
a label, and their confidence is a proxy (see :func:`lexicon_confidence`).

All three read English only. Each post's language is detected first (CLD2, through
``pycld2``: bundled data, no network); posts in other languages are *not scored (language)*
and counted per language, never labelled (see :func:`detect_language` for short posts).
Engine objects are made on first use and then reused.
"""

from __future__ import annotations

import hashlib
import heapq
import html
import json
import re
import string
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import mmh3
import numpy as np
import pycld2
from scipy.sparse import csr_matrix

from app.analysis.results import SentimentLanguage, SentimentMonth, SentimentResult
from app.networks.base import Post

#: Engine used when the caller does not choose one: the one with the best macro-recall on
#: the validation split (4,947 held-out SemEval tweets, ``docs/sentiment_report.txt``):
#: trained 0.687, VADER 0.557, TextBlob 0.486. ``docs/benchmarks.rst`` has every number.
DEFAULT_ENGINE = "trained"

#: VADER's published thresholds for its compound score.
VADER_THRESHOLD = 0.05
#: TextBlob polarity is exactly 0.0 for text with no lexicon words. In the benchmark the
#: macro-recall was 0.620 for "any non-zero", 0.617 at +-0.05, 0.616 at +-0.1, 0.608 at +-0.2:
#: +-0.05 costs nothing measurable, matches VADER's band, and keeps sentences whose positive
#: and negative words cancel out (averaged polarity near 0) neutral.
TEXTBLOB_THRESHOLD = 0.05

LABELS = ("positive", "neutral", "negative")
#: The trained model's classes, in the order of its weight columns.
CLASSES = ("negative", "neutral", "positive")

#: Where the trained model lives: ``<name>.npz`` (weights) and ``<name>.json`` (header).
MODEL_DIR = Path(__file__).resolve().parent / "models"
MODEL_NAME = "sentiment-en"
#: Version of the model file layout this code reads.
MODEL_FORMAT = 1

_TAG = re.compile(r"<[^>]*>")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_RT = re.compile(r"^\s*RT\b\s*(?:@[\w.]+(?:@[\w.-]+)?)?\s*:?", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@[\w.]+(?:@[\w-]+(?:\.[\w-]+)+)?")
_SPACE = re.compile(r"\s+")
#: Control characters and lone surrogates: CLD2 refuses them as invalid UTF-8, and mmh3
#: 5.3.1 crashes the interpreter on a lone surrogate, so they never get past cleaning.
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean_text(text: str | None) -> str:
    """Reduce a post to the words a sentiment engine should read.

    Strips HTML tags (Mastodon content is HTML) and then decodes entities, removes URLs,
    ``@mentions`` (also ``@user@instance``) and a leading ``RT @user:``, drops control
    characters and lone surrogates, and collapses whitespace. The trained model was trained
    on text cleaned by this same function, so mentions and links are masked (removed) the
    same way at training and at prediction time.

    :param text: raw post text; ``None`` is treated as empty.
    :returns: the cleaned text, possibly ``""``.
    """
    if not text:
        return ""
    # A pattern that needs a "<" or an "@" is not run over a text without one (most posts).
    out = _TAG.sub(" ", text) if "<" in text else text
    out = html.unescape(out)
    out = _URL.sub(" ", out)
    out = _RT.sub(" ", out)
    if "@" in out:
        out = _MENTION.sub(" ", out)
    out = _UNSAFE.sub(" ", out)
    return _SPACE.sub(" ", out).strip()


# --- Languages -------------------------------------------------------------------------

#: The language detector, as the page and the summary name it.
LANGUAGE_DETECTOR = "CLD2"
#: CLD2 codes that differ from ISO 639-1.
_CLD2_CODES = {"iw": "he", "jw": "jv"}
#: Names where CLD2's own would read badly ("ChineseT").
_NAMES = {"und": "Undetermined (not Latin script)", "zh-Hant": "Chinese (Traditional)"}


def _mostly_non_latin(text: str) -> bool:
    """Whether most letters of ``text`` are outside the Latin script."""
    latin = other = 0
    for char in text:
        if char.isalpha():
            code = ord(char)
            if code < 0x250 or 0x1E00 <= code <= 0x1EFF:
                latin += 1
            else:
                other += 1
    return other > latin


def detect_language(text: str) -> tuple[str, str, bool]:
    """The language of cleaned post text, by CLD2 (``pycld2``, data bundled, no network).

    CLD2 names a language only when it is sure of it (its *reliable* flag). Texts it cannot
    tell, mostly a few words long ("lol", "love it", "Thanks!"), are read as English when
    most of their letters are Latin (or they have none, like a row of emoji): an English
    engine then scores them, and the summary counts them as ``too_short``. Short texts
    mostly in another script (Cyrillic, Greek, Arabic...) that CLD2 cannot name are ``und``.

    :param text: text already passed through :func:`clean_text`.
    :returns: ``(code, name, sure)``: an ISO 639-1 code where one exists (CLD2's own code
        otherwise), the language's English name, and whether CLD2 was sure.
    """
    try:
        reliable, _, details = pycld2.detect(text)
    except pycld2.error:  # pragma: no cover - clean_text removes what CLD2 refuses
        reliable, details = False, ()
    if reliable and details and details[0][1] != "un":
        code = _CLD2_CODES.get(details[0][1], details[0][1])
        return code, _NAMES.get(code) or details[0][0].capitalize(), True
    if _mostly_non_latin(text):
        return "und", _NAMES["und"], False
    return "en", "English", False


# --- Engines -----------------------------------------------------------------------------


class SentimentEngine(Protocol):
    """A sentiment scorer for already-cleaned text."""

    name: str  #: the ``SENTIMENT_ENGINE`` value

    @property
    def title(self) -> str:
        """How pages name the engine."""
        ...

    @property
    def threshold(self) -> float | None:
        """Score band around 0 that is neutral; ``None`` when the label is the likeliest."""
        ...

    @property
    def languages(self) -> frozenset[str]:
        """The languages the engine reads (ISO 639-1)."""
        ...

    @property
    def confident_at(self) -> float:
        """Confidence from which a label counts as confident."""
        ...

    def score(self, text: str) -> float:
        """Score one text in ``[-1, 1]``."""
        ...

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float, float]]:
        """``(label, score, confidence)`` for each text, scores and confidences rounded."""
        ...


def lexicon_confidence(score: float, threshold: float) -> float:
    """The confidence proxy of a lexicon engine (VADER, TextBlob) for one score.

    These engines give no probability, so the proxy is the strength of the lexicon signal:
    ``|score|`` for a positive or negative label (a compound of +0.9 is a stronger call than
    +0.06), and ``1 - |score| / threshold`` for a neutral one (a score of exactly 0, no
    sentiment word at all, is the surest neutral). In ``[0, 1]``; not a probability.
    """
    strength = abs(score)
    if strength >= threshold:
        return round(min(1.0, strength), 4)
    return round(1.0 - strength / threshold, 4)


class _LexiconEngine:
    """Shared ``predict`` of the two lexicon engines."""

    name: str
    threshold: float
    languages = frozenset({"en"})
    #: ``|score|`` from which a positive or negative label counts as confident.
    confident_at = 0.5

    def score(self, text: str) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float, float]]:
        """Label, score and :func:`lexicon_confidence` of each text."""
        out = []
        for text in texts:
            value = round(self.score(text), 4)
            out.append((label(value, self.name), value, lexicon_confidence(value, self.threshold)))
        return out


class TextBlobEngine(_LexiconEngine):
    """TextBlob's pattern analyzer (``polarity``)."""

    name = "textblob"
    title = "TextBlob"
    threshold = TEXTBLOB_THRESHOLD

    def __init__(self) -> None:
        from textblob.en.sentiments import PatternAnalyzer

        self._analyzer = PatternAnalyzer()

    def score(self, text: str) -> float:
        """:returns: TextBlob polarity of ``text``, clamped to ``[-1, 1]``."""
        polarity = float(self._analyzer.analyze(text)[0])
        return max(-1.0, min(1.0, polarity))


class VaderEngine(_LexiconEngine):
    """vaderSentiment's ``compound`` score."""

    name = "vader"
    title = "VADER"
    threshold = VADER_THRESHOLD

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._analyzer = SentimentIntensityAnalyzer()

    def score(self, text: str) -> float:
        """:returns: VADER compound score of ``text``."""
        return float(self._analyzer.polarity_scores(text)["compound"])


# --- The trained model's features ----------------------------------------------------------

#: Word tokens: runs of word characters and apostrophes, or runs of other non-space
#: characters (punctuation, emoticons, emoji). Lowercased first.
TOKEN_PATTERN = r"(?u)[\w']+|[^\w\s]+"  # noqa: S105 - a regex, not a password
_TOKEN = re.compile(TOKEN_PATTERN)
#: Word n-grams (unigrams and bigrams) and character n-grams inside words (2 to 5
#: characters, the word padded with a space each side: scikit-learn's ``char_wb``).
WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (2, 5)
#: The three lexicon features: VADER-lexicon valences summed with VADER's negation and
#: capitals rules, as ``s / sqrt(s^2 + 15)`` (VADER's normalisation), and the positive and
#: negative shares of all words.
LEXICON_FEATURES = ("valence", "positive_share", "negative_share")
_NEGATION_SCALAR = -0.74  # VADER's N_SCALAR
_CAPS_INCREMENT = 0.733  # VADER's C_INCR
_NEGATION_REACH = 3  # a negation flips the valence of the next three words, as in VADER
_PUNCTUATION = string.punctuation


def hashed_index(feature: str, n_features: int) -> int:
    """The column of one n-gram: scikit-learn's ``FeatureHasher``/``HashingVectorizer``
    mapping, signed 32-bit MurmurHash3 of the UTF-8 bytes with seed 0, then
    ``abs(h) % n_features`` (for ``h = -2**31`` scikit-learn's special case gives the same
    column). The test suite checks equality with scikit-learn on sample texts.
    """
    return abs(mmh3.hash(feature, 0, True)) % n_features


def _hashed_indices(features: list[str], n_features: int) -> np.ndarray:
    """:func:`hashed_index` of many features at once."""
    hashes = np.fromiter(map(mmh3.hash, features), dtype=np.int64, count=len(features))
    return np.abs(hashes) % n_features


@cache
def _gram_slices(size: int) -> tuple[slice, ...]:
    """Where the :data:`CHAR_NGRAMS` of a padded word of ``size`` characters are."""
    out = []
    for n in range(CHAR_NGRAMS[0], CHAR_NGRAMS[1] + 1):
        if size <= n:  # a word no longer than n counts once, and longer n-grams not at all
            out.append(slice(0, size))
            break
        out.extend(slice(i, i + n) for i in range(size - n + 1))
    return tuple(out)


def _char_ngrams(low: str) -> list[str]:
    """scikit-learn's ``char_wb`` n-grams (:data:`CHAR_NGRAMS`) of one lowercased word."""
    padded = f" {low} "
    return list(map(padded.__getitem__, _gram_slices(len(padded))))


def _ones(rows: list[int], columns: list[int] | np.ndarray, shape: tuple[int, int]) -> csr_matrix:
    """A CSR matrix with ``1`` per ``(row, column)`` pair (repeated pairs add up)."""
    data = np.ones(len(columns), dtype=np.float32)
    matrix = csr_matrix(
        (data, (np.asarray(rows, dtype=np.int64), np.asarray(columns, dtype=np.int64))),
        shape=shape,
    )
    return matrix


@dataclass(slots=True)
class Batch:
    """A batch of texts broken into the pieces of the trained model's features.

    The hashed counts of the texts are ``posts @ word_ngrams + bigrams`` (word block) and
    ``posts @ char_ngrams`` (character block): ``posts`` counts each distinct word in each
    text, the other two hold each distinct word's n-grams, and ``bigrams`` the texts' word
    bigrams. :meth:`Featurizer.transform` multiplies them out; the engine multiplies the
    small matrices by the weights first, which gives the same scores far faster.
    """

    posts: csr_matrix  #: texts x distinct words
    word_ngrams: csr_matrix  #: distinct words x n_word (their word tokens)
    char_ngrams: csr_matrix  #: distinct words x n_char
    bigrams: csr_matrix  #: texts x n_word
    lexical: np.ndarray  #: texts x 3, :data:`LEXICON_FEATURES`

    def scales(self) -> tuple[np.ndarray, np.ndarray]:
        """Per text, ``1/sqrt(total count)`` of the word block and of the character block."""
        words = self.posts @ _row_sums(self.word_ngrams) + _row_sums(self.bigrams)
        chars = self.posts @ _row_sums(self.char_ngrams)
        return 1.0 / np.sqrt(np.maximum(words, 1.0)), 1.0 / np.sqrt(np.maximum(chars, 1.0))


def _row_sums(matrix: csr_matrix) -> np.ndarray:
    return np.asarray(matrix.sum(axis=1), dtype=np.float64).ravel()


class Featurizer:
    """Turns cleaned texts into the trained model's inputs, without scikit-learn.

    The hashed part equals scikit-learn's ``HashingVectorizer(n_features, lowercase=True,
    alternate_sign=False, norm=None)`` with ``token_pattern=TOKEN_PATTERN,
    ngram_range=WORD_NGRAMS`` (word block) and ``analyzer="char_wb",
    ngram_range=CHAR_NGRAMS`` (character block, columns after the word block); each block's
    counts are then divided by the square root of that block's total count in the text, so
    long and short posts weigh alike. Word tokens never cross whitespace, so everything but
    the word bigrams is computed once per distinct word of a batch.

    :param n_word: hashed columns for word n-grams.
    :param n_char: hashed columns for character n-grams.
    :param lexicon: word -> VADER valence (vaderSentiment's ``vader_lexicon.txt``).
    :param negations: VADER's negation words.
    """

    def __init__(
        self, n_word: int, n_char: int, lexicon: Mapping[str, float], negations: Iterable[str]
    ) -> None:
        self.n_word = n_word
        self.n_char = n_char
        self.lexicon = lexicon
        self.negations = frozenset(negations)

    def _lexical_word(self, raw: str, low: str) -> tuple[float | None, bool]:
        """A word's VADER valence (with VADER's capitals rule) and whether it negates."""
        key = low
        valence = self.lexicon.get(key)
        if valence is None:
            key = low.strip(_PUNCTUATION)
            valence = self.lexicon.get(key)
        if valence is not None and raw.isupper() and len(raw) > 1:
            valence += _CAPS_INCREMENT if valence > 0 else -_CAPS_INCREMENT
        return valence, key in self.negations or key.endswith("n't")

    def batch(self, texts: Sequence[str]) -> Batch:
        """Break ``texts`` into a :class:`Batch`."""
        split = [text.split() for text in texts]
        index: dict[str, int] = {}
        for words in split:
            for raw in words:
                if raw not in index:
                    index[raw] = len(index)
        n_words = len(index)
        tokens: list[list[str]] = []
        token_rows: list[int] = []
        token_flat: list[str] = []
        gram_rows: list[int] = []
        gram_flat: list[str] = []
        valence = np.zeros((n_words, 3))  # positive, negative (as a size), no valence
        negates = np.zeros(n_words, dtype=bool)
        valences: list[float | None] = []
        for row, raw in enumerate(index):
            low = raw.lower()
            found = _TOKEN.findall(low)
            tokens.append(found)
            token_flat.extend(found)
            token_rows.extend([row] * len(found))
            grams = _char_ngrams(low)
            gram_flat.extend(grams)
            gram_rows.extend([row] * len(grams))
            value, negates[row] = self._lexical_word(raw, low)
            valences.append(value)
            if value is None:
                valence[row, 2] = 1.0
            elif value > 0:
                valence[row, 0] = value
            else:
                valence[row, 1] = -value
        word_ngrams = _ones(
            token_rows, _hashed_indices(token_flat, self.n_word), (n_words, self.n_word)
        )
        char_ngrams = _ones(
            gram_rows, _hashed_indices(gram_flat, self.n_char), (n_words, self.n_char)
        )
        post_rows: list[int] = []
        post_cols: list[int] = []
        bigram_rows: list[int] = []
        bigram_flat: list[str] = []
        for row, words in enumerate(split):
            ids = [index[raw] for raw in words]
            post_cols.extend(ids)
            post_rows.extend([row] * len(ids))
            if len(ids) > 1 or (ids and len(tokens[ids[0]]) > 1):
                sequence = [token for i in ids for token in tokens[i]]
                pairs = list(map(" ".join, pairwise(sequence)))
                bigram_flat.extend(pairs)
                bigram_rows.extend([row] * len(pairs))
        posts = _ones(post_rows, post_cols, (len(texts), n_words))
        bigrams = _ones(
            bigram_rows, _hashed_indices(bigram_flat, self.n_word), (len(texts), self.n_word)
        )
        sums = posts @ valence
        negated = np.flatnonzero(posts @ negates)
        for row in negated.tolist():  # VADER's negation rule needs the word order
            sums[row] = self._negated_sums(split[row], index, valences, negates)
        return Batch(posts, word_ngrams, char_ngrams, bigrams, self._lexical(sums))

    @staticmethod
    def _negated_sums(
        words: list[str], index: dict[str, int], valences: list[float | None], negates: np.ndarray
    ) -> tuple[float, float, float]:
        """Positive and negative valence and plain words of a text with a negation word:
        a negation flips (times -0.74) the valence of each of the next three words."""
        positive = negative = plain = 0.0
        reach = 0
        for raw in words:
            i = index[raw]
            value = valences[i]
            if value is None:
                plain += 1
            else:
                if reach > 0:
                    value *= _NEGATION_SCALAR
                if value > 0:
                    positive += value
                else:
                    negative -= value
            reach = _NEGATION_REACH if negates[i] else reach - 1
        return positive, negative, plain

    @staticmethod
    def _lexical(sums: np.ndarray) -> np.ndarray:
        """:data:`LEXICON_FEATURES` from per-text positive, negative and plain sums."""
        positive, negative, plain = sums[:, 0], sums[:, 1], sums[:, 2]
        total = positive + negative + plain
        net = positive - negative
        out = np.zeros((len(sums), len(LEXICON_FEATURES)))
        some = total > 0
        out[some, 0] = net[some] / np.sqrt(net[some] ** 2 + 15)
        out[some, 1] = positive[some] / total[some]
        out[some, 2] = negative[some] / total[some]
        return out

    def transform(self, texts: Sequence[str]) -> tuple[csr_matrix, np.ndarray]:
        """The full feature matrices (what the model was trained on).

        :returns: ``(hashed, lexical)``: the ``len(texts) x (n_word + n_char)`` scaled
            hashed matrix and the ``len(texts) x 3`` array of :data:`LEXICON_FEATURES`.
        """
        from scipy.sparse import diags, hstack

        batch = self.batch(texts)
        words = batch.posts @ batch.word_ngrams + batch.bigrams
        chars = batch.posts @ batch.char_ngrams
        word_scale, char_scale = batch.scales()
        hashed = hstack([diags(word_scale) @ words, diags(char_scale) @ chars]).tocsr()
        return hashed, batch.lexical


def vader_lexicon() -> tuple[dict[str, float], list[str]]:
    """VADER's word valences and negation words, from the installed vaderSentiment."""
    from vaderSentiment.vaderSentiment import NEGATE, SentimentIntensityAnalyzer

    return dict(SentimentIntensityAnalyzer().lexicon), list(NEGATE)


def lexicon_digest(lexicon: Mapping[str, float]) -> str:
    """A SHA-256 of the lexicon, recorded in the model header and checked when loading."""
    text = "\n".join(f"{word}\t{value!r}" for word, value in sorted(lexicon.items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ModelError(RuntimeError):
    """The model file is missing, of another format, or does not match its header."""


def load_model(
    directory: Path = MODEL_DIR, name: str = MODEL_NAME
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read the trained model: a JSON header and an ``.npz`` of plain arrays.

    The arrays are read with ``allow_pickle=False``, so the file can hold numbers only.

    :returns: ``(header, arrays)`` with arrays ``word`` (``n_word x 3``), ``char``
        (``n_char x 3``), ``lexicon`` (``3 x 3``) and ``bias`` (``3``), all float32.
    :raises ModelError: when the files are missing, of another format, or their digest
        differs from the header's.
    """
    weights = directory / f"{name}.npz"
    try:
        header = json.loads((directory / f"{name}.json").read_text(encoding="utf-8"))
        blob = weights.read_bytes()
    except FileNotFoundError as exc:
        raise ModelError(f"sentiment model missing: {exc.filename}") from None
    if header.get("format") != MODEL_FORMAT:
        raise ModelError(f"sentiment model format {header.get('format')!r}, not {MODEL_FORMAT}")
    if hashlib.sha256(blob).hexdigest() != header.get("sha256"):
        raise ModelError(f"{weights.name} does not match the digest in {name}.json")
    with np.load(weights, allow_pickle=False) as data:
        arrays = {key: np.ascontiguousarray(data[key], dtype=np.float32) for key in data.files}
    return header, arrays


#: Texts the trained engine scores in one batch: 99,000 tweets in chunks of 5,000 add about
#: 80 MB to the peak memory (700 MB in one batch) and run 40% slower than in one batch.
CHUNK = 5000


class TrainedEngine:
    """The trained linear model (see the module docstring and ``scripts/train_sentiment.py``).

    :param directory: folder holding the model files (default :data:`MODEL_DIR`).
    """

    name = "trained"
    title = "the trained model"
    threshold: float | None = None
    languages = frozenset({"en"})
    #: Labels with a probability of at least this count as confident. On the validation
    #: split 39% of labels reach it, and 82.7% of those are right (67.8% of all labels are).
    confident_at = 0.7

    def __init__(self, directory: Path = MODEL_DIR) -> None:
        header, arrays = load_model(directory)
        lexicon, negations = vader_lexicon()
        if header["lexicon_sha256"] != lexicon_digest(lexicon):
            raise ModelError("the installed VADER lexicon is not the one the model learnt")
        if tuple(header["classes"]) != CLASSES:
            raise ModelError(f"unexpected classes {header['classes']}")
        features = header["features"]
        self.header = header
        self.featurizer = Featurizer(
            features["word"]["n_features"], features["char"]["n_features"], lexicon, negations
        )
        self._word = arrays["word"].astype(np.float64)
        self._char = arrays["char"].astype(np.float64)
        self._lexical = arrays["lexicon"].astype(np.float64)
        self._bias = arrays["bias"].astype(np.float64)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """``len(texts) x 3`` probabilities of :data:`CLASSES` (softmax of the scores)."""
        if not texts:
            return np.zeros((0, len(CLASSES)))
        batch = self.featurizer.batch(texts)
        word_scale, char_scale = batch.scales()
        per_word = batch.word_ngrams @ self._word
        logits = (batch.posts @ per_word + batch.bigrams @ self._word) * word_scale[:, None]
        logits += (batch.posts @ (batch.char_ngrams @ self._char)) * char_scale[:, None]
        logits += batch.lexical @ self._lexical + self._bias
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        return logits

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float, float]]:
        """Most probable label, ``P(positive) - P(negative)`` and the label's probability.

        Texts are scored :data:`CHUNK` at a time, which bounds the memory of a big import.
        """
        if len(texts) > CHUNK:
            return [
                found
                for start in range(0, len(texts), CHUNK)
                for found in self.predict(texts[start : start + CHUNK])
            ]
        probs = self.probabilities(texts)
        best = probs.argmax(axis=1)
        scores = np.round(probs[:, 2] - probs[:, 0], 4)
        confidence = np.round(probs.max(axis=1), 4)
        return [
            (CLASSES[b], s, c)
            for b, s, c in zip(best.tolist(), scores.tolist(), confidence.tolist(), strict=True)
        ]

    def score(self, text: str) -> float:
        """:returns: ``P(positive) - P(negative)`` for one text."""
        return self.predict([text])[0][1]


_ENGINE_CLASSES: dict[str, type[TextBlobEngine] | type[VaderEngine] | type[TrainedEngine]] = {
    "trained": TrainedEngine,
    "vader": VaderEngine,
    "textblob": TextBlobEngine,
}
ENGINES = tuple(_ENGINE_CLASSES)
_engines: dict[str, SentimentEngine] = {}


def get_engine(name: str) -> SentimentEngine:
    """Return the shared engine called ``name``, creating it on first use.

    :param name: ``"trained"``, ``"vader"`` or ``"textblob"``.
    :returns: the engine.
    :raises ValueError: for an unknown engine name.
    """
    engine = _engines.get(name)
    if engine is None:
        try:
            cls = _ENGINE_CLASSES[name]
        except KeyError:
            raise ValueError(f"unknown sentiment engine {name!r}; use one of {ENGINES}") from None
        engine = _engines[name] = cls()
    return engine


def label(score: float, engine: str = "vader") -> str:
    """Turn a lexicon engine's score into ``positive``, ``neutral`` or ``negative``.

    :param score: a score from ``engine``.
    :param engine: ``"vader"`` or ``"textblob"``, which sets the threshold (+-0.05 for both).
    :returns: the label; scores exactly at the threshold are positive/negative.
    """
    threshold = VADER_THRESHOLD if engine == "vader" else TEXTBLOB_THRESHOLD
    if score >= threshold:
        return "positive"
    if score <= -threshold:
        return "negative"
    return "neutral"


# --- Analysis ------------------------------------------------------------------------------


def _excerpt(text: str, limit: int = 140) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


@dataclass(slots=True)
class _Read:
    """One post after cleaning and language detection."""

    post: Post
    period: str
    text: str
    language: str  #: "" for a post without text
    scored: bool
    unsure: bool


#: Posts read, cleaned and scored at a time: memory follows this, not the account's size.
POSTS_BATCH = 10_000


def _read_posts(
    posts: Iterable[Post], zone: ZoneInfo, readable: frozenset[str], names: dict[str, str]
) -> list[_Read]:
    """Clean each post and detect its language; ``names`` gets each code's language name."""
    reads = []
    languages: dict[str, tuple[str, str, bool]] = {}
    for post in posts:
        local = post.created_at.astimezone(zone)
        period = f"{local.year:04d}-{local.month:02d}"
        text = clean_text(post.text)
        if not text:
            reads.append(_Read(post, period, text, "", False, False))
            continue
        found = languages.get(text)
        if found is None:
            found = languages[text] = detect_language(text)
        code, name, sure = found
        names[code] = name
        reads.append(_Read(post, period, text, code, code in readable, not sure))
    return reads


def _batches(posts: Iterable[Post], size: int) -> Iterator[list[Post]]:
    batch: list[Post] = []
    for post in posts:
        batch.append(post)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass(slots=True)
class _Chosen:
    """A post in the heap of the five most positive (or negative); the worst on top."""

    key: tuple[float, str]  #: smaller is better: (-score or score, id)
    item: dict[str, Any]

    def __lt__(self, other: _Chosen) -> bool:
        return self.key > other.key


class _Summary:
    """The counts of :func:`analyse_sentiment`, added up one batch of posts at a time."""

    def __init__(self) -> None:
        self.total = self.scored = self.no_text = self.too_short = 0
        self.score_sum = 0.0
        self.counts: Counter[str] = Counter()
        self.left_out: Counter[str] = Counter()
        self.names: dict[str, str] = {}
        self.months: dict[str, Counter[str]] = defaultdict(Counter)
        self.month_sums: dict[str, float] = defaultdict(float)
        self.best: dict[str, list[_Chosen]] = {"positive": [], "negative": []}

    def add(self, reads: Sequence[_Read], found: Mapping[str, tuple[str, float, float]]) -> None:
        for read in reads:
            self.total += 1
            month = self.months[read.period]
            if not read.text:
                self.no_text += 1
                month["no_text"] += 1
                continue
            if not read.scored:
                self.left_out[read.language] += 1
                month["not_scored"] += 1
                continue
            tag, value, confidence = found[read.text]
            self.scored += 1
            self.too_short += read.unsure
            self.counts[tag] += 1
            self.score_sum += value
            month[tag] += 1
            self.month_sums[read.period] += value
            if tag in self.best:
                self._keep(tag, read, value, confidence)

    def _keep(self, tag: str, read: _Read, value: float, confidence: float) -> None:
        key = (-value if tag == "positive" else value, read.post.external_id)
        heap = self.best[tag]
        if len(heap) == 5 and not key < heap[0].key:
            return
        chosen = _Chosen(
            key,
            {
                "id": read.post.external_id,
                "text": _excerpt(read.text),
                "score": value,
                "label": tag,
                "confidence": confidence,
                "url": read.post.url,
                "created_at": read.post.created_at.isoformat(),
            },
        )
        if len(heap) < 5:
            heapq.heappush(heap, chosen)
        else:
            heapq.heapreplace(heap, chosen)

    def top(self, tag: str) -> list[dict[str, Any]]:
        """The five posts labelled ``tag`` with the highest (positive) or lowest scores."""
        return [chosen.item for chosen in sorted(self.best[tag], key=lambda c: c.key)]

    def by_month(self) -> list[SentimentMonth]:
        """Labels, posts left out and the mean score per month."""
        out: list[SentimentMonth] = []
        for period in sorted(self.months):
            row = self.months[period]
            n = row["positive"] + row["neutral"] + row["negative"]
            out.append(
                {
                    "period": period,
                    "positive": row["positive"],
                    "neutral": row["neutral"],
                    "negative": row["negative"],
                    "no_text": row["no_text"],
                    "not_scored": row["not_scored"],
                    "mean_score": round(self.month_sums[period] / n, 4) if n else None,
                }
            )
        return out


def analyse_sentiment(
    posts: Iterable[Post],
    engine: SentimentEngine | str = DEFAULT_ENGINE,
    tz: str = "UTC",
    *,
    per_post: MutableMapping[str, tuple[str, float]] | None = None,
) -> tuple[MutableMapping[str, tuple[str, float]], SentimentResult]:
    """Label every post the engine can read and summarise the labels.

    Posts whose cleaned text is empty (pure reposts, bare links) are counted as ``no_text``;
    posts in a language the engine does not read are counted as ``not_scored``, per
    language. Neither kind gets a label (they are not neutral), and both are left out of
    counts, shares and means, which are over scored posts only. The posts are read once,
    :data:`POSTS_BATCH` at a time, so a spooled million of them
    (:class:`~app.networks.base.PostSpool`) never sits in memory.

    :param posts: the posts to score.
    :param engine: an engine or its name.
    :param tz: time zone for the monthly trend.
    :param per_post: where to keep each scored post's label (a spool's own
        :attr:`~app.networks.base.PostSpool.labels`, say); a new dict by default.
    :returns: ``(per_post, summary)``: ``per_post`` maps the id of each scored post to
        ``(label, score)``; ``summary`` is a :class:`~app.analysis.results.SentimentResult`:
        ``{"engine", "engine_title", "threshold", "total", "scored", "no_text",
        "not_scored", "languages", "counts", "shares", "mean_score", "by_month",
        "confident_at", "most_positive", "most_negative"}`` where the last two hold up to 5
        ``{"id", "text", "score", "label", "confidence", "url", "created_at"}``.
    """
    eng = get_engine(engine) if isinstance(engine, str) else engine
    labels: MutableMapping[str, tuple[str, float]] = {} if per_post is None else per_post
    zone = ZoneInfo(tz)
    summary = _Summary()
    for batch in _batches(posts, POSTS_BATCH):
        reads = _read_posts(batch, zone, eng.languages, summary.names)
        distinct = list(dict.fromkeys(read.text for read in reads if read.scored))
        found = dict(zip(distinct, eng.predict(distinct), strict=True))
        for read in reads:
            if read.scored:
                tag, value, _ = found[read.text]
                labels[read.post.external_id] = (tag, value)
        summary.add(reads, found)
    by_language: list[SentimentLanguage] = [
        {"code": code, "name": summary.names[code], "posts": n}
        for code, n in sorted(summary.left_out.items(), key=lambda item: (-item[1], item[0]))
    ]
    n_scored, counts = summary.scored, summary.counts
    result: SentimentResult = {
        "engine": eng.name,
        "engine_title": eng.title,
        "threshold": eng.threshold,
        "total": summary.total,
        "scored": n_scored,
        "no_text": summary.no_text,
        "not_scored": sum(summary.left_out.values()),
        "languages": {
            "detector": LANGUAGE_DETECTOR,
            "reads": sorted(eng.languages),
            "too_short": summary.too_short,
            "not_scored": by_language,
        },
        "counts": {tag: counts[tag] for tag in LABELS},
        "shares": {tag: (round(counts[tag] / n_scored, 4) if n_scored else None) for tag in LABELS},
        "mean_score": round(summary.score_sum / n_scored, 4) if n_scored else None,
        "by_month": summary.by_month(),
        "confident_at": eng.confident_at,
        "most_positive": summary.top("positive"),
        "most_negative": summary.top("negative"),
    }
    return labels, result
