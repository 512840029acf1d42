"""The public surface: __all__ lists exactly what the package offers, and importing it is light."""

import subprocess
import sys

import clamcoach


def test_every_exported_name_resolves():
    for name in clamcoach.__all__:
        assert getattr(clamcoach, name) is not None, name


def test_import_loads_no_heavy_library():
    code = "import sys, clamcoach; print(sorted(m for m in ('av', 'cv2', 'mediapipe', 'torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
