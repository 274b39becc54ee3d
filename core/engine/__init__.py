"""The formula language and the sheet: exact arithmetic, ordered cells, compiled functions."""
