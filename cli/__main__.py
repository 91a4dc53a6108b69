"""``python -m cli ...``: the same as the ``musicrec`` entry point."""

from cli.main import main

main()
