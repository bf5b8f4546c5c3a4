"""Text sentiment for unscored channels: VADER plus serviceloop's domain lexicon (DOMAIN §2, §4).

Structured scores are primary; this is the signal for social posts, emails and chats. The score is
VADER's compound (−1..+1). Two things are added to plain VADER, both read from the versioned lexicon
file in ``lexicon/``:

* **Words** (one token, e.g. ``outage``, ``down``, ``sorted``) are merged into VADER's lexicon and
  override VADER's own valence where both have one; valence 0 removes a word that is not a feeling
  in service text ("please", "support", "urgent").
* **Phrases** (a term with spaces, e.g. ``nobody told us``, ``still waiting``, ``up and running``).
  VADER splits on whitespace and scores single tokens, so it can never see them. The phrase pass
  rewrites each phrase found in the text (whole words, case-insensitive, any whitespace between
  the words, longest phrase first) into one token such as ``nobody_told_us`` that carries the
  phrase's valence. VADER then scores it like any word: it is summed with the others *before*
  normalisation (so a phrase moves the compound exactly as a word of that valence would) and
  VADER's negation, booster, "but" and capitals rules apply to it. A phrase of valence 0 is a
  *shield*: its token carries no valence, so the words inside it are not scored either ("calmed
  down" must not count as "down", "back up your files" must not count as anything).

One change to VADER's rules: negation, booster and "but" rules look back within the sentence only
(VADER's three-word window reaches across full stops: "…which never happens. Well done." negated
"well done"). The words' valences are still summed over the whole text and normalised once, with
VADER's punctuation emphasis, so a one-sentence text scores exactly as VADER would score it with
the same lexicon.

Change the lexicon or the phrase rules → bump ``_RULES_VERSION``: every stored score carries
``ANALYSER_VERSION``, so old and new scores can be told apart and recomputed.
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import metadata
from pathlib import Path
from typing import Any, Final

from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
    SentiText,
    allcap_differential,
    normalize,
    scalar_inc_dec,
)

LEXICON_PATH = Path(__file__).with_name("lexicon") / "serviceloop-v1.tsv"
LABELLED_FEEDBACK_PATH = Path(__file__).with_name("data") / "labelled_feedback.csv"

_RULES_VERSION = "sl-1"
ANALYSER_VERSION = f"vader-{metadata.version('vaderSentiment')}+{_RULES_VERSION}"

# The lexicon this version was measured with. A test compares it with the file, so that an edited
# lexicon cannot ship under an old ANALYSER_VERSION: bump _RULES_VERSION, then update this.
LEXICON_SHA256 = "bb59405f9ea0fd7f30abbafc8b1e2ede6e7f8c47eee25f183f2270ca230e1d71"

# Share of the labelled set held out from lexicon tuning (see is_held_out).
HELD_OUT_PERCENT = 30

_PHRASE_TOKEN_JOINER = "_"  # nosec B105  # joins words of a phrase, not a password
# Typographic apostrophes would hide negations ("don’t") from VADER's list, which has "don't".
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
# Where a sentence ends: after . ! or ? followed by whitespace, or at a line break.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n+")


class Label(StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


LABELS: tuple[Label, ...] = (Label.POSITIVE, Label.NEUTRAL, Label.NEGATIVE)


@dataclass(frozen=True)
class Thresholds:
    """Cut-offs on the compound score: positive ≥ ``positive``, negative ≤ ``negative``."""

    positive: float = 0.2
    negative: float = -0.2

    def __post_init__(self) -> None:
        if not -1.0 <= self.negative < self.positive <= 1.0:
            raise ValueError(
                "Thresholds need -1 <= negative < positive <= 1, "
                f"got negative={self.negative}, positive={self.positive}."
            )


# DOMAIN §2's cut-offs; the default of every ``thresholds`` argument.
DEFAULT_THRESHOLDS: Final = Thresholds()


@dataclass(frozen=True)
class SentimentResult:
    score: float
    label: Label
    version: str


@dataclass(frozen=True)
class ClassMetrics:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Evaluation:
    """How well predicted labels match the gold labels of a labelled set."""

    per_class: Mapping[Label, ClassMetrics]
    macro_f1: float
    accuracy: float
    # confusion[gold][predicted] = number of examples.
    confusion: Mapping[Label, Mapping[Label, int]]


@dataclass(frozen=True)
class DomainLexicon:
    """The parsed lexicon file: single-token words and multi-word phrases, each with a valence."""

    words: Mapping[str, float]
    phrases: Mapping[str, float]


def load_lexicon(path: Path = LEXICON_PATH) -> DomainLexicon:
    """Parse ``term<TAB>valence`` lines; ``#`` starts a comment line; a term with spaces is a phrase."""
    words: dict[str, float] = {}
    phrases: dict[str, float] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = raw.rstrip("\r\n").split("\t")
        if len(parts) != 2:
            raise ValueError(f"{path.name}:{number}: expected 'term<TAB>valence', got {raw!r}.")
        term = " ".join(parts[0].lower().translate(_APOSTROPHES).split())
        try:
            valence = float(parts[1])
        except ValueError:
            raise ValueError(f"{path.name}:{number}: valence {parts[1]!r} is not a number.") from None
        if not -4.0 <= valence <= 4.0:
            raise ValueError(f"{path.name}:{number}: valence {valence} is outside -4..+4.")
        target = phrases if " " in term else words
        if term in target:
            raise ValueError(f"{path.name}:{number}: {term!r} is listed twice.")
        target[term] = valence
    return DomainLexicon(words=words, phrases=phrases)


