"""A stand-in for python:3.11-slim, made with debootstrap, for machines that reach no image registry.

Debian bookworm has CPython 3.11, the Dockerfile's interpreter. The root file system is built once
and cached as a tarball under ~/.cache/climate-atlas/base/; `docker import` turns it into an image
whose tag carries a hash of everything that went into it, so a changed recipe or CA bundle makes a
new base and an unchanged one is reused in well under a second.

The image gets what `docker import` leaves out and the real python image has: PATH and LANG, the
`python` name, and the host's extra CA certificates (this machine reaches the package index
through a proxy that re-signs TLS), with the variables pip and requests read them from.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from dockerd import CACHE, Daemon, log

SUITE = "bookworm"
PACKAGES = ("python3", "python3-pip", "python3-venv", "python-is-python3", "ca-certificates",
            "passwd")  # passwd: useradd, which the Dockerfile runs and minbase lacks
RECIPE_VERSION = "1"  # bump when the steps below change
HOST_CA_DIR = Path("/usr/local/share/ca-certificates")
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
IMPORT_CHANGES = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    f"ENV PIP_CERT={CA_BUNDLE}",
    f"ENV REQUESTS_CA_BUNDLE={CA_BUNDLE}",
    f"ENV SSL_CERT_FILE={CA_BUNDLE}",
    'CMD ["python3"]',
)
BASE_DIR = CACHE / "base"
REPO = "climate-atlas-base"


def host_ca_files() -> list[Path]:
    return sorted(HOST_CA_DIR.rglob("*.crt")) if HOST_CA_DIR.is_dir() else []


def recipe_key() -> str:
    digest = hashlib.sha256()
    for part in (RECIPE_VERSION, SUITE, *PACKAGES, *IMPORT_CHANGES):
        digest.update(part.encode() + b"\0")
    for path in host_ca_files():
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def debian_mirror() -> str:
    """The Debian archive this host's apt already uses (override: CLIMATE_ATLAS_DEBIAN_MIRROR)."""
    if os.environ.get("CLIMATE_ATLAS_DEBIAN_MIRROR"):
        return os.environ["CLIMATE_ATLAS_DEBIAN_MIRROR"]
    texts = []
    for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        if path.suffix in (".list", ".sources") and path.is_file():
            texts.append(path.read_text(errors="replace"))
    for text in texts:
        # deb822: "URIs: <uri>" with "Suites: bookworm ..."; one-line: "deb <uri> bookworm main"
        for stanza in re.split(r"\n\s*\n", text):
            uris = re.search(r"^URIs:\s*(\S+)", stanza, re.M)
            suites = re.search(r"^Suites:\s*(.+)$", stanza, re.M)
            if uris and suites and SUITE in suites.group(1).split() \
                    and uris.group(1).rstrip("/").endswith("/debian"):
                return uris.group(1)
        for match in re.finditer(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", text, re.M):
            if match.group(2) == SUITE and match.group(1).rstrip("/").endswith("/debian"):
                return match.group(1)
    raise RuntimeError("no Debian mirror for bookworm in /etc/apt; set CLIMATE_ATLAS_DEBIAN_MIRROR")


def build_rootfs_tarball(tarball: Path) -> None:
    """debootstrap a minimal bookworm with Python 3.11, then tar it (atomically) to `tarball`."""
    mirror = debian_mirror()
    BASE_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rootfs-", dir=BASE_DIR) as tmp:
        root = Path(tmp) / "rootfs"
        log(f"debootstrap {SUITE} (minbase + {', '.join(PACKAGES)}); takes about a minute")
        subprocess.run(["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}",
                        SUITE, str(root), mirror], check=True, stdout=subprocess.DEVNULL)
        for path in host_ca_files():
            target = root / "usr/local/share/ca-certificates" / path.relative_to(HOST_CA_DIR)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        subprocess.run(["chroot", str(root), "update-ca-certificates"], check=True,
                       stdout=subprocess.DEVNULL)
        # The image is a container, not a Debian system whose packages pip could break (PEP 668).
        for marker in root.glob("usr/lib/python3*/EXTERNALLY-MANAGED"):
            marker.unlink()
        subprocess.run(["chroot", str(root), "apt-get", "clean"], check=True)
        for junk in ("var/lib/apt/lists", "var/cache/apt", "var/log", "tmp"):
            shutil.rmtree(root / junk, ignore_errors=True)
            (root / junk).mkdir(parents=True, exist_ok=True)
        (root / "tmp").chmod(0o1777)
        partial = tarball.with_suffix(".partial")
        subprocess.run(["tar", "--numeric-owner", "-C", str(root), "-cf", str(partial), "."],
                       check=True)
        partial.rename(tarball)


def ensure_base_image(daemon: Daemon) -> str:
    """Tag of the base image for this recipe: reused, imported from the cached tarball, or built."""
    key = recipe_key()
    tag = f"{REPO}:{SUITE}-{key}"
    if daemon.docker("image", "inspect", tag, check=False).returncode == 0:
        log(f"base image {tag} (cached)")
        return tag
    tarball = BASE_DIR / f"{SUITE}-{key}.tar"
    if not tarball.exists():
        build_rootfs_tarball(tarball)
    log(f"docker import {tarball.name} as {tag}")
    args = ["import"]
    for change in IMPORT_CHANGES:
        args += ["--change", change]
    daemon.docker(*args, str(tarball), tag)
    # older bases of this repo are dead weight now
    for old in BASE_DIR.glob(f"{SUITE}-*.tar"):
        if old != tarball:
            old.unlink()
    return tag
