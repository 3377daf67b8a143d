"""Stage 1 of the pipeline: course and exercise specifications (YAML), validated.

    models.py   the pydantic schema      course.py  loading a course folder
    errors.py   one line per mistake     names.py   file names (no imports: the CLI reads them)
"""
