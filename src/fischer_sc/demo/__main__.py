"""Command line: ``python -m fischer_sc.demo [--out DIR] [--quick] [--quiet]``."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo from the command line and print where the report is.

    Parameters
    ----------
    argv
        Arguments; ``None`` reads :data:`sys.argv`.

    Returns
    -------
    The exit status, 0 on success.
    """
    parser = argparse.ArgumentParser(
        prog="python -m fischer_sc.demo",
        description="Run the fischer_sc end-to-end demo on shipped data; write demo.h5ad, PNG figures and report.html.",
    )
    parser.add_argument("--out", default="results", help="output directory (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="skip or shorten expensive steps")
    parser.add_argument("--quiet", action="store_true", help="log warnings only, no progress lines")
    args = parser.parse_args(argv)

    import matplotlib

    if "MPLBACKEND" not in os.environ:
        matplotlib.use("agg")  # files only; no window ever opens
    import scanpy as sc

    from . import run

    sc.settings.verbosity = "warning" if args.quiet else "info"
    report = run(args.out, quick=args.quick)
    print(f"fischer_sc demo: report written to {report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
