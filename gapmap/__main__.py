"""`python -m gapmap`: the `gapmap` command."""

from gapmap.cli import main

if __name__ == "__main__":  # pragma: no cover
    main(prog_name="gapmap")