def lexicon_fingerprint(path: Path = LEXICON_PATH) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _phrase_token(phrase: str) -> str:
    return _PHRASE_TOKEN_JOINER.join(phrase.replace("'", "").split())


class _Analyser(SentimentIntensityAnalyzer):  # type: ignore[misc]  # vaderSentiment is untyped
    """VADER with the domain lexicon merged in and the phrase pass in front of it."""

    def __init__(self, lexicon: DomainLexicon) -> None:
        super().__init__()
        for word, valence in lexicon.words.items():
            # Valence 0 takes a word out of VADER's lexicon ("please", "support" are not feelings
            # in a service desk); kept in with 0 it would still pick up boosters and negations.
            if valence == 0:
                self.lexicon.pop(word, None)
            else:
                self.lexicon[word] = valence
        for phrase, valence in lexicon.phrases.items():
            # A shield's token stays out of VADER's lexicon: a token *in* the lexicon with
            # valence 0 would still pick up booster words ("very calmed_down" → positive).
            if valence != 0:
                self.lexicon[_phrase_token(phrase)] = valence
        # Whole words only: "no update" must not match inside "no updated" or "piano update".
        # Matching runs on the lower-cased text because re.IGNORECASE makes a pattern of this
        # size several times slower; the second pattern is for the rare text whose length
        # changes when lower-cased.
        self._phrase_pattern: re.Pattern[str] | None = None
        self._phrase_pattern_any_case: re.Pattern[str] | None = None
        if lexicon.phrases:
            # Not glued to a word, a contraction or a compound ("x-no update", "no update's"),
            # but quote marks around a phrase are fine ('still waiting').
            body = _phrase_regex(lexicon.phrases)
            pattern = rf"(?<!\w)(?<!\w['-]){body}(?!\w|['-]\w)"
            self._phrase_pattern = re.compile(pattern)
            self._phrase_pattern_any_case = re.compile(pattern, re.IGNORECASE)
        # Every emoji key is non-ASCII, so an ASCII text can skip VADER's per-character emoji scan.
        self._emoji_free_ascii = all(not emoji.isascii() for emoji in self.emojis)

    def rewrite_phrases(self, text: str) -> str:
        """``text`` with each phrase of the lexicon replaced by its one-token form."""
        if self._phrase_pattern is None or self._phrase_pattern_any_case is None:
            return text
        lowered = text.lower()
        if len(lowered) != len(text):
            return self._phrase_pattern_any_case.sub(_phrase_replacement, text)
        parts: list[str] = []
        end = 0
        for match in self._phrase_pattern.finditer(lowered):
            start = match.start()
            parts.append(text[end:start])
            parts.append(_phrase_token_as_written(text[start : match.end()]))
            end = match.end()
        if not parts:
            return text
        parts.append(text[end:])
        return "".join(parts)

    def compound(self, text: str) -> float:
        """VADER's compound score of ``text`` after the phrase pass, rules scoped to sentences."""
        text = text.translate(_APOSTROPHES)
        if not (self._emoji_free_ascii and text.isascii()):
            text = self._emojis_to_words(text)
        text = self.rewrite_phrases(text).strip()
        if not text:
            return 0.0
        words = text.split()
        # Capitals count as shouting relative to the whole text, as in VADER. (Stripping
        # punctuation, as VADER does next, cannot change whether a word is upper case.)
        is_cap_diff = allcap_differential(words)
        sentences = _SENTENCE_BREAK.split(text)
        if len(sentences) > 1:
            sentiments = []
            for sentence in sentences:
                sentiments.extend(self._sentence_sentiments(sentence.split(), is_cap_diff))
        else:
            sentiments = self._sentence_sentiments(words, is_cap_diff)
        if not sentiments:
            return 0.0
        # VADER's score_valence, compound only: sum, punctuation emphasis, normalise, round.
        total = float(sum(sentiments))
        emphasis = self._punctuation_emphasis(text)
        if total > 0:
            total += emphasis
        elif total < 0:
            total -= emphasis
        # "+ 0.0" turns a rounded -0.0 into 0.0, which would otherwise be written as "-0.0000".
        return round(float(normalize(total)), 4) + 0.0

    def _sentence_sentiments(self, raw_words: list[str], is_cap_diff: bool) -> list[float]:
        # VADER 3.3.2's per-word pass (polarity_scores → sentiment_valence → _but_check), run per
        # sentence because VADER's negation and booster windows look three words back across full
        # stops ("…which never happens. Well done." negated "well done").
        words = [_strip_punctuation(word) for word in raw_words]
        lower = [word.lower() for word in words]
        sentiments = [_word_valence(self.lexicon, words, lower, i, is_cap_diff) for i in range(len(words))]
        result: list[float] = self._but_check(words, sentiments)
        return result

    def _emojis_to_words(self, text: str) -> str:
        # VADER 3.3.2's emoji replacement from polarity_scores, unchanged in effect.
        parts: list[str] = []
        prev_space = True
        for char in text:
            if char in self.emojis:
                if not prev_space:
                    parts.append(" ")
                parts.append(self.emojis[char])
                prev_space = False
            else:
                parts.append(char)
                prev_space = char == " "
        return "".join(parts)


