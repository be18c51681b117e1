"""Finding offers by what people type, in any language and script.

Texts and queries are normalised the same way (case, umlauts and their ae/oe/ue spellings, accents,
Arabic letter variants and vowel marks, Persian/Arabic yeh and kaf), split into words, and matched
exactly, by prefix, inside compounds ("kurs" in "deutschkurs"), as joined words ("Deutsch Kurs" →
"deutschkurs") and with small typos (edit distance 1, or 2 for long words).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 8
MIN_SCORE = 0.5
_WORD = re.compile(r"\w+")
_TRANSLITERATE = str.maketrans(
    {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "ß": "ss",
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ی": "ي",
        "ئ": "ي",
        "ؤ": "و",
        "ة": "ه",
        "ک": "ك",
        "ـ": None,
        "\u200c": None,
        "\u200f": None,
    }
)
# Words that say nothing about what someone looks for; a query of only these matches nothing.
STOP_WORDS = frozenset(
    (
        "hello hallo hi hey salam merhaba مرحبا سلام привет привіт "
        "a an and the for of in to with on at is are i me my need want find help "
        "der die das ein eine und fuer mit von zu im in am ich suche brauche "
        "и в на для по с я мне нужен нужна ищу і мені шукаю потрібен "
        "في من الى على و ل عن انا اريد ابحث "
        "در از به با برای را "
        "ve ile icin bir bu ben"
    ).split()
)


def normalize(text: str) -> str:
    """Fold a text so that spellings people consider the same compare equal."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_TRANSLITERATE)
    decomposed = unicodedata.normalize("NFD", folded)
    return "".join(char for char in decomposed if unicodedata.category(char) != "Mn")


def words(text: str) -> list[str]:
    """The normalised words of a text that are worth indexing."""
    return [word for word in _WORD.findall(normalize(text)) if len(word) > 1 or not word.isascii()]


def query_words(query: str) -> list[str]:
    """The meaningful words of a search query, at most ``MAX_QUERY_WORDS``."""
    meaningful = [word for word in words(query[:MAX_QUERY_CHARS]) if word not in STOP_WORDS]
    return meaningful[:MAX_QUERY_WORDS]


@dataclass
class SearchIndex:
    """Inverted index from normalised words (and joined neighbouring words) to offer ids.

    Postings are tuples of ints, which CPython's garbage collector does not track: a large index
    then costs nothing on every collection."""

    postings: dict[str, tuple[int, ...]] = field(default_factory=dict)
    vocabulary: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, documents: Iterable[tuple[int, str]]) -> SearchIndex:
        """An index of (offer id, text) documents."""
        building: dict[str, set[int]] = defaultdict(set)
        for offer_id, text in documents:
            tokens = words(text)
            for token in tokens:
                building[token].add(offer_id)
            for first, second in itertools.pairwise(tokens):
                building[first + second].add(offer_id)
        postings = {token: tuple(sorted(ids)) for token, ids in building.items()}
        return cls(postings=postings, vocabulary=list(postings))

    def _matches(self, word: str) -> dict[int, float]:
        """Offer ids matching one query word, with how well (1.0 exact … 0.5 loose)."""
        scores: dict[int, float] = {}

        def credit(token: str, score: float) -> None:
            for offer_id in self.postings.get(token, ()):
                if scores.get(offer_id, 0.0) < score:
                    scores[offer_id] = score

        credit(word, 1.0)
        if len(word) >= 3:
            for token in self.vocabulary:
                if token != word and word in token:
                    credit(token, 0.85 if token.startswith(word) else 0.7)
        # One typo from four letters on (three in scripts whose letters are syllables or
        # consonants, such as Ge'ez and Arabic), two from eight.
        if len(word) >= 4 or (len(word) == 3 and not word.isascii()):
            allowed = 1 if len(word) < 8 else 2
            for token, distance, _ in process.extract(
                word, self.vocabulary, scorer=Levenshtein.distance, score_cutoff=allowed, limit=None
            ):
                if distance:
                    credit(token, 0.75 if distance == 1 else 0.6)
        return scores

    def search(self, query: str) -> list[tuple[int, float]]:
        """Offer ids best first, with a score between 0.5 and 1."""
        terms = query_words(query)
        if not terms:
            return []
        interpretations = [terms]
        if len(terms) > 1:
            interpretations.append(["".join(terms)])
        best: dict[int, float] = {}
        for interpretation in interpretations:
            totals: dict[int, float] = defaultdict(float)
            for term in interpretation:
                for offer_id, score in self._matches(term).items():
                    totals[offer_id] += score / len(interpretation)
            for offer_id, score in totals.items():
                best[offer_id] = max(best.get(offer_id, 0.0), score)
        ranked = [(offer_id, score) for offer_id, score in best.items() if score >= MIN_SCORE]
        return sorted(ranked, key=lambda pair: (-pair[1], pair[0]))
