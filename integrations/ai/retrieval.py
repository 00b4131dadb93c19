"""Offline lexical retrieval over an assistant's knowledge entries: BM25 ranking + a confidence.

Ranking is Okapi BM25 (k1=1.5, b=0.75) over question + keywords + answer, with the question and
keywords counted twice (they say what an entry is *about*). The confidence of the best entry is
the IDF-weighted share of the question's terms it contains: 1.0 when every meaningful word of
the question is in its question or keywords, lower as words are missing (a word found only in
the answer counts half). Words that appear in no entry weigh half the
median IDF, so filler ("gostaria", "aceitam") lowers confidence without sinking it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from statistics import median

STOPWORDS = set("""
a o as os um uma uns umas de da do das dos em na no nas nos por para pra pro com sem sob sobre e ou mas que
se ja nao sim eu tu ele ela nos vos eles elas voce voces meu minha meus minhas seu sua seus suas nosso nossa
me te lhe isso isto esse essa este esta aquele aquela qual quais quando como onde quanto quanta quantos
quantas ao aos a as pelo pela pelos pelas ser estar ter tem tenho temos sao foi era e ha vai vou posso pode
the a an of to in on for with and or is are be do does can i you my your what when how where which it
oi ola bom boa dia tarde noite obrigado obrigada por favor gostaria queria quero saber
""".split())
K1, B = 1.5, 0.75


def fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()


def _stem(word: str) -> str:
    """A very light Portuguese stemmer: plurals, then verb infinitives and the final vowel, so
    entregas/entrega → entreg, chegar/chega → cheg, cartões/cartão → carta."""
    if word.isdigit():
        return word
    for suffix, replacement in (("coes", "cao"), ("oes", "ao"), ("aes", "ao"), ("ais", "al"), ("eis", "el")):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            word = word[: -len(suffix)] + replacement
            break
    else:
        if word.endswith("s") and len(word) > 3 and not word.endswith("ss"):
            word = word[:-1]
    if word.endswith(("ar", "er", "ir")) and len(word) > 4:
        return word[:-2]
    if word.endswith(("a", "e", "o")) and len(word) > 3:
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    return [_stem(w) for w in re.findall(r"[a-z0-9]+", fold(text or "")) if w not in STOPWORDS and len(w) > 1]


@dataclass
class Document:
    key: int
    terms: Counter
    length: int
    about: frozenset[str]


@dataclass
class Match:
    key: int | None
    score: float
    confidence: float


class Index:
    def __init__(self, documents: list[tuple[int, str, str]]):
        """``documents``: (key, about — question and keywords, body — the answer)."""
        self.documents = []
        for key, about, body in documents:
            about_terms = tokenize(about)
            terms = about_terms * 2 + tokenize(body)
            self.documents.append(Document(key, Counter(terms), len(terms), frozenset(about_terms)))
        self.n = len(self.documents)
        self.avgdl = (sum(d.length for d in self.documents) / self.n) if self.n else 0.0
        df: Counter = Counter()
        for document in self.documents:
            df.update(set(document.terms))
        self.idf = {t: math.log(1 + (self.n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.unseen_weight = 0.5 * median(self.idf.values()) if self.idf else 1.0

    def _bm25(self, document: Document, query: list[str]) -> float:
        score = 0.0
        for term in query:
            tf = document.terms.get(term, 0)
            if tf:
                norm = tf + K1 * (1 - B + B * document.length / (self.avgdl or 1))
                score += self.idf[term] * tf * (K1 + 1) / norm
        return score

    def search(self, text: str, limit: int = 3) -> list[Match]:
        query = list(dict.fromkeys(tokenize(text)))  # each distinct word once
        if not query or not self.documents:
            return []
        total = sum(self.idf.get(t, self.unseen_weight) for t in query)
        ranked = sorted(((self._bm25(d, query), d) for d in self.documents), key=lambda p: -p[0])
        matches = []
        for score, document in ranked[:limit]:
            if score <= 0:
                break
            # A word found only in the answer is weaker evidence than one in the question/keywords.
            covered = sum(self.idf[t] * (1.0 if t in document.about else 0.5) for t in query if t in document.terms)
            matches.append(Match(document.key, score, round(covered / total, 4) if total else 0.0))
        return matches