# VADER 3.3.2's rules for one word, re-written to lower-case each sentence once: VADER lower-cases
# the whole sentence again for every look-back, which makes it quadratic in sentence length. The
# logic, its order and its quirks are VADER's, line for line; tests compare the compound with
# VADER's polarity_scores on the labelled set and on thousands of generated word sequences.
_NEGATIONS = frozenset(NEGATE)
_strip_punctuation = SentiText._strip_punc_if_word


def _is_negation(word: str) -> bool:
    return word in _NEGATIONS or "n't" in word


def _word_valence(lexicon: Mapping[str, float], words: list[str], lower: list[str], i: int, is_cap_diff: bool) -> float:
    word = lower[i]
    # Boosters and "kind of" are modifiers, not sentiment words themselves.
    if word in BOOSTER_DICT or (word == "kind" and i < len(lower) - 1 and lower[i + 1] == "of"):
        return 0.0
    if word not in lexicon:
        return 0.0
    valence = lexicon[word]
    if word == "no" and i != len(lower) - 1 and lower[i + 1] in lexicon:
        valence = 0.0
    if (
        (i > 0 and lower[i - 1] == "no")
        or (i > 1 and lower[i - 2] == "no")
        or (i > 2 and lower[i - 3] == "no" and lower[i - 1] in ("or", "nor"))
    ):
        valence = lexicon[word] * N_SCALAR
    if words[i].isupper() and is_cap_diff:
        valence = valence + C_INCR if valence > 0 else valence - C_INCR
    for start_i in range(3):
        before = i - (start_i + 1)
        if before >= 0 and lower[before] not in lexicon:
            scalar = scalar_inc_dec(words[before], valence, is_cap_diff)
            if start_i == 1 and scalar != 0:
                scalar = scalar * 0.95
            if start_i == 2 and scalar != 0:
                scalar = scalar * 0.9
            valence = _negation_scaled(valence + scalar, lower, start_i, i)
            if start_i == 2:
                valence = _idiom_valence(valence, lower, i)
    return _least_scaled(valence, lexicon, lower, i)


def _negation_scaled(valence: float, lower: list[str], start_i: int, i: int) -> float:
    if start_i == 0:
        if _is_negation(lower[i - 1]):
            valence = valence * N_SCALAR
    elif start_i == 1:
        if lower[i - 2] == "never" and lower[i - 1] in ("so", "this"):
            valence = valence * 1.25
        elif lower[i - 2] == "without" and lower[i - 1] == "doubt":
            pass
        elif _is_negation(lower[i - 2]):
            valence = valence * N_SCALAR
    else:
        if (lower[i - 3] == "never" and lower[i - 2] in ("so", "this")) or lower[i - 1] in (
            "so",
            "this",
        ):
            valence = valence * 1.25
        elif lower[i - 3] == "without" and "doubt" in (lower[i - 2], lower[i - 1]):
            pass
        elif _is_negation(lower[i - 3]):
            valence = valence * N_SCALAR
    return valence


