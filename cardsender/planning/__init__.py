"""What is due and when: occasion dates, mail days, the pure planner, and the agenda built on the store.

It may import ``domain``, ``system``, ``config`` and ``store``.
"""
