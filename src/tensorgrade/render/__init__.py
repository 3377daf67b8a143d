"""Stage 5 of the pipeline: show results to people (terminal, HTML, PDF)."""