def _idiom_valence(valence: float, lower: list[str], i: int) -> float:
    one_zero = f"{lower[i - 1]} {lower[i]}"
    two_one_zero = f"{lower[i - 2]} {lower[i - 1]} {lower[i]}"
    two_one = f"{lower[i - 2]} {lower[i - 1]}"
    three_two_one = f"{lower[i - 3]} {lower[i - 2]} {lower[i - 1]}"
    three_two = f"{lower[i - 3]} {lower[i - 2]}"
    for sequence in (one_zero, two_one_zero, two_one, three_two_one, three_two):
        if sequence in SPECIAL_CASES:
            valence = SPECIAL_CASES[sequence]
            break
    if len(lower) - 1 > i:
        zero_one = f"{lower[i]} {lower[i + 1]}"
        if zero_one in SPECIAL_CASES:
            valence = SPECIAL_CASES[zero_one]
    if len(lower) - 1 > i + 1:
        zero_one_two = f"{lower[i]} {lower[i + 1]} {lower[i + 2]}"
        if zero_one_two in SPECIAL_CASES:
            valence = SPECIAL_CASES[zero_one_two]
    for n_gram in (three_two_one, three_two, two_one):
        if n_gram in BOOSTER_DICT:
            valence = valence + BOOSTER_DICT[n_gram]
    return valence


def _least_scaled(valence: float, lexicon: Mapping[str, float], lower: list[str], i: int) -> float:
    if i > 1 and lower[i - 1] not in lexicon and lower[i - 1] == "least":
        if lower[i - 2] != "at" and lower[i - 2] != "very":
            valence = valence * N_SCALAR
    elif i > 0 and lower[i - 1] not in lexicon and lower[i - 1] == "least":
        valence = valence * N_SCALAR
    return valence


def _phrase_replacement(match: re.Match[str]) -> str:
    return _phrase_token_as_written(match.group(0))


def _phrase_token_as_written(found: str) -> str:
    token = _phrase_token(found.lower())
    # Keep shouting visible to VADER's capitals rule ("NOBODY TOLD US").
    return token.upper() if found.isupper() else token


_END = ""  # marks, in the phrase trie, that a phrase may end at this word


def _phrase_regex(phrases: Iterable[str]) -> str:
    """One regular expression for all phrases, factored word by word as a trie.

    Python's ``re`` tries alternatives one by one; sharing prefixes ("still no", "still not",
    "still waiting") keeps it fast. At each word the longer continuation is tried first, so the
    longest phrase wins ("back up and running" over "back up").
    """
    trie: dict[str, dict[str, Any]] = {}
    for phrase in phrases:
        node = trie
        for word in phrase.split():
            node = node.setdefault(word, {})
        node[_END] = {}

    def alternatives(node: dict[str, dict[str, Any]]) -> str:
        words = sorted((word for word in node if word != _END), key=lambda w: (-len(w), w))
        return "(?:" + "|".join(re.escape(word) + continuation(node[word]) for word in words) + ")"

    def continuation(node: dict[str, dict[str, Any]]) -> str:
        if len(node) == 1 and _END in node:
            return ""
        rest = r"\s+" + alternatives({w: n for w, n in node.items() if w != _END})
        return f"(?:{rest})?" if _END in node else rest

    return alternatives(trie)


# One analyser per process, built on first use: it is read-only after construction and cheap to
# rebuild (two small files), so a lazy module-level cache is safe here even with many workers; two
# threads racing on the first call would at worst build it twice.
_analyser_cache: list[_Analyser] = []


def _analyser() -> _Analyser:
    if not _analyser_cache:
        _analyser_cache.append(_Analyser(load_lexicon()))
    return _analyser_cache[0]


def label_for(score: float, thresholds: Thresholds) -> Label:
    if score >= thresholds.positive:
        return Label.POSITIVE
    if score <= thresholds.negative:
        return Label.NEGATIVE
    return Label.NEUTRAL


