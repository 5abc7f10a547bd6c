"""The machine the office runs on: the clock, platform folders, private files, other processes.

It may import ``domain`` only.
"""
