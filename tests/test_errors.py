"""One exception tree: every exception class clamcoach defines derives from ClamcoachError,
and the built-in exceptions src/ raises are only argument-contract checks no user input reaches.

TREE is the tree as it is; a new exception class (or a moved one) fails here until it is
listed, with its parents.
"""

from __future__ import annotations

import ast
import builtins
import importlib
from pathlib import Path

import pytest

import clamcoach
from clamcoach.errors import ClamcoachError

SRC = Path(clamcoach.__file__).parent

#: module:Class -> the clamcoach classes it derives from directly (built-in bases after a "+":
#: kept where callers catch ValueError).
TREE = {
    "clamcoach.errors:ClamcoachError": "Exception",
    "clamcoach.errors:UsageError": "ClamcoachError",
    "clamcoach.errors:ProtocolError": "ClamcoachError",
    "clamcoach.errors:InputError": "ClamcoachError",
    "clamcoach.errors:InputNotFound": "InputError",
    "clamcoach.errors:NotAVideo": "InputError",
    "clamcoach.errors:EmptyVideo": "InputError",
    "clamcoach.errors:TooShort": "InputError",
    "clamcoach.errors:InputChanged": "InputError",
    "clamcoach.errors:NoPersonError": "ClamcoachError",
    "clamcoach.errors:NobodyLyingDown": "NoPersonError",
    "clamcoach.errors:ModelMissing": "ClamcoachError",
    "clamcoach.errors:OutputError": "ClamcoachError",
    "clamcoach.errors:OptionalDependencyMissing": "ClamcoachError",
    "clamcoach.errors:StorageError": "ClamcoachError",
    "clamcoach.accounts.users:UnknownUser": "UsageError",
    "clamcoach.storage.repository:UnknownPatient": "UsageError",
    "clamcoach.storage.records:BadReport": "ClamcoachError+ValueError",
    "clamcoach.series:SeriesError": "ClamcoachError+ValueError",
    "clamcoach.web.tls:CertificateError": "OutputError",
    "clamcoach.web.session:SessionError": "ClamcoachError",
    "clamcoach.web.hub:Busy": "ClamcoachError",
    "clamcoach.web.messages:MessageError": "ClamcoachError+ValueError",
    "clamcoach.web.frames:FrameError": "ClamcoachError+ValueError",
    "clamcoach.web.workspace.guard:Denied": "ClamcoachError",
    "clamcoach.web.workspace.uploads:UploadFailed": "ClamcoachError",
}

#: Built-in exceptions src/ may raise: (file, exception) -> why no user reaches it.
BUILTIN_RAISES = {
    ("__init__.py", "AttributeError"): "module __getattr__: the protocol Python expects",
    ("analysis.py", "ValueError"): "validate_report; storage maps it to StorageError",
    ("types.py", "KeyError"): "Kinematics.value of a name that is no measure: a caller's bug",
    ("series.py", "KeyError"): "an unknown column: a caller's bug, loud on purpose (no default)",
    ("report/export.py", "ValueError"): "landmarks asked of a series that kept none (live sets); exports come from files' analyses, which keep them",
    ("pose/base.py", "ValueError"): "an estimator given a non-RGB array: a caller's bug",
    ("pose/models.py", "ValueError"): "an unknown variant; the CLI offers only the known ones",
    ("pose/models.py", "KeyError"): "mapped to ModelMissing a line below",
    ("pose/models.py", "SystemExit"): "the module's own command line",
    ("pose/rotation.py", "ValueError"): "quarter turns other than 1 or 3: a caller's bug",
    ("pose/segments.py", "ValueError"): "segment lengths are constants",
    ("pose/segments.py", "TypeError"): "a backend without reset(): a programming error",
    ("report/skeleton.py", "ValueError"): "landmarks of a wrong shape: a caller's bug",
    ("web/i18n/__init__.py", "ValueError"): "languages come from negotiate(), always known",
    ("web/server.py", "RuntimeError"): "the test server did not start",
    # the synthetic-data tools are developer commands
    ("synth/camera.py", "ValueError"): "renderer arguments",
    ("synth/cli.py", "SystemExit"): "argparse-style exit",
    ("synth/motion.py", "ValueError"): "recipe arguments",
    ("synth/render.py", "ValueError"): "renderer arguments",
    ("synth/video.py", "ValueError"): "renderer arguments",
}


