"""When a student sees the details of hidden checks: course.yml's `hidden_feedback`, in Gradescope's words.

Apart from results/otter.py so that rendering a report (HTML, PDF) does not import otter-grader,
whose package import alone costs over a second (it loads nbconvert and IPython).
"""

from __future__ import annotations

import datetime as dt

from tensorgrade.spec.course import Course


def hidden_visibility(course: Course, now: dt.datetime | None = None) -> str:
    """Gradescope visibility of hidden checks, from course.yml's `hidden_feedback`."""
    mode = course.spec.grading.hidden_feedback
    if mode == "always":
        return "visible"
    if mode == "never":
        return "hidden"
    now = now or dt.datetime.now(dt.timezone.utc)
    return "visible" if now >= course.spec.assignment.due else "after_published"
