"""The background service: APScheduler wakes it, and each tick calls the application layer.

It may import ``app`` and the packages below it.
"""
