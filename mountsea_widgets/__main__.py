"""``python -m mountsea_widgets batch ...``: the package's command line (see ``--help``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

USAGE = (
    "usage: python -m mountsea_widgets batch [SPEC.json] [options]   (--help for the options)\n"
    "       python -m mountsea_widgets.simulator                      (the offline simulator)\n"
)


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to the sub-command; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "batch":
        from .batches._cli import main as batch_main

        return batch_main(args[1:])
    sys.stderr.write(USAGE)
    return 0 if args and args[0] in ("-h", "--help") else 2


if __name__ == "__main__":
    sys.exit(main())
