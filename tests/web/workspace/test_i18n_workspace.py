"""The workspace's pages in the reader's language, with the live page's catalogues: every
text of every workspace template is marked for the catalogue and translated in each
language, and the pages are served translated (Accept-Language, as the live page)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from clamcoach.web.i18n import LANGUAGES, SOURCE_LANGUAGE, catalogue
from clamcoach.web.i18n.extract import KEYWORDS
from clamcoach.web.workspace.render import environment
from clamcoach.web.workspace.words import ACTION_TEXT, SIDE_TEXT, STATE_TEXT
from tests.web.workspace.conftest import csrf_of

TEMPLATES = Path(environment().loader.searchpath[0])
TRANSLATED = [lang for lang in LANGUAGES if lang != SOURCE_LANGUAGE]
#: Words a template may show as they are: names, units, formats, examples of syntax.
AS_IS = {"clamcoach", "PDF", "3-3-3", "roll_back.warn_deg=8", "s", "x"}
TAG = re.compile(r"<[^>]*>")
SHOWN_ATTRIBUTE = re.compile(r'\b(?:placeholder|alt|title|aria-label)="([^"{]*)"')
WORD = re.compile(r"[A-Za-z][\w'.=-]*")


def template_ids() -> dict[str, list[str]]:
    """Every catalogue id the workspace's templates use, with where (Babel's Jinja2 extractor)."""
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            TEMPLATES, [("**.html", "jinja2.ext:babel_extract")], keywords=KEYWORDS):
        msgid = message if isinstance(message, str) else message[0]
        found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


JINJA = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.S)


def shown_words(source: str) -> list[str]:
    """Words a template shows the reader without passing them through ``_()``: its text
    between tags and its shown attributes (placeholder, alt, title, aria-label), with every
    Jinja2 expression, statement and comment taken out first."""
    html = JINJA.sub("\u00a7", source)
    shown = [TAG.sub(" ", html), *SHOWN_ATTRIBUTE.findall(html)]
    return [w for text in shown for w in WORD.findall(text) if w not in AS_IS]


def test_the_check_finds_an_unmarked_word():
    """The scan below can fail: plain English in a template is found, marked text is not."""
    source = '<p class="x">{{ _("Marked") }} Forgotten <input placeholder="Also" name="{{ n }}"></p>'
    assert shown_words(source) == ["Forgotten", "Also"]


@pytest.mark.parametrize("name", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_every_shown_word_of_a_template_is_marked(name):
    assert shown_words((TEMPLATES / name).read_text("utf-8")) == []


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_template_string_is_translated(lang):
    ids = template_ids()
    assert len(ids) > 100  # the scan found the templates' texts
    cat = catalogue(lang)
    missing = {msgid: where for msgid, where in ids.items() if msgid not in cat.messages
               or not all(cat.messages[msgid])}
    assert missing == {}


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_words_python_hands_the_templates_are_translated(lang):
    cat = catalogue(lang)
    for text in [*ACTION_TEXT.values(), *STATE_TEXT.values(), *SIDE_TEXT.values()]:
        assert cat.gettext(text) != text or text == "live", (lang, text)


@pytest.mark.parametrize("lang, words, english", [
    ("es", ["Tu plan de la almeja", "Prescripción", "Entrenamiento en directo", "Sesiones"],
     ["Your clamshell plan", "Live coaching", "How it goes"]),
    ("de", ["Dein Clamshell-Plan", "Verordnung", "Live-Coaching", "Einheiten"],
     ["Your clamshell plan", "Live coaching", "How it goes"]),
    ("en", ["Your clamshell plan", "Prescription", "Live coaching"], ["Verordnung"]),
])
def test_the_patients_page_is_served_in_their_language(clinic, lang, words, english):
    ann = clinic.sign_in("ann")
    ann.headers["accept-language"] = lang
    html = ann.get(f"/patients/{clinic.ann}").text
    assert f'<html lang="{lang}">' in html
    for word in words:
        assert word in html, word
    for word in english:
        assert word not in html, word


def test_the_therapists_pages_and_the_bound_live_page_in_german(clinic):
    thera = clinic.sign_in("thera")
    thera.headers["accept-language"] = "de-DE,de;q=0.9"
    listing = thera.get("/patients").text
    assert "Deine Patient:innen" in listing and "Patient:in hinzufügen" in listing
    assert "Your patients" not in listing
    page = thera.get(f"/patients/{clinic.ann}").text
    assert "Verordnung ändern" in page and "Zugriffsprotokoll" in page
    assert "Patient:in angesehen" in page  # the audit log's actions, translated
    assert "Rolling back" not in page and "Nach hinten gedreht" in page  # a finding's label
    live = thera.get(f"/patients/{clinic.ann}/live").text
    assert '<html lang="de">' in live and "Kamera starten" in live  # the live page's own words
    assert "Coaching für ann" in live and "Bewertung speichern" in live
    sheet = thera.get(f"/patients/{clinic.ann}/sheet").text
    assert "Übungsblatt für" in sheet and "Leg dich auf die Seite," in sheet
    refused = thera.post(f"/patients/{clinic.ann}/prescription", data={"csrf_token": "forged"})
    assert refused.status_code == 403 and "Dieses Formular ist abgelaufen" in refused.text
    token = csrf_of(page)
    assert thera.post("/logout", data={"csrf_token": token}).status_code == 303
