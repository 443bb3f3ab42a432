"""What became of each row of a batch, as `manage.py batch --wait` prints it."""

from playground.generations.management.commands.generate import describe

SKIPPED = "skipped"


def rows(batch):
    """Each row in order: its number, variables, prompt, final status, error and stored files."""
    kept = batch.rows.select_related("generation").prefetch_related("generation__images")
    return [row_outcome(row) for row in kept]


def row_outcome(row):
    outcome = {"row": row.number, "variables": row.values, "prompt": row.prompt}
    if row.generation is None:  # left out when the batch started, with its problems as the reason
        return {**outcome, "status": SKIPPED, "error": {"code": "", "message": row.skipped}, "images": []}
    described = describe(row.generation)
    return {
        **outcome,
        "generation": described["id"],
        "status": described["status"],
        "error": described["error"],
        "images": described["images"],
    }
