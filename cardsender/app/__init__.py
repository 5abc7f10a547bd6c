"""The application layer: the product's verbs, which the command line, the service and the demo call.

It may import every library package; only ``service`` and ``cli`` import it.
"""
