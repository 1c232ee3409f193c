"""Properties, engines, verdicts, reports, and the command line."""
