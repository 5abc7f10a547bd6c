"""Renderings of the agenda's records for people: the forecast as an HTML page, the coverage report as a PDF."""
