"""Fast unit tests of the static-site build's helpers (tools/build_site/; no downloads, no build/)."""
from __future__ import annotations

import zipfile

import pytest

from tools.build_site import dependencies, files, panel_patches, service_worker
from tools.build_site.slim import slim


def test_slim_drops_folders_and_rewrites_record(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "CACHE", tmp_path / "cache")
    wheel = tmp_path / "panel-1.9.4-py3-none-any.whl"
    record = "panel/__init__.py,sha256=x,1\npanel/dist/panel.js,sha256=y,2\n" \
             "panel/tests/test_a.py,sha256=z,3\npanel-1.9.4.dist-info/RECORD,,\n"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("panel/__init__.py", "")
        z.writestr("panel/dist/panel.js", "js")
        z.writestr("panel/tests/test_a.py", "")
        z.writestr("panel-1.9.4.dist-info/RECORD", record)
    slimmed = slim(wheel)
    with zipfile.ZipFile(slimmed) as z:
        assert z.namelist() == ["panel/__init__.py", "panel-1.9.4.dist-info/RECORD"]
        assert z.read("panel-1.9.4.dist-info/RECORD").decode() == \
            "panel/__init__.py,sha256=x,1\npanel-1.9.4.dist-info/RECORD,,\n"


def test_other_wheels_are_not_slimmed(tmp_path):
    wheel = tmp_path / "param-2.3.1-py3-none-any.whl"
    assert slim(wheel) is wheel


def test_dependency_markers_are_evaluated_for_pyodide():
    from packaging.requirements import Requirement

    assert not dependencies.marker_ok(Requirement('tornado>=6.2; sys_platform != "emscripten"'))
    assert not dependencies.marker_ok(Requirement('colorama; platform_system == "Windows"'))
    assert not dependencies.marker_ok(Requirement('pyarrow; extra == "all"'))
    assert dependencies.marker_ok(Requirement('narwhals>=2'))


def test_replace_once_refuses_a_changed_template():
    assert panel_patches.replace_once("a b c", "b", "x", "t") == "a x c"
    with pytest.raises(panel_patches.PatchError, match="Panel template changed"):
        panel_patches.replace_once("a b b", "b", "x", "t")


def test_prelude_sets_cdn_root_target_and_jsnull_before_panel():
    prelude = panel_patches.PRELUDE
    assert "PANEL_CDN_ROOT" in prelude and "CLIMATE_ATLAS_TARGET" in prelude
    assert "jsnull" in prelude and "import panel" not in prelude


def test_build_version_names_the_files_and_nothing_else(tmp_path):
    """A rebuild with the same files keeps its name; any changed byte gives a new one (a new cache in
    the browser). The page's copy of the name does not count, or no name could ever be stable."""
    (tmp_path / "index.html").write_text(f"<head>{panel_patches.BUILD_META.format('')}</head>")
    wheel = tmp_path / "pyodide" / "holoviews-1.23.2-py3-none-any.whl"
    wheel.parent.mkdir()
    wheel.write_bytes(b"A")
    version = service_worker.add_service_worker(tmp_path)
    assert service_worker.site_version(tmp_path) == version
    assert f"const VERSION = '{version}';" in (tmp_path / "sw.js").read_text()
    assert service_worker.add_service_worker(tmp_path) == version
    wheel.write_bytes(b"B")
    assert service_worker.add_service_worker(tmp_path) not in ("", version)


def test_every_worker_patch_refuses_a_worker_it_was_not_written_for():
    """A changed Panel template fails the build with a message, never passes through unpatched."""
    for patch in (panel_patches.patch_worker_errors,
                  lambda js: panel_patches.load_boot_from_lock(js, ["panel"]),
                  lambda js: panel_patches.restore_snapshot_first(js, "restore()")):
        with pytest.raises(panel_patches.PatchError, match="main.js"):
            patch("startApplication()")


def test_the_handover_patch_refuses_a_page_it_was_not_written_for():
    with pytest.raises(panel_patches.PatchError, match="render handler"):
        panel_patches.keep_prerender_until_ready("<body><script>\n      const pyodideWorker = "
                                                  "new Worker(</script></body>")


def test_the_snapshot_maker_gets_the_workers_own_jsnull_shim():
    maker = (files.TOOLS / "snapshot_make.js").read_text()
    assert "__JSNULL_SHIM__" in maker and "jsnull = object()" not in maker  # filled in, not copied
    assert panel_patches.JSNULL_SHIM in panel_patches.PRELUDE
    assert panel_patches.JSNULL_SHIM in panel_patches.BASELINE_PRELUDE

