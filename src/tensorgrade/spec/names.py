"""File names of a course folder, importable without pydantic (the CLI's light path reads them)."""

COURSE_FILE = "course.yml"
