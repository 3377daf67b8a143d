"""The instructor's term beyond grading: late policy, extensions, adjustments (and the standing they give).

`load_term(course)` reads course.yml's `policy:` and the CSV files beside it; `standing(record, term)`
is a pure function from a stored record to the final numbers every output shows.
"""

from __future__ import annotations

from tensorgrade.spec.course import Course
from tensorgrade.term.adjustments import read_adjustments
from tensorgrade.term.csvfile import course_file
from tensorgrade.term.extensions import read_extensions
from tensorgrade.term.standing import Applied, Standing, Term, standing

__all__ = ["Applied", "Standing", "Term", "load_term", "standing", "standing_for"]


def load_term(course: Course) -> Term:
    """The course's policy plus extensions.csv and adjustments.csv; SpecError (file, line, field) when wrong."""
    policy = course.spec.policy
    extensions, ext_name = {}, ""
    if policy.extensions:
        path, ext_name = course_file(course.root, policy.extensions)
        extensions = read_extensions(path, ext_name)
    path, adj_name = course_file(course.root, policy.adjustments)
    adjustments = tuple(read_adjustments(path, adj_name, course)) if path.is_file() else ()
    return Term(due=course.spec.assignment.due, late=policy.late, extensions=extensions,
                adjustments=adjustments, extensions_file=ext_name, adjustments_file=adj_name)


def standing_for(record, course: Course, term: Term | None = None) -> Standing:
    return standing(record, term if term is not None else load_term(course))
