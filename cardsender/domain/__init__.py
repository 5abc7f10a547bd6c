"""The vocabulary every layer shares: records, occasions, channels, states, rules of the calendar, errors.

It imports nothing else of cardsender.
"""
