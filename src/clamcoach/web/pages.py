"""The app's HTML pages: the one Jinja2 set-up (``environment(folder)``) for the live page's
``templates/`` and the workspace's, and the one Content-Security-Policy they are served with.

The live page's templates mark their words with ``_("...")`` / ``ngettext(...)``; Babel's
Jinja2 extractor finds them for the catalogue, and ``render`` fills them in the reader's
language. Autoescaping is always on: nothing a request carries is ever markup.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clamcoach.web.i18n import Catalogue

if TYPE_CHECKING:
    from jinja2 import Environment

HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"


def content_security_policy(*, form_action: str = "'none'") -> str:
    """Everything from this server only, nothing inline; ``form_action``: where the page's
    forms may post (the live page has none; the workspace's post to this server)."""
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
            "media-src 'self' blob: mediastream:; connect-src 'self'; font-src 'self'; "
            f"object-src 'none'; base-uri 'none'; form-action {form_action}; frame-ancestors 'none'")


@functools.cache
def environment(folder: Path) -> Environment:
    """The Jinja2 environment of the templates in ``folder`` (one per folder)."""
    try:
        from jinja2 import Environment, FileSystemLoader, StrictUndefined
    except ImportError as exc:  # pragma: no cover - Jinja2 is in the web extra
        from clamcoach.errors import OptionalDependencyMissing

        raise OptionalDependencyMissing("the web pages need jinja2: pip install 'clamcoach[web]'") from exc
    return Environment(loader=FileSystemLoader(folder), autoescape=True, undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True)


def render(name: str, cat: Catalogue, **context: Any) -> str:
    template = environment(TEMPLATES).get_template(name)
    return template.render(_=cat.gettext, ngettext=cat.ngettext, lang=cat.lang, **context)
