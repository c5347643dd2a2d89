"""Reproducible MLOps pipeline for plates, driving and captions."""
