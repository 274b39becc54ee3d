"""What each command reports, as records: run, train, infer, solve, compare, sweep."""
