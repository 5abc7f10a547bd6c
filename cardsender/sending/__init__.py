"""Email out: the send cycle over the outbox, building each message, the transports, and bounces.

It may import the packages below it: ``domain``, ``system``, ``config``, ``store``, ``planning`` and ``cards``.
"""
