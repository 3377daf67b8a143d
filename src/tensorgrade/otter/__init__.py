"""otter-grader and Jupyter integration: otter tests, the student's in-kernel runtime, the grading plugin, the build, the otter engine.

- `expected`: the bundle of check data (check specs, check code, per-check seeds and
  expected records) read instead of the reference solutions;
- `runtime`: the student distribution's check cells: one public check on the student's
  functions, judged in the student's own kernel (their machine; nothing secret there);
- `plugin`: `TensorgradePlugin`, the autograder's grader: keeps the submission as data,
  gives otter's kernel an empty notebook, grades the submission in tensorgrade's sandbox
  from otter's runner process and overwrites otter's results with the verdicts;
- `tests`: otter exception-based test files generated from the exercise YAMLs (real ones
  for the student distribution, placeholders for the autograder);
- `build`: `tensorgrade build` (student distribution and autograder.zip);
- `engine`: `OtterPool`, grading each submission through otter's own runner (and so
  through the plugin).

Where judging happens: never in a process that ran student code, except the student's
own kernel during self-checks. Nothing here is imported by the fast engine.
"""
