"""Plumbing every room may use: errors, run folders, locks, atomic writes, progress."""
