"""Run s2sad from a checkout without installing it: ``python cli.py grad examples/domke.py::f``."""

from s2sad.cli import entry

if __name__ == "__main__":
    entry()
