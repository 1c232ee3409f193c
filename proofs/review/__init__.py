"""Changed spec text, and what the change does: a real change reviewed, synthetic ones measured.

review.py is `specmc review BASE HEAD`: the algorithms that changed (changes.py), whether the
compiled model changed (by its normal form), new unknown steps, hand-modelled clauses whose text
changed (hand.py), and every verdict on both sides, the properties a change can affect first
(order.py), on the two texts as sides.py reads them (rendered by proofs/report/review.py).
mutate.py is `specmc mutate`: semantic mutants of the text, each judged by the same normal form
and the property catalogue, to measure how complete the catalogue is.
"""
