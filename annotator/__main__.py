"""``python -m annotator``: the ``annotator`` command."""

from annotator.cli import main

main()
