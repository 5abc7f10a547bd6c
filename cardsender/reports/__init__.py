"""What the owner reads: the morning digest, the forecast page and the coverage report.

It may import every package below it up to ``sending`` and ``printing``.
"""