def exception_classes() -> dict[str, type[BaseException]]:
    """Every exception class defined in src/clamcoach (found by reading the source, then
    imported to ask Python for its real bases)."""
    found: dict[str, type[BaseException]] = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        module_name = ".".join(rel.parts).removesuffix(".__init__")
        classes = [n.name for n in ast.parse(path.read_text("utf-8")).body
                   if isinstance(n, ast.ClassDef) and n.bases]
        suspects = [c for c in classes if _looks_like_exception(path, c)]
        if not suspects:
            continue
        module = importlib.import_module(module_name)
        for name in suspects:
            cls = getattr(module, name)
            if isinstance(cls, type) and issubclass(cls, BaseException):
                found[f"{module_name}:{name}"] = cls
    return found


def _looks_like_exception(path: Path, name: str) -> bool:
    # Importing every module would pull torch (synth) and Ray; only those whose classes name an
    # exception base are imported.
    tree = ast.parse(path.read_text("utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            bases = [ast.unparse(b) for b in node.bases]
            return any(b.endswith(("Error", "Exception", "Denied", "Busy", "Missing", "Found",
                                   "Video", "Short", "Changed", "Down", "BadReport", "Warning"))
                       for b in bases)
    return False


def test_the_tree_is_as_listed():
    found = exception_classes()
    assert sorted(found) == sorted(TREE)
    for key, cls in found.items():
        direct = [b.__name__ for b in cls.__bases__ if b.__module__.startswith("clamcoach")]
        builtin = [b.__name__ for b in cls.__bases__ if b.__module__ == "builtins"]
        assert "+".join(direct + builtin) == TREE[key], key


@pytest.mark.parametrize("key", sorted(TREE))
def test_every_error_derives_from_clamcoach_error(key):
    module, name = key.split(":")
    cls = getattr(importlib.import_module(module), name)
    assert issubclass(cls, ClamcoachError)
    assert isinstance(cls.exit_code, int) and cls.exit_code >= 1


def test_exit_codes_tell_the_kinds_apart():
    from clamcoach import errors

    roots = [errors.UsageError, errors.ProtocolError, errors.InputNotFound, errors.NotAVideo,
             errors.EmptyVideo, errors.NoPersonError, errors.ModelMissing, errors.OutputError,
             errors.OptionalDependencyMissing, errors.StorageError, errors.TooShort, errors.InputChanged]
    assert [c.exit_code for c in roots] == list(range(2, 14))
    assert errors.ClamcoachError.exit_code == 1


def builtin_raises() -> set[tuple[str, str]]:
    out = set()
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Raise) or node.exc is None:
                continue
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(exc, ast.Name) and isinstance(getattr(builtins, exc.id, None), type) \
                    and issubclass(getattr(builtins, exc.id), BaseException):
                out.add((path.relative_to(SRC).as_posix(), exc.id))
    return out


def test_builtin_exceptions_are_raised_only_where_no_user_reaches():
    unexpected = builtin_raises() - set(BUILTIN_RAISES)
    assert unexpected == set(), "raise a ClamcoachError subclass (errors.py) instead, or say why not here"


def test_a_too_small_frame_size_is_a_usage_error(tmp_path):
    from clamcoach.errors import UsageError
    from clamcoach.io.video import open_video

    with pytest.raises(UsageError, match="at least 16"):
        open_video(tmp_path / "x.mp4", max_side=8)


def test_page_errors_are_still_value_errors_where_callers_catch_value_error():
    from clamcoach.storage.records import BadReport, num
    from clamcoach.web.frames import parse_frame
    from clamcoach.web.messages import parse_text

    with pytest.raises(ValueError, match="not JSON"):
        parse_text("{")
    with pytest.raises(ValueError, match="too short"):
        parse_frame(b"\x00", 0.0)
    with pytest.raises(BadReport, match="not a number"):
        num("abc", "opening")


def test_the_tree_drawn_in_errors_docstring_is_the_tree_of_the_classes():
    """A newcomer reads the tree at the top of errors.py: each class is drawn under its parent,
    with its exit code."""
    import re

    import clamcoach.errors as errors

    parents: list[str] = []
    drawn = {}
    for line in errors.__doc__.splitlines():
        m = re.match(r"^    ([│├└─ ]*)(\w+) \((\d+)\)", line)
        if not m:
            continue
        depth = len(m.group(1)) // 4
        name, code = m.group(2), int(m.group(3))
        parents[depth:] = [name]
        drawn[name] = (parents[depth - 1] if depth else None, code)
    classes = {n: c for n, c in vars(errors).items() if isinstance(c, type) and issubclass(c, ClamcoachError)}
    assert set(drawn) == set(classes)
    for name, (parent, code) in drawn.items():
        cls = classes[name]
        assert cls.exit_code == code, name
        if parent is not None:
            assert cls.__bases__[0] is classes[parent], name
