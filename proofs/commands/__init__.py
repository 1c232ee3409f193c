"""The bodies of the `specmc` subcommands, grouped by what they run: spec.py (parse, coverage),
explore.py, check.py, witness.py (witness, replay), review.py (review, mutate) and certify.py
(recheck); arguments.py holds what every command checks before any work starts. proofs/cli.py
parses the command line and calls one of these with the parsed arguments; each returns the exit
code (proofs/exitcodes.py).
"""
