"""The page as each deployment builds it: the browser's never imports the server-only map code."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SERVER_ONLY = ("climate_atlas.server_extras", "cartopy", "geoviews", "shapely", "pyproj")
_BUILD_AND_LIST = f"""
import json, sys
from climate_atlas.layout import build_dashboard
build_dashboard()
print(json.dumps([m for m in {list(SERVER_ONLY)!r} if m in sys.modules]))
"""


def _imported_server_modules(target: str) -> list[str]:
    """Build the dashboard in a fresh interpreter for `target`; the server-only modules it imported."""
    result = subprocess.run([sys.executable, "-c", _BUILD_AND_LIST], capture_output=True, text=True,
                            env={**os.environ, "CLIMATE_ATLAS_TARGET": target},
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_browsers_page_never_imports_server_only_code() -> None:
    assert _imported_server_modules("browser") == []


def test_the_servers_page_draws_the_served_map() -> None:
    assert {"climate_atlas.server_extras", "cartopy"} <= set(_imported_server_modules("server"))
