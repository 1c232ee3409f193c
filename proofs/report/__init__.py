"""Reports: what a command found, as text for people and for tools. Each format is a function
from a plain value to a string (the command line writes it, atomically).

check.py renders a check `Report` as text, Markdown, JSON, JUnit XML or SARIF; html.py renders it
as one self-contained HTML page with every counterexample drawn; review.py renders a `Review` as
text, Markdown, JSON, SARIF or GitHub workflow annotations; formats.py lists the formats of
both. sarif.py is the one SARIF writer both use: check.py and review.py choose the rules and
results, it gives them their SARIF shape.
"""
