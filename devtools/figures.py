"""Figures for the commands that measure the app (`bench`, `loadtest`)."""


def percentiles(samples, scale=1.0, digits=2):
    """Count, p50, p95 and max of `samples`, each multiplied by `scale` (1000: seconds to ms)."""
    ordered = sorted(samples)
    if not ordered:
        return {"count": 0}

    def pick(share):
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * scale, digits)

    return {"count": len(ordered), "p50": pick(0.50), "p95": pick(0.95), "max": round(ordered[-1] * scale, digits)}
