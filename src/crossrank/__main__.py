"""`python -m crossrank` is the `crossrank` command."""

from crossrank.cli.main import main

main()
