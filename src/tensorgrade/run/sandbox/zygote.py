"""The zygote's entry script, run by path as `python -I -u zygote.py`.

`-I` keeps the environment and the current folder out of the import path; the
package this file belongs to is put back on it, then nothing but the standard
library is imported until the namespaces are entered (layers.ZYGOTE_LAYERS).
"""

import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..")))

from tensorgrade.run.sandbox.server import main  # noqa: E402

if __name__ == "__main__":
    main()
