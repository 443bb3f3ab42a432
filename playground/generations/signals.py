"""Signals other apps listen to, so generations need not know them."""

from django.dispatch import Signal

# Sent once a generation has ended (completed, failed, expired or cancelled) and its row
# says so; `generation` is the row.
finished = Signal()

# Sent by the tracker's periodic sweep (every SWEEP_INTERVAL_SECONDS): other apps take up
# work of theirs that a lost job left behind.
swept = Signal()
