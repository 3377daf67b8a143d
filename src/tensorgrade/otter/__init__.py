"""otter-grader and Jupyter integration: generated otter tests, the in-kernel runtime, the build and the otter engine.

- `expected`: the bundle of check data (check specs, check code, per-check seeds and
  expected records) that otter tests and the student self-check read instead of the
  reference solutions;
- `runtime`: what runs inside otter's kernel: one check on the student's functions, judged;
- `tests`: otter exception-based test files generated from the exercise YAMLs;
- `build`: `tensorgrade build` (student distribution and autograder.zip);
- `engine`: `OtterPool`, grading each submission with otter's own runner.

Nothing here is imported by the fast engine.
"""
