"""tensorgrade: auto-graded homework for PyTorch autograd.

The pipeline (see docs/architecture.md):

    spec  ->  intake (files as text)  ->  run (student code, sandboxed)  ->  judge  ->  results  ->  render
"""

__version__ = "0.1.0"
