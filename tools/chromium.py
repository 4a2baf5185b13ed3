"""The browser every test, benchmark and build step drives: Debian's chromium (the network here has no
Playwright browser download), and the switches its Playwright launches share.

`CLIMATE_ATLAS_CHROMIUM` names another binary. The switches keep the browser on 127.0.0.1 (every
other host name resolves to nothing, so a request that leaks is an error, not a download) and stop
its background traffic (component updates, sync, first-run pages), which would blur byte counts.
"""

from __future__ import annotations

import os

CHROMIUM = os.environ.get("CLIMATE_ATLAS_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run",
               "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
