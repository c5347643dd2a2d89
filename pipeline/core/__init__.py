"""Machinery written once and shared by every task."""