def score_text(text: str, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> SentimentResult:
    """Score one text; empty or whitespace-only text is 0.0, neutral."""
    score = _analyser().compound(text)
    return SentimentResult(score=score, label=label_for(score, thresholds), version=ANALYSER_VERSION)


def score_texts(texts: Iterable[str], thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Iterator[SentimentResult]:
    """Score many texts lazily, in order, with the analyser looked up once."""
    compound = _analyser().compound
    version = ANALYSER_VERSION
    positive, negative = thresholds.positive, thresholds.negative
    for text in texts:
        score = compound(text)
        if score >= positive:
            label = Label.POSITIVE
        elif score <= negative:
            label = Label.NEGATIVE
        else:
            label = Label.NEUTRAL
        yield SentimentResult(score=score, label=label, version=version)


def evaluate_predictions(pairs: Iterable[tuple[Label, Label]]) -> Evaluation:
    """Evaluation of ``(gold, predicted)`` label pairs."""
    confusion: dict[Label, dict[Label, int]] = {g: dict.fromkeys(LABELS, 0) for g in LABELS}
    for gold, predicted in pairs:
        confusion[Label(gold)][Label(predicted)] += 1
    return _evaluation_from_confusion(confusion)


def _evaluation_from_confusion(confusion: dict[Label, dict[Label, int]]) -> Evaluation:
    total = sum(sum(row.values()) for row in confusion.values())
    per_class: dict[Label, ClassMetrics] = {}
    for label in LABELS:
        true_positives = confusion[label][label]
        predicted = sum(confusion[gold][label] for gold in LABELS)
        support = sum(confusion[label].values())
        # No prediction (or no example) of a class counts as 0, as scikit-learn's zero_division=0.
        precision = true_positives / predicted if predicted else 0.0
        recall = true_positives / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = ClassMetrics(precision, recall, f1, support)
    correct = sum(confusion[label][label] for label in LABELS)
    return Evaluation(
        per_class=per_class,
        macro_f1=sum(m.f1 for m in per_class.values()) / len(LABELS),
        accuracy=correct / total if total else 0.0,
        confusion=confusion,
    )


def evaluate(examples: Sequence[tuple[str, Label]], thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Evaluation:
    """Score each labelled text and compare the analyser's labels with the gold ones."""
    results = score_texts((text for text, _ in examples), thresholds)
    return evaluate_predictions(
        (Label(gold), result.label) for (_, gold), result in zip(examples, results, strict=True)
    )


# Candidate cut-offs for calibration: 0.05 … 0.75 on each side. Zero is left out on purpose:
# texts without any sentiment word score exactly 0.0 and must stay neutral.
_CALIBRATION_GRID: tuple[float, ...] = tuple(round(0.05 * step, 2) for step in range(1, 16))


def calibrate_thresholds(examples: Sequence[tuple[float, Label]], *, minimum: int = 30) -> Thresholds:
    """Cut-offs that maximise macro-F1 on staff-corrected examples ``(score, corrected label)``.

    Below ``minimum`` examples the defaults are kept: a handful of corrections must not move the
    cut-offs for everyone. Ties go to the pair closest to the defaults (sum of distances), then to
    the lower positive cut-off, so the result is deterministic.
    """
    default = DEFAULT_THRESHOLDS
    if len(examples) < minimum:
        return default
    scores_by_gold = {label: sorted(score for score, gold in examples if Label(gold) == label) for label in LABELS}
    best: tuple[float, float, float, float] | None = None  # (-macro_f1, distance, pos, neg)
    for positive in _CALIBRATION_GRID:
        for step in _CALIBRATION_GRID:
            negative = -step
            confusion: dict[Label, dict[Label, int]] = {}
            for gold, scores in scores_by_gold.items():
                n_positive = len(scores) - bisect.bisect_left(scores, positive)
                n_negative = bisect.bisect_right(scores, negative)
                confusion[gold] = {
                    Label.POSITIVE: n_positive,
                    Label.NEGATIVE: n_negative,
                    Label.NEUTRAL: len(scores) - n_positive - n_negative,
                }
            macro_f1 = round(_evaluation_from_confusion(confusion).macro_f1, 9)
            distance = round(abs(positive - default.positive) + abs(negative - default.negative), 9)
            candidate = (-macro_f1, distance, positive, negative)
            if best is None or candidate < best:
                best = candidate
    assert best is not None  # nosec B101  # narrows for mypy; the grid is never empty
    return Thresholds(positive=best[2], negative=best[3])


def load_labelled_feedback(path: Path = LABELLED_FEEDBACK_PATH) -> list[tuple[str, Label]]:
    """The labelled feedback set (CSV ``text,label``) that the analyser is measured on."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [(row["text"], Label(row["label"])) for row in csv.DictReader(handle)]


def is_held_out(text: str) -> bool:
    """Whether a labelled text belongs to the held-out part, never looked at when tuning.

    Decided by a hash of the text, so the split is stable across runs and machines and a new
    example never moves an old one to the other side.
    """
    bucket = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") % 100
    return bucket < HELD_OUT_PERCENT
