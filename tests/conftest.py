"""Shared fixtures: running a listing as a student would, `python listings/listing-16-1X.py`."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def run_listing():
    """Run `listings/<name>.py` from the repository's root once per session; return the CompletedProcess."""
    done = {}

    def run(name):
        if name not in done:
            done[name] = subprocess.run(
                [sys.executable, f"listings/{name}.py"],
                cwd=ROOT, capture_output=True, text=True, timeout=60,
            )
        return done[name]

    return run
