"""The configuration file: its fields, their defaults and ranges, and how it is found and read.

It may import ``domain`` and ``system``.
"""
