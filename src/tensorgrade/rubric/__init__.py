"""The check library: the vocabulary graders are written in.

A grader (graders/<exercise>.py) creates a `Rubric` and registers one check
function per check id. A check draws inputs with `draw`, calls the function
under test through `Trial.call`, and records what it sees with
`Trial.expect*`. The same check runs on the reference and on the student;
the judge compares the two records.
"""

from tensorgrade.rubric import draw, facts
from tensorgrade.rubric.registry import Rubric
from tensorgrade.rubric.trial import Trial

__all__ = ["Rubric", "Trial", "draw", "facts"]
