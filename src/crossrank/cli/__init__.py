"""The `crossrank` command line."""
