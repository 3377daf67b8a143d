"""Stage 2 of the pipeline: read submissions and run student code in a sandbox; the reference runs here too, outside it."""
