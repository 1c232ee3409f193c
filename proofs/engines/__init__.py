"""The engines: each turns a loaded job into one `Outcome` per property (`run(job, report)`).

explicit (the reference interpreter explored breadth first), bmc, kind (k-induction), pdr (Z3's
Spacer), bdd (symbolic reachability over decision diagrams), houdini (invariants mined at a
smaller heap and pruned to an inductive core), and portfolio, which races them in
processes of their own. solver.py is the one door to Z3; unrolling.py is the toolkit the
solver-based engines share (the unrolled relation, and the replay every counterexample passes).
"""
