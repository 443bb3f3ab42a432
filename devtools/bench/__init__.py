"""The sections of `manage.py bench`: scratch places (scratch.py), the rows and files they
run on (seeding.py), the timings and memory peaks (measuring.py), and what is measured:
pages through the test client (pages.py), trackers (trackers.py)."""
