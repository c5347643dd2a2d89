"""Drift: does a new batch of images (or a serving trail) look like what the model was
trained on?

`profile` summarises a set of images (per-image statistics, a bounded sample of embeddings,
labels, the model's predictions) as JSON + .npz; `compare` tests a new profile against a
reference; `report` writes the HTML page and JSON summary; `trail` is what serving appends
to; `run` is `pipeline drift`. Nothing here imports TensorFlow or MLflow at module level.
"""
