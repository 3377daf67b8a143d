"""Stage 3 of the pipeline: run student code in a sandbox (sandbox/, policy/, child.py); the reference runs here too, outside it."""
