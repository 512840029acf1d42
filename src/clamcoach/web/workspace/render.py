"""Pages out: the workspace's templates (in the app's one Jinja2 set-up, ``web.pages``), in
the reader's language (the live page's gettext catalogues, ``web.i18n``: the guard sets
``LANGUAGE`` from each request's Accept-Language), and the headers every workspace response
carries (the app's Content-Security-Policy with forms allowed to post to this server only,
and no caching of patient data)."""

from __future__ import annotations

import functools
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from clamcoach.protocol import label
from clamcoach.report.page import fmt
from clamcoach.report.page import local_time
from clamcoach.report.progress import when
from clamcoach.web.i18n import SOURCE_LANGUAGE, Catalogue, Item, catalogue, negotiate
from clamcoach.web.pages import TEMPLATES as LIVE_TEMPLATES
from clamcoach.web.pages import content_security_policy, environment as templates_in

TEMPLATES = Path(__file__).with_name("templates")
CSP = content_security_policy(form_action="'self'")
#: The analysis report is one self-contained document with an inline stylesheet: no scripts;
#: its one form (the set's pain rating) posts to this server.
REPORT_CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
              "form-action 'self'; frame-ancestors 'none'")
HEADERS = {"content-security-policy": CSP, "cache-control": "no-store"}
#: The language of the request being answered (one of ``web.i18n.LANGUAGES``).
LANGUAGE: ContextVar[str] = ContextVar("clamcoach_workspace_language", default=SOURCE_LANGUAGE)


def language_of(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"))


def _words(cat: Catalogue) -> dict[str, Any]:
    """What a template translates with: ``_``, ``ngettext``, ``say`` (an ``Item``: a
    sentence with its numbers) and its ``lang``."""

    def say(item: Item) -> str:
        if item.plural is not None and item.n is not None:
            text = cat.ngettext(item.msgid, item.plural, item.n)
        else:
            text = cat.gettext(item.msgid)
        return text.format(n=item.n, **item.params)

    return {"_": cat.gettext, "ngettext": cat.ngettext, "say": say, "lang": cat.lang}


@functools.cache
def environment():
    """The workspace's templates, with its helpers (labels, numbers, local times)."""
    import markupsafe

    from clamcoach.web.workspace.words import ACTION_TEXT, SIDE_TEXT, STATE_TEXT

    env = templates_in(TEMPLATES)
    env.globals.update(label=label, fmt=fmt, local=local_time,
                       when=lambda iso: markupsafe.Markup(when(iso)),
                       action_text=ACTION_TEXT, state_text=STATE_TEXT, side_text=SIDE_TEXT)
    return env


@functools.cache
def live_environment():
    """The live page's templates with the workspace's after them: the bound live page
    (``live.html``) extends the live page's ``index.html``."""
    return templates_in((LIVE_TEMPLATES, TEMPLATES))


def gettext(msgid: str) -> str:
    """``msgid`` in the request's language (for the few words Python writes itself)."""
    return catalogue(LANGUAGE.get()).gettext(msgid)


def render_html(name: str, **context: Any) -> str:
    """Template ``name`` filled in, in the request's language."""
    return environment().get_template(name).render(**_words(catalogue(LANGUAGE.get())), **context)


def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(render_html(name, **context), status_code=status, headers=HEADERS)


def live_page(request: Request, **context: Any) -> HTMLResponse:
    """The live coaching page bound to a patient, in the reader's language."""
    words = _words(catalogue(language_of(request)))
    html = live_environment().get_template("live.html").render(**words, workspace=True, **context)
    return HTMLResponse(html, headers=HEADERS)


def report_page(html: str) -> HTMLResponse:
    return HTMLResponse(html, headers={"content-security-policy": REPORT_CSP,
                                       "cache-control": "no-store"})


def redirect(url: str) -> Response:
    return Response(status_code=303, headers={"location": url, **HEADERS})


def problem(status: int, text: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    """A short page saying what went wrong, with the status code that says it to programs."""
    response = page("problem.html", status=status, text=text, who=None, csrf="")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response
