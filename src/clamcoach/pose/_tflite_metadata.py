"""Add TFLite input-normalisation metadata to BlazePose's legacy model files.

The MediaPipe Tasks API refuses a float image input without ``NormalizationOptions``;
the legacy ``.tflite`` files carry none. mediapipe's own metadata writer adds it.
"""

from __future__ import annotations

import gc
import sys
import types
import warnings

_VERSION_MODULE = "mediapipe.tasks.cc.metadata.python._pywrap_metadata_version"


def _import_metadata_writer() -> types.ModuleType:
    """Import mediapipe's metadata writer, standing in for one compiled module it lacks.

    mediapipe 1.2.2's ``metadata.py`` imports ``_pywrap_metadata_version``, which the wheel
    does not ship (nor its parent packages). It only computes the minimum metadata-parser
    version, "1.0.0" for image-input metadata. The stand-ins live in ``sys.modules`` just for
    the import, so nothing else sees fake mediapipe packages.
    """
    added: list[str] = []
    try:
        __import__(_VERSION_MODULE)
    except ImportError:
        parts = _VERSION_MODULE.split(".")
        for i in range(3, len(parts) + 1):  # from "mediapipe.tasks.cc" down
            name = ".".join(parts[:i])
            if name in sys.modules:
                continue
            module = types.ModuleType(name)
            if i < len(parts):
                module.__path__ = []  # a package, so the next level can hang below it
            sys.modules[name] = module
            added.append(name)
            parent = sys.modules[".".join(parts[: i - 1])]
            setattr(parent, parts[i - 1], module)
        sys.modules[_VERSION_MODULE].GetMinimumMetadataParserVersion = lambda _buf: "1.0.0"
    try:
        from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer
    finally:
        for name in reversed(added):
            sys.modules.pop(name, None)
        if added:
            parts = added[0].split(".")
            delattr(sys.modules[".".join(parts[:-1])], parts[-1])
    return metadata_writer


def with_image_normalization(model: bytes, *, mean: float, std: float, name: str) -> bytes:
    """Return ``model`` with image-input metadata: the model sees ``(pixel - mean) / std``."""
    with warnings.catch_warnings():
        # mediapipe's writer leaves files of its own open (closed by the collector below).
        warnings.simplefilter("ignore", ResourceWarning)
        return _with_image_normalization(model, mean=mean, std=std, name=name)


def _with_image_normalization(model: bytes, *, mean: float, std: float, name: str) -> bytes:
    metadata_writer = _import_metadata_writer()
    writer = metadata_writer.MetadataWriter.create(bytearray(model))
    try:
        writer.add_general_info(name)
        writer.add_image_input(norm_mean=[mean], norm_std=[std])
        model_with_metadata, _json = writer.populate()
    finally:
        # The writer sits in a reference cycle; left to interpreter exit, its __del__ prints
        # a traceback. Clean its temp folder now and collect it while ``os`` still exists.
        writer._temp_folder.cleanup()
        del writer
        gc.collect()
    return bytes(model_with_metadata)
