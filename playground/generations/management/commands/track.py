import signal
import threading

from django.core.management.base import BaseCommand

from playground.generations.tracker import Tracker


class Command(BaseCommand):
    help = "Poll in-flight generations and resume any that stalled, until stopped."
    # The tracker rides out a database that is briefly away; the system checks ask the
    # database (SQLite's JSON support) and would end it before its first pass.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--concurrency", type=int, default=None)

    def handle(self, *args, concurrency=None, **options):
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        Tracker(concurrency).run_forever(stop)
