"""Stage 3 of the pipeline: compare a student's observations with the reference's, outside the student's process."""
