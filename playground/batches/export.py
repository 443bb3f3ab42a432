"""A batch as one ZIP: every row's images, and manifest.csv and manifest.json mapping each
row's number and variables to its files, prompt, size, n and status.

The ZIP is streamed by generations/archive.py; everything is read from the database when
it is asked for, and the stream only reads files. Every CSV cell goes through
`formulas.guarded`, so a spreadsheet shows a formula-like value as text.
"""

import csv
import io
import json

from django.utils import timezone
from django.utils.text import slugify

from playground.generations.archive import stream_zip

from .formulas import guarded
from .queries import shown_rows

SKIPPED = "skipped"


def zip_stream(batch):
    """The batch's ZIP, chunk by chunk."""
    described, files = describe(batch)
    documents = [("manifest.csv", manifest_csv(described)), ("manifest.json", manifest_json(batch, described))]
    return stream_zip(documents, files)


def filename(batch):
    return f"{slugify(batch.name, allow_unicode=True)[:60].strip('-') or 'batch'}.zip"


def describe(batch):
    """Each row as the manifests give it, and (name in the ZIP, stored file name, bytes, time) for each image."""
    described, files = [], []
    for row in shown_rows(batch):
        generation = row.generation
        images = list(generation.images.all()) if generation and generation.deleted_at is None else []
        stem = f"{row.number:04d}-{slugify(' '.join(map(str, row.values.values())), allow_unicode=True)[:50].strip('-')}".rstrip("-")
        names = []
        for place, image in enumerate(images, start=1):
            name = f"{stem}-{place}.{image.extension}"
            names.append(name)
            files.append((name, image.file.name, image.bytes, generation.created_at))
        described.append({
            "row": row.number,
            "values": row.values,
            "prompt": row.prompt,
            "size": generation.size if generation else batch.size,
            "n": generation.n if generation else batch.n,
            "status": generation.status if generation else SKIPPED,
            "reason": (generation.error_message if generation else row.skipped) or "",
            "files": names,
        })
    return described, files


def variables(described):
    """The variables' names in the order the rows give them."""
    return list(dict.fromkeys(name for row in described for name in row["values"]))


def manifest_csv(described):
    names = variables(described)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["row", *names, "prompt", "size", "n", "status", "reason", "files"])
    for row in described:
        cells = [row["row"], *(row["values"].get(name, "") for name in names), row["prompt"], row["size"], row["n"],
                 row["status"], row["reason"], " ".join(row["files"])]
        writer.writerow([guarded(cell) for cell in cells])
    return text.getvalue().encode("utf-8-sig")  # the BOM: spreadsheet programs then read it as UTF-8


def manifest_json(batch, described):
    manifest = {
        "batch": {
            "public_id": str(batch.public_id),
            "name": batch.name,
            "template": batch.template,
            "size": batch.size,
            "n": batch.n,
            "source": batch.source_name or None,
            "created_by": batch.created_by.get_username() if batch.created_by else None,
            "created_at": batch.created_at.isoformat(),
        },
        "exported_at": timezone.now().isoformat(),
        "variables": variables(described),
        "rows": described,
    }
    return json.dumps(manifest, ensure_ascii=False, indent=2).encode()
