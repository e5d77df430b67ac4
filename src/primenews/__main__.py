"""`python -m primenews` runs the CLI."""

from primenews.cli import main

main()
