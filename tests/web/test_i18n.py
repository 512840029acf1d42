"""The page's message catalogue: every language has every message, in one source of English."""

from __future__ import annotations

import re
import urllib.request

import pytest
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st

from clamcoach.protocol import load_protocol
from clamcoach.web.i18n import LANGUAGES, SOURCE_LANGUAGE, catalogue, negotiate, po_path
from clamcoach.web.i18n.extract import missing, template
from tests.web.helpers import serve

TRANSLATED = [lang for lang in LANGUAGES if lang != SOURCE_LANGUAGE]
PLACEHOLDER = re.compile(r"\{(\w+)\}")


@pytest.fixture(scope="module")
def pot():
    return template()


def test_no_language_misses_a_message(pot):
    assert len(pot) > 150
    assert missing(pot) == {lang: [] for lang in TRANSLATED}


def test_the_protocol_cues_are_the_english_entries(pot):
    proto = load_protocol()
    ids = {m.id for m in pot if m.id}
    for code, text in {**proto.cues, **proto.messages}.items():
        assert text in ids, code
        locations = [loc for loc, _ in pot[text].locations]
        assert any(loc.startswith("protocols/clamshell.toml:") for loc in locations), (code, locations)
    # English is the ids themselves: no English catalogue that could drift from the protocol
    assert not po_path("en").exists()
    assert catalogue("en").gettext(proto.cue("roll_back")) == proto.cue("roll_back")
    assert catalogue("es").gettext(proto.cue("roll_back")) == "Gira hacia delante, levanta menos."
    assert catalogue("de").gettext("a cue a therapist wrote") == "a cue a therapist wrote"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translations_keep_their_placeholders_and_the_plural_rule(lang):
    with po_path(lang).open("rb") as f:
        cat = read_po(f, locale=lang)
    # the page's tn() and Catalogue.ngettext pick the form with n != 1
    assert cat.plural_expr == "(n != 1)" and cat.num_plurals == 2
    for msg in cat:
        if not msg.id:
            continue
        ids = msg.id if isinstance(msg.id, tuple) else (msg.id,)
        strings = msg.string if isinstance(msg.string, tuple) else (msg.string,)
        want = set(PLACEHOLDER.findall(ids[-1]))
        for s in strings:
            assert set(PLACEHOLDER.findall(s)) == want, (ids[0], s)


def test_plural_forms():
    de = catalogue("de")
    assert de.ngettext("You did {n} rep.", "You did {n} reps.", 1) == "Du hast {n} Wiederholung gemacht."
    assert de.ngettext("You did {n} rep.", "You did {n} reps.", 3) == "Du hast {n} Wiederholungen gemacht."
    assert catalogue("en").ngettext("You did {n} rep.", "You did {n} reps.", 0) == "You did {n} reps."


@pytest.mark.parametrize("header, lang", [
    ("de-DE,de;q=0.9,en;q=0.8", "de"), ("es-MX", "es"), ("fr-FR,fr;q=0.9", "en"),
    ("fr;q=1, es;q=0.5", "es"), ("en-GB,de;q=0.5", "en"), ("", "en"), (None, "en"), ("de;q=0", "en"),
])
def test_the_browsers_language_is_chosen(header, lang):
    assert negotiate(header) == lang


@given(st.text(max_size=200))
def test_any_accept_language_header_gives_a_shipped_language(header):
    assert negotiate(header) in LANGUAGES


def test_the_page_is_served_in_the_browsers_language():
    with serve() as (url, _):
        for lang, words in (("es", "Iniciar cámara"), ("de", "Kamera starten"), ("en", "Start camera")):
            req = urllib.request.Request(url + "/", headers={"Accept-Language": lang})
            with urllib.request.urlopen(req, timeout=10) as r:
                html = r.read().decode()
            assert f'<html lang="{lang}">' in html and words in html
        with urllib.request.urlopen(url + "/i18n/de.json", timeout=10) as r:
            import json

            data = json.loads(r.read())
        assert data["lang"] == "de" and data["messages"]["three"] == "drei"
        assert data["messages"]["You did {n} rep."] == ["Du hast {n} Wiederholung gemacht.",
                                                        "Du hast {n} Wiederholungen gemacht."]
