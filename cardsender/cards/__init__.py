"""The words of a card: what a template may use, which wording goes out, rendering, and the template check.

It may import ``domain``, ``system``, ``config``, ``store`` and ``planning``.
"""
