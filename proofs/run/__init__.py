"""Running a plan: the plan file (`plan`), one unit of checking (`job`), the matrix of runs and
the comparison with expectations (`check`), the same matrix on a Dask cluster (`distribute`), and
verdicts kept on disk between runs (`cache`)."""
