"""Debian's chromium, launched by playwright for the browser tests.

See ../shared/TOOLCHAIN.md: the browser is Debian's package (``make browser``), never
``playwright install``; without the background-networking flags Chromium itself tries
many outside connections at start.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch(pw, profile: Path, **options):
    """A headless persistent context of Debian's chromium in the fresh ``profile``
    folder (``--user-data-dir``); ``options`` go to playwright (viewport, ...).
    Fails the test, with the command that installs it, when chromium is missing."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium). "
            "Never `playwright install`."
        )
    return pw.chromium.launch_persistent_context(
        str(profile),
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_FLAGS,
        **options,
    )
