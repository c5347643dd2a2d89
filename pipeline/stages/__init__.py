"""Thin stages: read params, call the task or core, write outputs atomically, report."""
