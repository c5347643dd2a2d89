"""`pipeline tune`: a hyper-parameter sweep on Ray Tune whose trials are ordinary trainings.

Each trial runs `pipeline train` in a scratch workspace of its own with the sweep's params
applied, reports every epoch's validation loss to an ASHA scheduler that stops the poor
trials early, and logs one MLflow child run under the sweep's parent run. The best trial is
evaluated and registered by the same commands as `pipeline evaluate` and `pipeline register`,
and its params are written as a params file and a `dvc exp run -S` line that reproduce it.
Ray is imported inside functions: it is an extra (`requirements/tune.lock`).
"""
