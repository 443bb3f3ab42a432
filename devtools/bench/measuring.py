"""Timings and memory peaks: what the bench's sections measure with."""

import functools
import time
import tracemalloc
from contextlib import contextmanager
from pathlib import Path

from devtools.figures import percentiles

# Timings are taken in seconds and reported in milliseconds.
milliseconds = functools.partial(percentiles, scale=1000.0)

MB = 1024 * 1024


def timed(request, expect=None):
    started = time.perf_counter()
    response = request()
    elapsed = time.perf_counter() - started
    if expect and response.status_code != expect:
        raise AssertionError(f"expected {expect}, got {response.status_code}")
    return elapsed


def memory_status(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)  # kB to MB


@contextmanager
def measured():
    """Seconds, peak Python allocations (tracemalloc) and the RSS high-water mark of a step.

    VmHWM is the process's lifetime peak: it is reset to the current RSS first where the
    kernel allows it (/proc/self/clear_refs), so "after" is the step's own peak."""
    figures = {}
    try:
        Path("/proc/self/clear_refs").write_text("5")
        figures["rss_hwm_reset_before"] = True
    except OSError:
        figures["rss_hwm_reset_before"] = False
    hwm_before = memory_status("VmHWM")
    tracemalloc.start()
    started = time.perf_counter()
    yield figures
    figures["seconds"] = round(time.perf_counter() - started, 2)
    figures["python_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / MB, 1)
    tracemalloc.stop()
    hwm_after = memory_status("VmHWM")
    figures.update(rss_hwm_before_mb=hwm_before, rss_hwm_after_mb=hwm_after,
                   rss_hwm_increase_mb=round(hwm_after - hwm_before, 1))
