"""`python -m optimizer.cli` runs the `aift` command."""

from optimizer.cli import main

main()
