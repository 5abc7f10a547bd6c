"""Turn card templates into words: a sandboxed Jinja2 environment, language fallback, and the checks on the result.

Templates are edited by users, so they run in Jinja2's sandbox with StrictUndefined:
a missing variable is an error that names the template, the line and the variable,
found at preview time rather than in a customer's inbox as "Dear ,".  HTML is
autoescaped; customer data is always data, so a name such as ``<b>Bob</b>`` or
``{{ 7*7 }}`` shows literally.  The text part comes from its own template.

Christmas wording is looked for in each template's own text as it is loaded, never in
a rendered card, whose customer data (a customer called Noël) is not the office's words.
"""

from __future__ import annotations

import html
import re
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
    select_autoescape,
)
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from cardsender.domain import christmas
from cardsender.domain.christmas import christmas_words as christmas_words  # the tests of the bundled set use it
from cardsender.domain.errors import CardsenderError
from cardsender.domain.occasions import ACCENTS, DEFAULT_ACCENT

# The email parts and the printed card, each a file in templates/cards/<occasion>/<variant>/.
PARTS = ("subject.txt", "body.txt", "body.html", "card.txt")
# A Jinja2 comment never reaches a customer, so its words are not the card's.
_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
CARD_FRONT_MAX = 40
_MODULE_PATH = re.compile(r"'(?:\w+\.)+(?=\w+ object')")


class TemplateError(CardsenderError):
    """A card template is missing, broken, or does something the sandbox refuses."""


@dataclass(frozen=True, slots=True)
class RenderedCard:
    """The words of one card: the email's subject, text and HTML, and the printed card's front and inside."""

    occasion: str
    variant: str
    language: str
    subject: str
    text: str
    html: str
    card_front: str
    card_inside: str


class CardEnvironment(SandboxedEnvironment):
    """The sandbox the templates run in."""


def check_template_words(source: str, filename: str) -> None:
    """Raise TemplateError when a template's own text has Christmas wording, naming the file and the lines."""
    text = _JINJA_COMMENT.sub(lambda comment: "\n" * comment.group(0).count("\n"), source)
    if filename.endswith(".html"):
        text = html.unescape(text)  # No&euml;l is Noël to the reader
    found = christmas.find(text)
    if not found:
        return
    lines = list(dict.fromkeys(f.line for f in found))
    where = f"line {lines[0]}" if len(lines) == 1 else f"lines {', '.join(map(str, lines))}"
    raise TemplateError(f"template {filename}, {where}: {christmas.wording(found)}; take the words out of the template")


class CheckedLoader(BaseLoader):
    """A folder of templates whose text is checked for Christmas wording once, as each template is loaded."""

    def __init__(self, root: Path) -> None:
        self.files = FileSystemLoader(str(root))

    def get_source(self, environment: Environment, template: str) -> tuple[str, str | None, Any]:
        source, filename, uptodate = self.files.get_source(environment, template)
        check_template_words(source, filename or template)
        return source, filename, uptodate

    def list_templates(self) -> list[str]:
        return self.files.list_templates()


# The files without a language tag (body.txt) are written in English.
PLAIN_LANGUAGE = "en"


def language_suffixes(language: str, default_language: str) -> list[str]:
    """Return the file-name language tags to try, most specific first: fr-CA -> fr-ca, fr, then the default's.

    English is the plain files, so an English customer stops there rather than take the office's language.
    """
    tags: list[str] = []
    for tag in (language, default_language):
        tag = tag.strip().lower().replace("_", "-")
        if tag.split("-")[0] == PLAIN_LANGUAGE:
            break
        for candidate in (tag, tag.split("-")[0]):
            if candidate and candidate not in tags:
                tags.append(candidate)
    return tags


