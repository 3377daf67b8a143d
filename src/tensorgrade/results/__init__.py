"""Stage 4 of the pipeline: the graded record of a student, and what is written from it."""
