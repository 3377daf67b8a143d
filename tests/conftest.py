"""Test groups: `python -m pytest` runs everything (CI); `python -m pytest -m "not e2e"` is the fast loop;
`-m bundled` selects the tests of the bundled course as shipped (its exercise list, points and demo
class); `-m "not bundled"` are the engine's tests, which use tests/fixtures/engine_course (a frozen
course.yml of the six bundled exercises) and do not change when the bundled course gains an exercise.

End-to-end tests start sandboxes, grade classes or run otter; they live in the files below and
are marked `e2e` here, so each test file stays about one thing.
"""

from __future__ import annotations

import pytest

E2E_FILES = {"test_adversarial.py", "test_attacks.py", "test_cluster.py", "test_commands.py", "test_grade.py",
             "test_intake_e2e.py", "test_otter.py", "test_reports.py", "test_sandbox.py"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in E2E_FILES:
            item.add_marker(pytest.mark.e2e)
        if "demo" in getattr(item, "fixturenames", ()):  # the demo class graded with the bundled course
            item.add_marker(pytest.mark.bundled)
