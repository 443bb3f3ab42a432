"""Developer tools: `manage.py bench`, `manage.py loadtest` and their helpers.

A Django app outside the product package (`pip install .` ships only `playground`):
settings install it only where it is present beside the code and the test or load extra
is installed.
"""
