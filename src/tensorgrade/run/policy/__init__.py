"""The submission policy: what student code may do, enforced in the language itself.

    rules.py       the policy's data: allowed imports, refused attributes, allowed dunder methods, audit events
    compiler.py    RestrictedPython with our transformer: refusals at compile time, hooks inserted
    guards.py      the hooks at run time: attribute reads and writes, imports, builtins; refusals recorded
    loader.py      a submission's files as modules (notebooks cell by cell), never through sys.modules
    audit.py       the second net: a CPython audit hook
    torch_state.py torch's global settings, put back after every student call

Importing this package's __init__ imports nothing (rules is read by spec/ too).
"""
