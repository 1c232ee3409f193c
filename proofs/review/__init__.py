"""Changed spec text, and what the change does: a real change reviewed, synthetic ones measured.

review.py is `specmc review BASE HEAD`: the algorithms that changed, whether the compiled model
changed (by its normal form), new unknown steps, and every verdict on both sides (rendered by
proofs/report/review.py). mutate.py is `specmc mutate`: semantic mutants of the text, each judged
by the same normal form and the property catalogue, to measure how complete the catalogue is.
"""
