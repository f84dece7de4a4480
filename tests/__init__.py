"""Test-suite constants shared by every test module."""

import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(REPO, "fixtures")
TINY_XLMR = os.path.join(FIXTURES, "tiny-xlmr")
FIXTURE_DATA = os.path.join(FIXTURES, "data")
SHARED_DATA = os.path.normpath(os.path.join(REPO, "..", "shared", "data"))
