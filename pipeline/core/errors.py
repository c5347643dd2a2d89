"""Errors a user can fix: the CLI prints their message on one line and exits non-zero."""


class PipelineError(Exception):
    """An expected failure whose message says what was wrong and how to fix it."""


class DatasetError(PipelineError):
    """A raw folder is not a dataset of the expected format."""


class ValidationFailed(PipelineError):
    """The dataset as a whole failed validation (the report is written all the same)."""
