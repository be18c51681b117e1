"""Finding offers by what people type, in any language and script.

Texts and queries are normalised the same way (case, umlauts and their ae/oe/ue spellings, accents,
Arabic letter variants and vowel marks, Persian/Arabic yeh and kaf, the Arabic article), split into
words, and stop words of all ten languages are dropped from queries. Each remaining word is matched
exactly, by prefix, by a shared stem ("немецкого" → "немецкий"), inside compounds ("kurs" in
"deutschkurs"), as joined neighbours ("Deutsch Kurs" → "deutschkurs") and with small typos (edit
distance 1, or 2 for long words). Offers are ranked BM25-style: each query word adds how well it
matched (exactly in the name counts most) times how rare it is, so one strong word is enough and
every further matching word ranks an offer higher. Words with digits match only exactly, and
:func:`shown_query` hides long digit runs, so a passport or phone number typed by mistake is neither
searched loosely nor repeated.

:class:`SearchIndex` is an in-memory inverted index with a trigram index over its vocabulary; offers
are put and removed one at a time, so an edit updates it in milliseconds.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
import re
import struct
import unicodedata
from array import array
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from heapq import nlargest
from itertools import compress, repeat

from storage import search_words

MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 12
SHOWN_QUERY_CHARS = 60
# Digit runs of this length (spaces and dashes between digits included) are hidden when a query is shown.
LONG_NUMBER_DIGITS = 5
# How much a match in each field counts (a match in the name counts most), in hundredths.
FIELD_WEIGHTS = {"name": 100, "tags": 90, "slug": 80, "summary": 60, "audience": 40}
# Everyday words of an offer's category count less than the offer's own words.
CATEGORY_WEIGHT = 0.45
# Results scoring less than this share of the best result are left out as noise.
RELATIVE_CUTOFF = 0.2
# A query word's best match must be at least this good (match quality × field weight) to count.
MIN_TERM_SCORE = 0.3
# Ids are kept in two bytes each while they fit (at 5,000 offers half the memory of four bytes); an
# index whose words or offers outgrow that keeps them in four.
NARROW_IDS, WIDE_IDS, NARROW_LIMIT = "H", "i", 1 << 16

_WORD = re.compile(r"\w+")
# A written word: letters, digits and the combining marks (vowel signs, accents) between them.
_RAW_WORD = re.compile(r"(?:\w|[\u0300-\u036f\u0483-\u0489\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed])+")
_JOINERS = re.compile("[\u0640\u200c-\u200f]")
_LONG_NUMBER = re.compile(r"\d(?:[\s./()-]*\d)+")
_TRANSLITERATE = str.maketrans(
    {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "ß": "ss",
        "ı": "i",
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ی": "ي",
        "ې": "ي",
        "ۍ": "ي",
        "ئ": "ي",
        "ؤ": "و",
        "ة": "ه",
        "ۀ": "ه",
        "ک": "ك",
        "ګ": "گ",
        "ـ": None,
        "\u200c": None,
        "\u200d": None,
        "\u200e": None,
        "\u200f": None,
        **{chr(0x0660 + digit): str(digit) for digit in range(10)},
        **{chr(0x06F0 + digit): str(digit) for digit in range(10)},
    }
)
_ARABIC_ARTICLES = ("وال", "بال", "ال")


def normalize(text: str) -> str:
    """Fold a text so that spellings people consider the same compare equal."""
    return _strip_marks(unicodedata.normalize("NFKC", text).casefold().translate(_TRANSLITERATE))


def _strip_marks(text: str) -> str:
    return "".join(char for char in unicodedata.normalize("NFD", text) if unicodedata.category(char) != "Mn")


@functools.lru_cache(maxsize=100_000)
def _folded(raw: str) -> tuple[str, ...]:
    """The normalised words of one written word. The Arabic article is taken off before letter
    variants are folded, so that "آلمانی" (Persian) keeps its first letters."""
    folded = []
    composed = unicodedata.normalize("NFKC", raw).casefold()
    for word in _WORD.findall("".join(char for char in composed if unicodedata.category(char) != "Mn")):
        for article in _ARABIC_ARTICLES:
            if word.startswith(article) and len(word) >= len(article) + 3:
                word = word[len(article) :]
                break
        word = normalize(word)
        if len(word) > 1:
            folded.append(word)
    return tuple(folded)


def words(text: str) -> list[str]:
    """The normalised words of a text (two letters or more; the Arabic article taken off). Each
    distinct written word is folded once and remembered: texts repeat their words a lot."""
    return list(itertools.chain.from_iterable(map(_folded, _RAW_WORD.findall(_JOINERS.sub("", text)))))


STOP_WORDS = frozenset(word for listed in search_words.STOP_WORDS.values() for word in words(listed))


def query_words(query: str) -> list[str]:
    """The words of a query that say what someone looks for (stop words dropped, each once)."""
    meaningful = [word for word in words(query[:MAX_QUERY_CHARS]) if word not in STOP_WORDS]
    return list(dict.fromkeys(meaningful))[:MAX_QUERY_WORDS]


def shown_query(query: str) -> str:
    """The query as the answer may repeat it: long digit runs (a passport or phone number typed by
    mistake) replaced by "•••", whitespace collapsed, and shortened."""

    def hide(match: re.Match[str]) -> str:
        digits = sum(char.isdigit() for char in match.group())
        return "•••" if digits >= LONG_NUMBER_DIGITS else match.group()

    text = " ".join(_LONG_NUMBER.sub(hide, query).split())
    return text[:SHOWN_QUERY_CHARS] + ("…" if len(text) > SHOWN_QUERY_CHARS else "")


def _float32(values: list[float]) -> tuple[float, ...]:
    """The values rounded to single precision, as the index has always scored: rounding every product
    and sum keeps ties and the thresholds exactly where they were when it scored with numpy."""
    layout = f"{len(values)}f"
    return struct.unpack(layout, struct.pack(layout, *values))


MIN_TERM_SCORE_32 = _float32([MIN_TERM_SCORE])[0]


@functools.lru_cache(maxsize=1024)
def _posting_scores(quality: float) -> tuple[float, ...]:
    """What a posting of this match quality scores, by its field weight (0–255)."""
    (hundredth,) = _float32([quality / 100])
    return _float32([weight * hundredth for weight in range(256)])


@functools.lru_cache(maxsize=1024)
def _category_score(quality: float) -> float:
    return _float32([quality * CATEGORY_WEIGHT])[0]


def _position(offer_ids: array[int], offer_id: int) -> int:
    """Where the offer is in a word's postings. A common word's are searched as bytes: many times
    faster than ``array.index``, which makes an object of every id it compares."""
    if len(offer_ids) < 64:
        return offer_ids.index(offer_id)
    raw, wanted = offer_ids.tobytes(), array(offer_ids.typecode, [offer_id]).tobytes()
    at = raw.find(wanted)
    while at > 0 and at % offer_ids.itemsize:  # a match across two ids
        at = raw.find(wanted, at + 1)
    if at < 0:
        raise ValueError(f"offer {offer_id} is not in the postings")
    return at // offer_ids.itemsize


def _grams(token: str) -> list[str]:
    padded = f"^{token}$"
    return [padded[start : start + 3] for start in range(len(padded) - 2)]


def _typos_allowed(word: str) -> int:
    """One typo from four letters on (three in scripts whose letters are syllables or consonants,
    such as Ge'ez and Arabic), two from eight."""
    if len(word) >= 8:
        return 2
    return 1 if len(word) >= 4 or (len(word) == 3 and not word.isascii()) else 0


def _common_prefix(first: str, second: str) -> int:
    length = 0
    for one, other in zip(first, second, strict=False):
        if one != other:
            break
        length += 1
    return length


@dataclass(frozen=True)
class OfferDocument:
    """What the index knows of one offer: its words per field (all languages), its category, and
    what decides whether people may see it."""

    offer_id: int
    category: str
    active: bool
    ends_on: date | None
    fields: tuple[tuple[str, str], ...]  # (field name, text) in every language
    shown: str = ""  # what a result list shows of the offer, kept for it (see storage.search_index)


def document_fields(
    slug: str, texts: Iterable[tuple[str, str, str | None, list[str] | None]]
) -> tuple[tuple[str, str], ...]:
    """An offer's searchable fields from its slug and its (name, summary, audience, tags) per language."""
    fields = [("slug", slug.replace("-", " "))]
    for name, summary, audience, tags in texts:
        fields += [("name", name), ("summary", summary), ("audience", audience or "")]
        fields += [("tags", tag) for tag in tags or ()]
    return tuple(fields)


class SearchIndex:
    """Inverted index from normalised words to offers, kept one offer at a time.

    Postings are flat arrays (offer ids, and the field weight of the word in that offer, a word's
    postings ordered by weight), ids in two bytes while they fit; the category is kept in an array
    indexed by offer id and the offers of each category in a set, what decides visibility in a set of
    inactive offers and the last days of those that end, what a result list shows as UTF-8. This keeps
    5,000 offers in ten languages within a few megabytes and out of the garbage collector's way. A
    search scores only the offers in the postings of the words it matches (and of the categories they
    name), in a dictionary per query word; its loops over offers run in C (dictionary updates, ``map``
    and ``compress``), which keeps it within a few milliseconds at 5,000 offers without numpy. A
    trigram index over the vocabulary finds prefixes, compounds, stems and typos without scanning every
    word. Category words live in the same vocabulary and point at categories."""

    def __init__(self) -> None:
        self._token_ids: dict[str, int] = {}
        self._tokens: list[str] = []
        self._offer_ids: list[array[int]] = []
        self._ids_type = NARROW_IDS  # of the postings' offer ids (WIDE_IDS once an offer id needs it)
        self._weights: list[array[int]] = []
        self._grams: dict[str, array[int]] = {}
        self._forward: dict[int, array[int]] = {}
        # Offers people may not see (not active), the last day of active offers that end (ordinal),
        # those of both that are hidden on a day, kept for that day; by offer id the category's number.
        self._inactive: set[int] = set()
        self._last_days: dict[int, int] = {}
        self._hidden_on: tuple[int, set[int]] | None = None
        self._category = array("b")
        self._categories = list(search_words.CATEGORY_WORDS)
        self._category_offers: list[set[int]] = [set() for _ in self._categories]
        self._shown: dict[int, bytes] = {}  # UTF-8 (a str with one non-Latin letter: 2 bytes a letter)
        self._category_tokens: dict[int, list[int]] = {}
        for number, by_language in enumerate(search_words.CATEGORY_WORDS.values()):
            for phrases in by_language.values():
                for phrase in phrases:
                    for token in words(phrase):
                        listed = self._category_tokens.setdefault(self._token_id(token), [])
                        if number not in listed:
                            listed.append(number)

    @classmethod
    def build(cls, documents: Iterable[OfferDocument]) -> SearchIndex:
        """An index of these offers."""
        index = cls()
        index.put_many(documents)
        return index

    def __len__(self) -> int:
        """How many offers the index knows."""
        return len(self._forward)

    @property
    def size(self) -> tuple[int, int]:
        """(distinct words, postings)."""
        return len(self._tokens), sum(len(ids) for ids in self._offer_ids)

    def _token_id(self, token: str) -> int:
        token_id = self._token_ids.get(token)
        if token_id is None:
            token_id = len(self._tokens)
            self._token_ids[token] = token_id
            self._tokens.append(token)
            self._offer_ids.append(array(self._ids_type))
            self._weights.append(array("B"))
            for gram in _grams(token):
                self._grams.setdefault(gram, array("i")).append(token_id)
        return token_id

    def _words_of(self, document: OfferDocument) -> tuple[array[int], array[int]]:
        """The ids of an offer's distinct words (new ones added to the vocabulary) and each word's
        weight: that of the weightiest field it occurs in."""
        by_weight: dict[int, list[str]] = {}
        for field_name, text in document.fields:
            by_weight.setdefault(FIELD_WEIGHTS[field_name], []).append(text)
        weights: dict[str, int] = {}
        for weight in sorted(by_weight):  # the weightier fields last: their weight wins
            weights.update(dict.fromkeys(words("\n".join(by_weight[weight])), weight))
        known = self._token_ids
        for token in [token for token in weights if token not in known]:
            self._token_id(token)
        ids_type = NARROW_IDS if len(self._tokens) <= NARROW_LIMIT else WIDE_IDS
        return array(ids_type, [*map(known.__getitem__, weights)]), array("B", weights.values())

    def _fit_offer_ids(self, offer_id: int) -> None:
        """Keep the postings in four bytes per id from the first offer id that two do not hold."""
        if self._ids_type == NARROW_IDS and not 0 <= offer_id < NARROW_LIMIT:
            self._ids_type = WIDE_IDS
            self._offer_ids = [array(WIDE_IDS, offer_ids) for offer_ids in self._offer_ids]

    def _keep_attributes(self, document: OfferDocument) -> None:
        offer_id = document.offer_id
        if offer_id >= len(self._category):
            grow = offer_id + 1 - len(self._category) + len(self._category) // 4
            self._category.extend(array("b", [-1]) * grow)
        self._hidden_on = None
        if not document.active:
            self._inactive.add(offer_id)
        elif document.ends_on:
            self._last_days[offer_id] = document.ends_on.toordinal()
        category = document.category
        if (number := self._category[offer_id]) >= 0:
            self._category_offers[number].discard(offer_id)
        number = self._categories.index(category) if category in self._categories else -1
        self._category[offer_id] = number
        if number >= 0:
            self._category_offers[number].add(offer_id)
        if document.shown:
            self._shown[offer_id] = document.shown.encode()

    def put(self, document: OfferDocument) -> None:
        """Add the offer, or replace what the index knew of it."""
        offer_id = document.offer_id
        self.remove(offer_id)
        self._fit_offer_ids(offer_id)
        token_ids, weights = self._words_of(document)
        for token_id, weight in zip(token_ids, weights, strict=True):
            weight_list = self._weights[token_id]
            position = bisect_right(weight_list, weight)  # a word's postings stay ordered by weight
            self._offer_ids[token_id].insert(position, offer_id)
            weight_list.insert(position, weight)
        self._forward[offer_id] = token_ids
        self._keep_attributes(document)

    def put_many(self, documents: Iterable[OfferDocument]) -> None:
        """Add or replace many offers at once (building the index): their postings are gathered by
        word and weight and added a run at a time, instead of one posting at a time."""
        by_offer = {document.offer_id: document for document in documents}
        for offer_id in (min(by_offer, default=0), max(by_offer, default=0)):
            self._fit_offer_ids(offer_id)
        runs: defaultdict[int, array[int]] = defaultdict(lambda: array(self._ids_type))
        for document in by_offer.values():
            offer_id = document.offer_id
            self.remove(offer_id)
            token_ids, weights = self._words_of(document)
            for key in map(operator.add, map((1 << 8).__mul__, token_ids), weights):
                runs[key].append(offer_id)
            self._forward[offer_id] = token_ids
            self._keep_attributes(document)
        for key in sorted(runs):
            token_id, weight = divmod(key, 1 << 8)
            offer_ids, weight_list = self._offer_ids[token_id], self._weights[token_id]
            position = bisect_right(weight_list, weight)  # a word's postings stay ordered by weight
            offer_ids[position:position] = runs[key]
            weight_list[position:position] = array("B", [weight]) * len(runs[key])

    def shown(self, offer_id: int) -> str:
        """What a result list shows of the offer, as it was put ('' when nothing was given)."""
        return self._shown.get(offer_id, b"").decode()

    def remove(self, offer_id: int) -> None:
        """Forget the offer (nothing happens if the index does not know it)."""
        token_ids = self._forward.pop(offer_id, None)
        if token_ids is None:
            return
        for token_id in token_ids:
            position = _position(self._offer_ids[token_id], offer_id)
            del self._offer_ids[token_id][position]
            del self._weights[token_id][position]
        self._inactive.discard(offer_id)
        self._last_days.pop(offer_id, None)
        self._hidden_on = None
        if (number := self._category[offer_id]) >= 0:
            self._category_offers[number].discard(offer_id)
        self._category[offer_id] = -1
        self._shown.pop(offer_id, None)

    def _similar_tokens(self, word: str) -> dict[int, float]:
        """Vocabulary words matching one query word, with how well (1.0 exact … 0.5 loose)."""
        found: dict[int, float] = {}
        exact = self._token_ids.get(word)
        if exact is not None:
            found[exact] = 1.0
        if any(char.isdigit() for char in word) or len(word) < 3:
            return found
        shared: Counter[int] = Counter()
        for gram in _grams(word):
            listed = self._grams.get(gram)
            if listed is not None:
                shared.update(listed)
        allowed = _typos_allowed(word)
        length = len(word)
        from rapidfuzz.distance import Levenshtein

        for token_id, count in shared.items():
            if token_id == exact:
                continue
            token = self._tokens[token_id]
            quality = 0.0
            if token.startswith(word):
                quality = 0.9
            elif length >= 4 and count >= length - 2 and word in token:
                quality = 0.75
            elif (prefix := _common_prefix(word, token)) >= 4 and max(length, len(token)) - prefix <= 3:
                quality = 0.85  # the same stem with another ending
            elif (
                allowed
                and abs(len(token) - length) <= allowed
                and count >= length - 3 * allowed
                and (distance := Levenshtein.distance(word, token, score_cutoff=allowed)) <= allowed
            ):
                quality = 0.75 if distance == 1 else 0.6
            elif length >= 7 and len(token) >= 4 and word.endswith(token):
                quality = 0.5 + 0.3 * len(token) / length
            if quality:
                found[token_id] = quality
        return found

    def _postings_by_score(self, token_id: int, quality: float) -> Iterator[tuple[float, array[int]]]:
        """A word's postings in runs of one field weight, each with its score at this match quality."""
        offer_ids, weights = self._offer_ids[token_id], self._weights[token_id]
        by_weight = _posting_scores(quality)
        start = 0
        while start < len(weights):
            end = bisect_right(weights, weights[start], start)
            yield by_weight[weights[start]], offer_ids[start:end]
            start = end

    def _scores(self, word: str) -> dict[int, float]:
        """By offer id, how well each offer matching one query word matches it: best match quality ×
        field weight (the offers of a category its words name: quality × CATEGORY_WEIGHT)."""
        runs: list[tuple[float, Iterable[int]]] = []
        for token_id, quality in self._similar_tokens(word).items():
            runs += self._postings_by_score(token_id, quality)
            for number in self._category_tokens.get(token_id, ()):
                runs.append((_category_score(quality), self._category_offers[number]))
        if not runs:
            return {}
        runs.sort(key=operator.itemgetter(0))
        scores = dict.fromkeys(runs[0][1], runs[0][0])
        for score, offer_ids in runs[1:]:  # the best score last: it is the one kept
            scores.update(dict.fromkeys(offer_ids, score))
        return scores

    def _hidden(self, today: int) -> set[int]:
        """The offers people may not see on this day (not active, or ended)."""
        if self._hidden_on is None or self._hidden_on[0] != today:
            ended = {offer_id for offer_id, last_day in self._last_days.items() if last_day < today}
            self._hidden_on = (today, self._inactive | ended)
        return self._hidden_on[1]

    def ranked(self, query: str, today: date, limit: int) -> list[int]:
        """Ids of up to ``limit`` offers people may see today that match the query, best first."""
        terms = query_words(query)
        if not terms or not self._forward:
            return []
        per_term = [self._scores(term) for term in terms]
        for position, (first, second) in enumerate(itertools.pairwise(terms)):
            joined = self._scores(first + second)
            for covered in (per_term[position], per_term[position + 1]):
                better = map(operator.gt, joined.values(), map(covered.get, joined, repeat(0.0)))
                kept = [*compress(joined, better)]
                covered.update(zip(kept, map(joined.__getitem__, kept), strict=True))
        total_offers = len(self._forward)
        totals: dict[int, float] = {}
        for scores in per_term:
            matched = len(scores)  # every score counted is above zero
            if not matched:
                continue
            rarity = math.log(1 + max(total_offers - matched + 0.5, 0.0) / (matched + 0.5))
            (weight,) = _float32([max(rarity, 0.01)])
            counted: Iterable[int] = scores
            if min(scores.values()) < MIN_TERM_SCORE_32:
                counted = [*compress(scores, map(operator.le, repeat(MIN_TERM_SCORE_32), scores.values()))]
            # A query word's scores take a few distinct values: each is weighted once.
            distinct = [*set(scores.values())]
            weighted = dict(zip(distinct, _float32([weight * score for score in distinct]), strict=True))
            added: Iterable[float] = map(weighted.__getitem__, map(scores.__getitem__, counted))
            if totals:
                added = _float32([*map(operator.add, map(totals.get, counted, repeat(0.0)), added)])
            totals.update(zip(counted, added, strict=True))
        found = totals.keys() - self._hidden(today.toordinal())
        found_totals = [*map(totals.__getitem__, found)]
        best = max(found_totals, default=0.0)
        if best <= 0 or limit <= 0:
            return []
        (cutoff,) = _float32([best * RELATIVE_CUTOFF])
        lowest = max(min(nlargest(limit, found_totals)), cutoff)  # the lowest total taken
        above = [*compress(found, map(operator.lt, repeat(lowest), found_totals))]
        above.sort(key=lambda offer_id: (-totals[offer_id], offer_id))
        at_lowest = sorted(compress(found, map(operator.eq, repeat(lowest), found_totals)))
        return (above + at_lowest)[:limit]
