"""The exit-code table of `specmc` (documented in the README; tests assert it)."""

OK = 0  # every verdict as expected / the command did what was asked
FINDING = 1  # a verdict differs from its expectation, or a stale expectation
INPUT_ERROR = 2  # bad input: unreadable or malformed text, bad arguments, unknown clause
INTERNAL_ERROR = 3  # a bug in specmc (reported as such, never as a finding)
NOT_CHECKED = 4  # review: a side's model cannot be built or a verdict is UNKNOWN on both sides;
# check: a row passed without deciding anything (UNKNOWN where the plan expects none, BOUNDED short
# of the cover, a PROVED whose cover was not checked or cut at cells-once: Row.undecided), and
# nothing else failed
INTERRUPTED = 130  # Ctrl-C: stopped by the user (128 + SIGINT, as shells report it)
TERMINATED = 143  # SIGTERM (kill, a service manager, a CI job's timeout): stopped as by Ctrl-C, 128 + 15
HUNG_UP = 129  # SIGHUP (the terminal closed): stopped as by Ctrl-C, 128 + 1
