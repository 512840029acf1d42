"""The app's HTML pages, rendered from ``templates/`` in the reader's language.

Templates mark their words with ``_("...")`` / ``ngettext(...)``; Babel's Jinja2 extractor
finds them for the catalogue. Autoescaping is on: nothing a request carries is ever markup.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from clamcoach.web.i18n import Catalogue

HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"


@functools.lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render(name: str, cat: Catalogue, **context: Any) -> str:
    template = _environment().get_template(name)
    return template.render(_=cat.gettext, ngettext=cat.ngettext, lang=cat.lang, **context)
