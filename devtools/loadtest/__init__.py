"""`manage.py loadtest`: people with the playground open, simulated by locust.

locustfile.py runs in locust's own process (gevent patches everything there) and never
imports Django; people.py, app.py and report.py run in the command's process.
"""
