"""Run s2sad from a checkout without installing it: ``python cli.py grad examples/domke.py::f``."""

import sys

from s2sad.cli import main

if __name__ == "__main__":
    sys.exit(main())
