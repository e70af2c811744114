"""The `sqldistill` command line: start the stack, check it, run one service, evaluate predictions."""
