"""The page's words in the browser's language, from gettext catalogues read with Babel.

English is the source language: a message's English text is its id (``msgid``), written
once where it is used (the page's templates, its scripts, and the protocol file's cue and
message texts), and ``messages.pot`` is extracted from those places
(``python -m clamcoach.web.i18n.extract``). Spanish and German are ``<lang>/LC_MESSAGES/messages.po``.
A text with no translation (e.g. a cue a therapist rewrote for one patient) is shown in
English, as written.

The page gets its language's catalogue as JSON and translates with the same ids.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).parent
SOURCE_LANGUAGE = "en"
LANGUAGES = ("en", "es", "de")
DOMAIN = "messages"


@dataclass(frozen=True)
class Catalogue:
    lang: str
    #: msgid -> translation; plural messages: singular msgid -> (singular, plural) forms.
    messages: dict[str, str | tuple[str, ...]] = field(default_factory=dict)

    def gettext(self, msgid: str) -> str:
        found = self.messages.get(msgid)
        return found if isinstance(found, str) and found else msgid

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        # en, es and de share one plural rule (tests/web/test_i18n.py checks it holds)
        index = 0 if n == 1 else 1
        found = self.messages.get(singular)
        if isinstance(found, tuple) and len(found) > index and found[index]:
            return found[index]
        return singular if index == 0 else plural

    def as_json(self) -> dict:
        return {"lang": self.lang, "messages": {k: list(v) if isinstance(v, tuple) else v
                                                for k, v in self.messages.items()}}


def N_(msgid: str) -> str:
    """Marks a text for the catalogue (gettext's ``N_``); the page translates it."""
    return msgid


def NN_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a singular/plural pair for the catalogue."""
    return singular, plural


@dataclass(frozen=True)
class Item:
    """A sentence the page shows in its own language: a catalogue id and its numbers."""

    msgid: str
    plural: str | None = None
    n: int | None = None
    params: dict[str, int | str] = field(default_factory=dict)

    def english(self) -> str:
        text = self.msgid if self.plural is None or self.n == 1 else self.plural
        return text.format(n=self.n, **self.params)

    def as_dict(self) -> dict:
        return {"id": self.msgid, "plural": self.plural, "n": self.n, "params": dict(self.params)}


def po_path(lang: str) -> Path:
    return HERE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.lru_cache(maxsize=None)
def catalogue(lang: str) -> Catalogue:
    """The catalogue of ``lang`` (one of LANGUAGES); English is the ids themselves."""
    if lang not in LANGUAGES:
        raise ValueError(f"no catalogue for language {lang!r}; have {', '.join(LANGUAGES)}")
    if lang == SOURCE_LANGUAGE:
        return Catalogue(lang)
    from babel.messages.pofile import read_po

    with po_path(lang).open("rb") as f:
        cat = read_po(f, locale=lang)
    messages: dict[str, str | tuple[str, ...]] = {}
    for msg in cat:
        if not msg.id or msg.fuzzy:
            continue
        if isinstance(msg.id, str):
            if isinstance(msg.string, str) and msg.string:
                messages[msg.id] = msg.string
        elif isinstance(msg.string, (tuple, list)):  # a plural message: keyed by its singular
            messages[msg.id[0]] = tuple(msg.string)
    return Catalogue(lang, messages)


def negotiate(accept_language: str | None) -> str:
    """The best of LANGUAGES for an ``Accept-Language`` header (English if none fits)."""
    from babel import Locale

    wanted: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            key, _, value = p.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if tag and q > 0:
            wanted.append((-q, i, tag.replace("_", "-")))
    preferred = [tag for _, _, tag in sorted(wanted)]
    found = Locale.negotiate(preferred, list(LANGUAGES), sep="-")
    return found.language if found is not None and found.language in LANGUAGES else SOURCE_LANGUAGE
