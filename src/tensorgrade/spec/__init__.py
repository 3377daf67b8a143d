"""Stage 1 of the pipeline: course and exercise specifications (YAML), validated."""

from tensorgrade.spec.errors import SpecError
from tensorgrade.spec.models import CheckSpec, CourseSpec, ExerciseSpec, FunctionSpec, Tolerance

__all__ = ["SpecError", "CheckSpec", "CourseSpec", "ExerciseSpec", "FunctionSpec", "Tolerance"]
