"""The public surface: __all__ lists exactly what the package offers, each name is the object
docs/ENGINE_API.md documents, and importing the package is light.

Adding or removing a public name means changing PUBLIC below, the package's ``_EXPORTS`` and
the API document together: the tests here fail when one of them moves alone.
"""

import importlib
import importlib.metadata
import inspect
import re
import subprocess
import sys
import types

import pytest

import clamcoach

from conftest import REPO

#: Every public name and its kind ("class", "function" or "str").
PUBLIC = {
    "__version__": "str",
    "Analysis": "class",
    "ClamcoachError": "class",
    "Engine": "class",
    "Finding": "class",
    "Kinematics": "class",
    "LiveAnalyzer": "class",
    "PoseFrame": "class",
    "Protocol": "class",
    "Rep": "class",
    "Step": "class",
    "analyze_video": "function",
    "load_protocol": "function",
    "make_analyzer": "function",
    "open_estimator": "function",
}

API_DOC = REPO / "docs" / "ENGINE_API.md"


def kind(obj: object) -> str:
    if inspect.isclass(obj):
        return "class"
    if inspect.isfunction(obj):
        return "function"
    return type(obj).__name__


def documented_homes() -> dict[str, set[str]]:
    """name -> the modules the API document says it comes from (``from M import a, b`` lines
    and dotted ``clamcoach.m.Name`` mentions)."""
    text = API_DOC.read_text(encoding="utf-8")
    homes: dict[str, set[str]] = {}
    for module, names in re.findall(r"^from (clamcoach[\w.]*) import ([\w, ]+)", text, re.M):
        for name in names.split(","):
            homes.setdefault(name.strip(), set()).add(module)
    for module, name in re.findall(r"\b(clamcoach(?:\.[a-z_]\w*)+)\.([A-Za-z_]\w*)\b", text):
        homes.setdefault(name, set()).add(module)
    return homes


def test_all_is_exactly_the_public_list():
    listed = set(clamcoach.__all__)
    assert listed - set(PUBLIC) == set(), "new public names: add them to PUBLIC and docs/ENGINE_API.md"
    assert set(PUBLIC) - listed == set(), "public names gone: remove them from PUBLIC and the docs"
    assert len(clamcoach.__all__) == len(listed), "a name is listed twice"
    assert sorted(dir(clamcoach)) == sorted(PUBLIC)


def test_the_module_defines_no_public_name_outside_all():
    stray = [name for name, value in vars(clamcoach).items()
             if not name.startswith("_") and not isinstance(value, types.ModuleType)
             and name != "annotations"]  # the __future__ import
    assert stray == []


def test_each_name_is_of_its_kind():
    assert {name: kind(getattr(clamcoach, name)) for name in PUBLIC} == PUBLIC


def test_each_name_is_the_object_the_api_document_names():
    homes = documented_homes()
    for name in PUBLIC:
        if name.startswith("__"):
            continue
        assert homes.get(name), f"{name} is public but docs/ENGINE_API.md does not say where it lives"
        for module in homes[name]:
            assert getattr(importlib.import_module(module), name) is getattr(clamcoach, name), (name, module)


def test_unknown_names_raise_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'engine_internals'"):
        clamcoach.engine_internals  # noqa: B018


def test_version_is_the_installed_distributions():
    assert clamcoach.__version__ == importlib.metadata.version("clamcoach")


def test_import_loads_no_heavy_library():
    code = "import sys, clamcoach; print(sorted(m for m in ('av', 'cv2', 'mediapipe', 'torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
