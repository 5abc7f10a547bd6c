"""Posted cards: print batches, card layouts, envelopes and address labels, and the fonts they use.

It may import the packages below it: ``domain``, ``system``, ``config``, ``store``, ``planning`` and ``cards``.
"""
