"""Tests mirror src/: a newcomer finds a module's tests by its path.

``src/clamcoach/a/b.py`` is tested in ``tests/a/test_b.py`` (or ``tests/a/test_b_*.py``). A module
whose tests live elsewhere (it is exercised through a caller, or several small modules share one
file) is listed in TESTED_IN with the files that test it; a new module must be placed either way,
and an entry goes when the mirrored file appears.
"""

from __future__ import annotations

from pathlib import Path

import clamcoach

SRC = Path(clamcoach.__file__).parent
TESTS = Path(__file__).parent

TESTED_IN: dict[str, tuple[str, ...]] = {
    "clamcoach.accounts.cli": ("tests/test_history_cli.py",),
    "clamcoach.accounts.passwords": ("tests/accounts/test_accounts.py", "tests/web/workspace/test_authorization.py"),
    "clamcoach.accounts.roles": ("tests/accounts/test_accounts.py",),
    "clamcoach.accounts.sessions": ("tests/accounts/test_accounts.py", "tests/test_robustness.py"),
    "clamcoach.accounts.users": ("tests/accounts/test_accounts.py", "tests/storage/test_workspace_store.py"),
    "clamcoach.analyze_cmd": ("tests/test_cli.py",),
    "clamcoach.batch.history": ("tests/batch/test_index_and_history.py",),
    "clamcoach.batch.progress": ("tests/batch/test_cli.py",),
    "clamcoach.batch.ray_driver": ("tests/batch/test_batch_ray.py", "tests/batch/test_cli.py"),
    "clamcoach.batch.run": ("tests/batch/test_cli.py", "tests/batch/test_batch_ray.py"),
    "clamcoach.io.atomic": ("tests/io/test_video.py", "tests/test_robustness.py"),
    "clamcoach.jsonio": ("tests/web/test_typed_seams.py", "tests/report/test_warnings_agree.py"),
    "clamcoach.measure.profiles": ("tests/measure/test_landmarks.py", "tests/measure/test_setup_fit.py"),
    "clamcoach.pose.base": ("tests/pose/test_pose.py", "tests/test_public_api.py"),
    "clamcoach.pose.blazepose": ("tests/pose/test_pose.py",),
    "clamcoach.pose.bundle": ("tests/pose/test_pose.py", "tests/test_notices.py"),
    "clamcoach.pose.graph": ("tests/pose/test_pose.py",),
    "clamcoach.pose.litert": ("tests/pose/test_pose.py",),
    "clamcoach.pose.models": ("tests/pose/test_pose.py", "tests/test_install.py", "tests/test_provenance.py"),
    "clamcoach.pose.quiet": ("tests/test_cli.py",),
    "clamcoach.pose.rotation": ("tests/pose/test_pose.py",),
    "clamcoach.pose.smoothing": ("tests/test_filters.py", "tests/pose/test_pose.py"),
    "clamcoach.report.page": ("tests/report/test_html.py", "tests/report/test_progress.py"),
    "clamcoach.report.plots": ("tests/report/test_html.py",),
    "clamcoach.report.progress_plots": ("tests/report/test_progress.py",),
    "clamcoach.report.skeleton": ("tests/report/test_annotate.py",),
    "clamcoach.report.thresholds": ("tests/report/test_html.py", "tests/test_robustness.py"),
    "clamcoach.step": ("tests/report/test_annotate.py", "tests/test_engine.py"),
    "clamcoach.storage.audit": ("tests/storage/test_workspace_store.py",),
    "clamcoach.storage.erase": ("tests/storage/test_workspace_store.py",),
    "clamcoach.storage.models": ("tests/storage/test_migrations.py", "tests/storage/test_store.py"),
    "clamcoach.storage.pain": ("tests/storage/test_workspace_store.py",),
    "clamcoach.storage.prescription": ("tests/storage/test_prescriptions.py",),
    "clamcoach.storage.records": ("tests/storage/test_store.py", "tests/storage/test_migrations.py"),
    "clamcoach.storage.repository": ("tests/storage/test_store.py", "tests/storage/test_concurrency.py"),
    "clamcoach.storage.sets": ("tests/storage/test_store.py", "tests/web/workspace/test_workspace.py"),
    "clamcoach.storage.stats": ("tests/storage/test_store.py",),
    "clamcoach.synth.body": ("tests/synth/test_synth_variation.py",),
    "clamcoach.synth.clamshell": ("tests/synth/test_synth_ground_truth.py", "tests/synth/test_synth_variation.py"),
    "clamcoach.synth.lesson": ("tests/synth/test_render.py",),
    "clamcoach.synth.make_sets": ("tests/synth/test_synth_recipes.py", "tests/synth/test_camera.py"),
    "clamcoach.synth.motion": ("tests/synth/test_synth_variation.py", "tests/synth/test_cli.py"),
    "clamcoach.synth.options": ("tests/synth/test_synth_recipes.py", "tests/synth/test_cli.py"),
    "clamcoach.synth.ranges": ("tests/synth/test_camera.py", "tests/synth/test_synth_variation.py"),
    "clamcoach.synth.scene": ("tests/synth/test_synth_variation.py", "tests/synth/test_render.py"),
    "clamcoach.synth.video": ("tests/synth/test_render.py", "tests/synth/test_degrade.py"),
    "clamcoach.web.app": ("tests/web/test_static.py", "tests/web/test_ws.py"),
    "clamcoach.web.cli": ("tests/web/test_ws.py", "tests/web/test_typed_seams.py"),
    "clamcoach.web.connection": ("tests/web/test_ws.py", "tests/web/test_ws_fuzz.py"),
    "clamcoach.web.cookies": ("tests/web/test_phone_security.py",),
    "clamcoach.web.frames": ("tests/web/test_ws.py", "tests/web/test_static.py"),
    "clamcoach.web.guard": ("tests/web/test_phone_security.py", "tests/web/workspace/test_authorization.py"),
    "clamcoach.web.hub": ("tests/web/test_ws.py", "tests/web/test_browser.py"),
    "clamcoach.web.i18n.extract": ("tests/web/test_i18n.py", "tests/web/workspace/test_i18n_workspace.py"),
    "clamcoach.web.lan": ("tests/web/test_static.py",),
    "clamcoach.web.messages": ("tests/web/test_typed_seams.py", "tests/web/test_static.py"),
    "clamcoach.web.pages": ("tests/web/test_static.py", "tests/web/test_phone_security.py"),
    "clamcoach.web.server": ("tests/web/workspace/test_live_browser.py", "tests/web/workspace/test_phone_workspace.py"),
    "clamcoach.web.session": ("tests/web/test_ws.py", "tests/web/test_setup_hints.py"),
    "clamcoach.web.summary": ("tests/web/test_static.py", "tests/test_engine.py"),
    "clamcoach.web.workspace.config": ("tests/web/workspace/test_workspace.py",),
    "clamcoach.web.workspace.guard": ("tests/web/workspace/test_authorization.py",),
    "clamcoach.web.workspace.login": ("tests/web/workspace/test_authorization.py", "tests/web/workspace/test_workspace.py"),
    "clamcoach.web.workspace.overview": ("tests/web/workspace/test_workspace.py",),
    "clamcoach.web.workspace.patients": ("tests/web/workspace/test_workspace.py", "tests/web/workspace/test_live.py"),
    "clamcoach.web.workspace.records": ("tests/web/workspace/test_workspace.py", "tests/web/workspace/test_authorization.py"),
    "clamcoach.web.workspace.render": ("tests/web/workspace/test_i18n_workspace.py",),
    "clamcoach.web.workspace.sheet": ("tests/web/workspace/test_browser_flows.py", "tests/web/workspace/test_authorization.py"),
    "clamcoach.web.workspace.uploads": ("tests/web/workspace/test_upload_batch.py", "tests/web/workspace/test_authorization.py"),
    "clamcoach.web.workspace.words": ("tests/web/workspace/test_i18n_workspace.py",),
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if rel.name in ("__init__.py", "__main__.py") or rel.name.startswith("_") or "migrations" in rel.parts:
            continue
        out["clamcoach." + ".".join(rel.with_suffix("").parts)] = rel
    return out


def _mirrored(rel: Path) -> list[Path]:
    folder = TESTS / rel.parent
    return sorted(folder.glob(f"test_{rel.stem}.py")) + sorted(folder.glob(f"test_{rel.stem}_*.py"))


def test_every_module_has_tests_at_its_mirrored_path_or_says_where_they_are():
    unplaced = [m for m, rel in _modules().items() if not _mirrored(rel) and m not in TESTED_IN]
    assert unplaced == [], "add tests/<path>/test_<module>.py, or list the module in TESTED_IN"


def test_the_map_names_only_modules_without_a_mirrored_file_and_files_that_exist():
    modules = _modules()
    stale = [m for m in TESTED_IN if m not in modules or _mirrored(modules[m])]
    assert stale == [], "drop these from TESTED_IN (gone, or now tested at their mirrored path)"
    root = TESTS.parent
    missing = [f for files in TESTED_IN.values() for f in files if not (root / f).is_file()]
    assert missing == []


def test_every_test_folder_mirrors_a_package():
    folders = {p.parent.relative_to(TESTS) for p in TESTS.rglob("test_*.py")} - {Path(".")}
    stray = sorted(str(f) for f in folders if not (SRC / f / "__init__.py").is_file())
    assert stray == []
