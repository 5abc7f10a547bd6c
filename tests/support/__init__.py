"""The test harness every test module shares: offices (a config and a real database), customers, the CLI, SMTP.

Test modules import from here (or from ``tests.smtpd``, ``tests.images``, ``tests.fleet``), never from each other.
"""
