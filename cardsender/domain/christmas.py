"""Christmas wording in every language cardsender meets, and the search for it in the office's own words.

cardsender never sends Christmas cards.  Only what the office writes is searched: the card
templates, staff notes, the signature and the occasions of the config.  Whatever comes from
the customer (a name such as Noël or Merry, an address in Natal, a "Noël-themed mug" bought)
is never searched, so no customer goes without a card for being called Noel.

Matching is on whole words, whatever the case and the accents: ``Joyeux Noel`` is
``Joyeux Noël``, ``WEIHNACHTSGRUSS`` is ``Weihnachtsgruß``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

REASON = "cardsender never sends Christmas cards: every business sends them, so they say nothing about the customer"


@dataclass(frozen=True, slots=True)
class ChristmasWords:
    """One language's Christmas wording.

    ``words`` mean Christmas wherever the office writes them.  ``names`` are Christmas
    too, but are also a first name, a place or a month (Noel, Natal, jul), so they count
    only as the name of an occasion.  In an entry a space stands for any spaces or a
    hyphen, a hyphen may be left out, an apostrophe may be left out, and ``*`` stands
    for any letters (``weihnacht*`` is also Weihnachtsgruß).
    """

    language: str
    words: tuple[str, ...]
    names: tuple[str, ...] = ()


LANGUAGES = (
    ChristmasWords(
        "en",
        (
            "merry christmas",
            "merry x-mas",
            "christmas*",
            "x-mas",
            "x-mases",
            "yuletide",
            "season's greetings",
            "happy holidays",
        ),
        ("noel", "merry", "yule"),
    ),
    ChristmasWords(
        "fr",
        (
            "joyeux noël",
            "bon noël",
            "père noël",
            "veille de noël",
            "nuit de noël",
            "réveillon de noël",
            "fête* de noël",
            "carte* de noël",
            "cadeau* de noël",
            "sapin* de noël",
            "vacances de noël",
            "marché* de noël",
            "joyeuses fêtes",
            "bonnes fêtes",
            "temps des fêtes",
        ),
        ("noël",),
    ),
    ChristmasWords(
        "de",
        ("frohe weihnachten", "fröhliche weihnachten", "*weihnacht*", "frohes fest", "frohe festtage", "christkind*"),
    ),
    ChristmasWords("es", ("feliz navidad", "navidad*", "navideñ*", "nochebuena", "felices fiestas", "papá noel")),
    ChristmasWords("it", ("buon natale", "auguri di natale", "babbo natale", "natalizi*", "buone feste"), ("natale",)),
    ChristmasWords(
        "nl",
        (
            "vrolijk kerstfeest",
            "zalig kerstfeest",
            "kerst",
            "kerstmis",
            "kerstfeest",
            "kerstdag*",
            "kerstgroet*",
            "kerstkaart*",
            "kerstwens*",
            "kerstboom",
            "kerstman",
            "kerstvakantie",
            "prettige feestdagen",
            "fijne feestdagen",
        ),
    ),
    ChristmasWords("pt", ("feliz natal", "bom natal", "boas festas", "papai noel", "pai natal"), ("natal",)),
    ChristmasWords("pl", ("wesołych świąt", "boż* narodzeni*")),
    ChristmasWords(
        "sv", ("god jul", "julafton", "julhälsning*", "julkort", "juldag*", "jultomte*", "julklapp*"), ("jul",)
    ),
    ChristmasWords(
        "da",
        ("glædelig jul", "juleaften", "julehilsen*", "julekort", "julegave*", "juledag*", "julemand*"),
        ("jul", "jule"),
    ),
    ChristmasWords("no", ("gledelig jul", "julaften", "julehilsen*", "julekort", "julenisse*")),
    # joulukuu is December, so the forms of joulu are listed rather than its stem.
    ChristmasWords(
        "fi",
        (
            "joulu",
            "joulua",
            "joulun",
            "jouluna",
            "jouluksi",
            "joulutervehdy*",
            "joulukortti*",
            "joulupukki",
            "hyvää joulua",
        ),
    ),
    ChristmasWords("cs", ("veselé vánoce", "vánoc*", "vánočn*")),
    ChristmasWords("sk", ("vianoc*", "vianočn*")),
    ChristmasWords("hu", ("boldog karácsony*", "karácsony*")),
    ChristmasWords("ro", ("crăciun fericit", "moș crăciun"), ("crăciun",)),
    ChristmasWords("ca", ("bon nadal",), ("nadal",)),
    ChristmasWords("hr", ("sretan božić", "čestit božić"), ("božić",)),
    ChristmasWords("el", ("καλά χριστούγεννα", "χριστουγενν*")),
    ChristmasWords("ru", ("рождество", "рождества", "с рождеством", "рождественск*")),
    ChristmasWords("uk", ("різдв*",)),
    ChristmasWords("ga", ("nollaig shona",), ("nollaig",)),
    ChristmasWords("cy", ("nadolig*",)),
)

# Letters that Unicode does not decompose into a base letter and an accent.
_LETTERS = str.maketrans({"ł": "l", "ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ı": "i", "’": "'", "‘": "'", "ʼ": "'"})


def _fold_char(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", char)
    bare = "".join(part for part in decomposed if not unicodedata.combining(part))
    return bare.casefold().translate(_LETTERS)


def fold(text: str) -> tuple[str, list[int]]:
    """Return the text without case or accents, and for each of its characters the index it came from."""
    if text.isascii():
        return text.lower(), list(range(len(text)))
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        bare = _fold_char(char)
        folded.append(bare)
        origin.extend([index] * len(bare))
    return "".join(folded), origin


def _entry_pattern(entry: str) -> str:
    special = {" ": r"[\s\-]+", "-": r"[\s\-]?", "'": "'?", "*": r"\w*"}
    pattern = "".join(special.get(char, re.escape(char)) for char in fold(entry)[0])
    return rf"(?<!\w){pattern}(?!\w)"


def _compile(entries: list[str]) -> re.Pattern[str]:
    # The longest entry first, so that "joyeux noël" is found whole rather than its part.
    ordered = sorted(set(entries), key=len, reverse=True)
    return re.compile("|".join(_entry_pattern(entry) for entry in ordered))


@functools.cache
def _words() -> re.Pattern[str]:
    # Compiled on first use, not on import: every command loads the config, few check wording.
    return _compile([word for language in LANGUAGES for word in language.words])


@functools.cache
def _occasion_names() -> re.Pattern[str]:
    return _compile([word for language in LANGUAGES for word in (*language.words, *language.names)])


@dataclass(frozen=True, slots=True)
class Found:
    """Christmas wording as written, and the line it is on (counted from 1)."""

    words: str
    line: int


def find(text: str) -> list[Found]:
    """Return the Christmas wording in a text the office wrote, in order."""
    folded, origin = fold(text)
    found: list[Found] = []
    for match in _words().finditer(folded):
        start, end = origin[match.start()], origin[match.end() - 1] + 1
        found.append(Found(" ".join(text[start:end].split()), text.count("\n", 0, start) + 1))
    return found


def christmas_words(text: str) -> list[str]:
    """Return the Christmas words found in a text the office wrote, lower-cased, each once, sorted."""
    return sorted({found.words.casefold() for found in find(text)})


def names_christmas(name: str) -> bool:
    """Return whether the name of an occasion (such as ``noel`` or ``christmas_eve``) means Christmas."""
    folded, _ = fold(name.replace("_", " "))
    return _occasion_names().search(folded) is not None


def wording(found: list[Found]) -> str:
    """Return what a refusal says: the words found, each once and quoted, and why they cannot go out."""
    words = list(dict.fromkeys(f.words for f in found))
    verb = "is" if len(words) == 1 else "are"
    return f"{', '.join(map(repr, words))} {verb} Christmas wording, and {REASON}"