class CardTemplates:
    """The card templates: the office's folder first (file by file), then the bundled set."""

    def __init__(self, bundled: Path, override: Path | None = None, default_language: str = "en") -> None:
        self.roots = [root for root in (override, bundled) if root is not None]
        self.default_language = default_language
        # Template files do not change while cards are rendered: each lookup is made once.
        self._names: dict[tuple[str, str, str, str], str] = {}
        self._variants: dict[str, list[str]] = {}
        self.env = CardEnvironment(
            loader=ChoiceLoader([CheckedLoader(root) for root in self.roots]),
            undefined=StrictUndefined,
            autoescape=select_autoescape(["html"], default_for_string=False, default=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            auto_reload=False,
        )
        # The layout colours each card's band by its wording, as the occasion table says.
        self.env.globals.update(accents=dict(ACCENTS), default_accent=DEFAULT_ACCENT)

    def variants(self, occasion: str) -> list[str]:
        """Return the wording variants of an occasion (its sub-folders), from every templates folder."""
        if occasion not in self._variants:
            self._variants[occasion] = self._find_variants(occasion)
        return self._variants[occasion]

    def _find_variants(self, occasion: str) -> list[str]:
        found = {
            child.name
            for root in self.roots
            if (root / occasion).is_dir()
            for child in (root / occasion).iterdir()
            if child.is_dir() and not child.name.startswith((".", "_"))
        }
        if not found:
            raise TemplateError(
                f"no templates for '{occasion}' in {', '.join(str(r) for r in self.roots)}; "
                f"add {occasion}/v1/ with {', '.join(PARTS)}, or run 'cardsender templates copy DIR' to start afresh"
            )
        return sorted(found)

    def template_name(self, occasion: str, variant: str, part: str, language: str) -> str:
        """Return the template to use for a part in a language: ``body.fr.txt``, else ``body.txt``."""
        key = (occasion, variant, part, language)
        if key not in self._names:
            self._names[key] = self._find_name(occasion, variant, part, language)
        return self._names[key]

    def _find_name(self, occasion: str, variant: str, part: str, language: str) -> str:
        stem, ext = part.split(".")
        for tag in language_suffixes(language, self.default_language):
            name = f"{occasion}/{variant}/{stem}.{tag}.{ext}"
            if self._exists(name):
                return name
        return f"{occasion}/{variant}/{part}"

    def written_language(self, occasion: str, variant: str, language: str) -> str:
        """Return the language a customer's card is written in, after the fallback: to write its dates in."""
        name = self.template_name(occasion, variant, "body.txt", language)
        tag = name.split("/")[-1].split(".")[1] if name.count(".") == 2 else ""
        for wanted in (language, self.default_language):
            if tag and wanted.lower().replace("_", "-").startswith(tag):
                return wanted
        return tag or PLAIN_LANGUAGE

    def _exists(self, name: str) -> bool:
        return any((root / name).is_file() for root in self.roots)

    def wording_problems(self) -> list[tuple[str, str]]:
        """Return each template file with Christmas wording, and the error, whether or not a card uses it yet."""
        problems: list[tuple[str, str]] = []
        for name in self.env.list_templates(extensions=("txt", "html")):
            try:
                self.env.loader.get_source(self.env, name)  # type: ignore[union-attr]  # set in __init__
            except TemplateError as exc:
                problems.append((name, str(exc)))
        return problems

    def render_part(self, name: str, context: dict[str, Any]) -> str:
        """Render one template, turning Jinja2's errors into a TemplateError that says where and what."""
        try:
            return self.env.get_template(name).render(context).strip()
        except TemplateNotFound as exc:
            raise TemplateError(f"template {exc.name} is missing from {', '.join(map(str, self.roots))}") from None
        except TemplateSyntaxError as exc:
            raise TemplateError(f"template {exc.name or name}, line {exc.lineno}: {exc.message}") from None
        except UndefinedError as exc:
            where = self._where(exc, name)
            what = _MODULE_PATH.sub(
                "'", exc.message or "a variable is undefined"
            )  # 'pkg.mod.View object' -> 'View object'
            raise TemplateError(
                f"template {where}: {what}; use only the variables listed in templates/cards/README.md"
            ) from None
        except SecurityError as exc:
            raise TemplateError(f"template {self._where(exc, name)}: not allowed in a card template ({exc})") from None
        except (TypeError, ValueError, AttributeError, ArithmeticError) as exc:
            raise TemplateError(f"template {self._where(exc, name)}: {exc}") from None

    def _where(self, exc: BaseException, name: str) -> str:
        """Return "FILE, line N" of the template line that failed (Jinja2 maps its frames to template lines)."""
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            path = Path(frame.filename)
            if any(path.is_relative_to(root) for root in self.roots) and frame.lineno:
                return f"{path}, line {frame.lineno}"
        return name

    def render(self, occasion: str, variant: str, language: str, context: dict[str, Any]) -> RenderedCard:
        """Render every part of one card."""
        texts = {
            part: self.render_part(self.template_name(occasion, variant, part, language), context) for part in PARTS
        }
        front, _, inside = texts["card.txt"].partition("\n")
        return RenderedCard(
            occasion=occasion,
            variant=variant,
            language=language,
            subject=" ".join(texts["subject.txt"].split()),
            text=texts["body.txt"] + "\n",
            html=texts["body.html"] + "\n",
            card_front=front.strip(),
            card_inside=inside.strip(),
        )


def choose_variant(variants: Sequence[str], used: Iterable[str], key: str = "") -> str:
    """Return the variant used least often so far, so none repeats until the others have gone out.

    Ties go to the one used longest ago (never used first), then to a rotation by ``key``
    (the customer) so that not every customer starts with the same wording.
    """
    history = list(used)
    start = sum(map(ord, key)) % len(variants) if key else 0
    rotated = [*variants[start:], *variants[:start]]

    def rank(variant: str) -> tuple[int, int, int]:
        count = history.count(variant)
        last = max((i for i, v in enumerate(history) if v == variant), default=-1)
        return (count, last, rotated.index(variant))

    return min(rotated, key=rank)


@dataclass(frozen=True, slots=True)
class PersonalDetail:
    """A fact about the customer that makes a card personal, and the words that show it was used."""

    what: str
    shows_as: str


def generic_reason(text: str, name: str, details: Sequence[PersonalDetail]) -> str | None:
    """Return why a card's words are generic (no name, or no personal detail), or None when they are personal.

    A detail counts when what it says appears in the words: the note or the item
    bought, or the number of years or the age.
    """
    folded = text.casefold()
    if not name or name.casefold() not in folded:
        return f"the card does not use the customer's name ({name or 'none known'})"
    if not any(detail.shows_as and detail.shows_as.casefold() in folded for detail in details):
        if not details:
            return (
                "nothing personal is known about this customer (no note, purchase, contact summary, "
                "years or age); add a note with 'cardsender note'"
            )
        known = ", ".join(detail.what for detail in details)
        return f"the card uses none of what we know about the customer ({known}); add a note or edit the template"
    return None
