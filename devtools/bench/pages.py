"""Pages timed through the test client: the History fragment and page, the usage page,
the selection ZIP, and the references upload.
"""

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import transaction
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT
from django.urls import reverse
from django.utils import timezone

from devtools.bench.measuring import MB, measured, milliseconds, timed
from devtools.bench.seeding import analyze, make_references, seed_archive, seed_generations, seed_zip_export
from playground.generations import credits, hosting, totals
from playground.generations.models import Generation, Reference
from playground.teams.models import Membership, Team
from playground.teams.upstream import account_for, client_from

# -- History fragment ----------------------------------------------------------------


def bench_history(team, user, count, requests):
    seed_generations(team, user, count)
    analyze()
    client = Client(HTTP_HX_REQUEST="true")
    client.force_login(user)
    url = reverse("studio:history")
    version = client.get(url).content.decode().split('"v": "')[1].split('"')[0]
    rendered, unchanged = [], []
    for _ in range(requests):
        rendered.append(timed(lambda: client.get(url)))
        unchanged.append(timed(lambda: client.get(url, {"v": version}), expect=204))
    return {
        "generations_in_database": Generation.objects.count(),
        "rendered_ms": milliseconds(rendered),
        "unchanged_204_ms": milliseconds(unchanged),
    }


# -- History page --------------------------------------------------------------------


def bench_history_page(count, requests):
    """The History page with `count` generations of one team (and 10% as many of another):
    the first page unfiltered, a prompt search, a combined filter, and a page deep in."""
    if not count:
        return {"skipped": True}
    team = Team.objects.create(name="Archive", slug="archive")
    people = [get_user_model().objects.create_user(f"archivist{i}") for i in range(5)]
    Membership.objects.bulk_create(Membership(team=team, user=person) for person in people)
    seed_archive(team, people, count)
    analyze()
    client = Client()
    client.force_login(people[0])
    url = reverse("studio:generations")
    deep = deep_page_cursor(client, url, pages=20)
    views = {
        "unfiltered": {},
        "prompt_search": {"q": "lighthouse dawn"},
        "prompt_search_no_match": {"q": "zeppelin"},  # the worst case: every row is read
        "combined_filter": {"q": "harbour", "person": people[2].pk, "status": "completed", "size": "3:2"},
        "page_21_unfiltered": {"after": deep},
    }
    report = {"generations_in_database": Generation.objects.count()}
    for name, query in views.items():
        samples = [timed(lambda query=query: client.get(url, query), expect=200) for _ in range(requests // 4)]
        report[f"{name}_ms"] = milliseconds(samples)
    return report


def deep_page_cursor(client, url, pages):
    """The cursor of the page `pages` pages in, followed from the first as a person would."""
    cursor = None
    for _ in range(pages):
        page = client.get(url, {"after": cursor} if cursor else {}).content.decode()
        found = re.search(r'<a rel="next" href="[^"]*after=([^"&]+)"', page)
        if not found:
            break
        cursor = unquote(found.group(1))
    return cursor


# -- Usage page and budget check -----------------------------------------------------


def bench_team_accounts(team, user, requests):
    """On the History section's generations (all made this month): the usage page, its CSV,
    and what the budget check adds to each Generate: the team's row lock, the month's
    figures read from the running totals, and the new generation counted in them."""
    client = Client()
    client.force_login(user)
    usage, export = reverse("studio:usage"), reverse("studio:usage-csv")
    team.monthly_budget = 10**9
    team.save(update_fields=["monthly_budget"])
    reserve = []
    for _ in range(requests):
        with transaction.atomic():
            reserve.append(timed(lambda: check_and_count(team, user)))
            transaction.set_rollback(True)
    return {
        "generations_this_month": Generation.objects.filter(team=team, created_at__gte=credits.month_start()).count(),
        "credit_totals_this_month": credits.this_month(team).count(),
        "usage_page_ms": milliseconds([timed(lambda: client.get(usage), expect=200) for _ in range(requests // 4)]),
        "usage_csv_ms": milliseconds([timed(lambda: client.get(export), expect=200) for _ in range(requests // 4)]),
        "budget_check_ms": milliseconds(reserve),
    }


def check_and_count(team, user):
    """What lifecycle.create does about credits for 4 images: reserve them, then count the generation."""
    amount = credits.reserve(team, user, 4)
    totals.created(Generation(team=team, created_by=user, credits_estimated=amount, created_at=timezone.now()))


# -- ZIP export ----------------------------------------------------------------------


def bench_zip_export(team, user, count):
    """The selection ZIP of `count` generations of one real ~3 MB image each, read from the
    response chunk by chunk and dropped, as a browser saving it to disk would.

    Run twice: once plain for the speed, once under tracemalloc for the memory."""
    if not count:
        return {"skipped": True}
    ids, image_size = seed_zip_export(team, user, count)
    client = Client()
    client.force_login(user)
    speed = download_zip(client, ids)
    with measured() as memory:
        download_zip(client, ids)
    total_mb = speed["bytes"] / MB
    return {
        "generations": count,
        "image_mb": round(image_size / MB, 2),
        "zip_bytes": speed["bytes"],
        "zip_mb": round(total_mb, 1),
        "seconds": round(speed["seconds"], 2),
        "mb_per_second": round(total_mb / speed["seconds"], 1),
        "first_byte_ms": round(speed["first_byte"] * 1000, 1),
        "chunks": speed["chunks"],
        "largest_chunk_mb": round(speed["largest_chunk"] / MB, 2),
        "memory": memory,
        "python_peak_share_of_zip": round(memory["python_peak_mb"] / total_mb, 4),
        "note": (
            "One POST of every id to studio:selection-zip through the test client; streaming_content is "
            "iterated and only counted. seconds, mb_per_second and first_byte_ms come from a plain run "
            "(the files are in the page cache, having just been written); memory from a second run under "
            "tracemalloc, with the fields of the references section (python_peak_mb: Python allocations; "
            "rss_hwm_increase_mb: the process's resident peak over its start). A ZIP built in memory "
            "would need at least zip_mb of both. MB = 2**20 bytes."
        ),
    }


def download_zip(client, ids):
    started = time.perf_counter()
    response = client.post(reverse("studio:selection-zip"), {"generation": ids})
    if response.status_code != 200 or not response.streaming:
        raise AssertionError(f"HTTP {response.status_code}, streaming: {response.streaming}")
    figures = {"bytes": 0, "chunks": 0, "largest_chunk": 0, "first_byte": None}
    for chunk in response.streaming_content:
        if figures["first_byte"] is None:
            figures["first_byte"] = time.perf_counter() - started
        figures["bytes"] += len(chunk)
        figures["chunks"] += 1
        figures["largest_chunk"] = max(figures["largest_chunk"], len(chunk))
    figures["seconds"] = time.perf_counter() - started
    if not chunk.endswith(b"\0\0") or b"PK\x05\x06" not in chunk[-22:]:  # the end of central directory
        raise AssertionError("the ZIP does not end with its central directory")
    return figures


# -- References: validate, store and host --------------------------------------------


def references_in_child(count):
    """The references section, run by a fresh process of this command so that the memory
    of the sections before (and of making the images) does not hide its peak."""
    with tempfile.TemporaryDirectory() as folder:
        make_references(Path(folder), count)
        command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "bench", "--references-from", folder]
        output = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True).stdout
    return json.loads(output)


def multipart_body(paths, body_path):
    """The page's upload as a multipart body, written to a file chunk by chunk.

    The test client's own encoder reads every file into memory, which a browser would
    do, not the server; this body is streamed to the view as wsgi.input instead.
    """
    with body_path.open("wb") as body:
        for path in paths:
            body.write(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="images"; filename="{path.name}"\r\n'
                       f"Content-Type: image/png\r\n\r\n".encode())
            with path.open("rb") as image:
                while chunk := image.read(MB):
                    body.write(chunk)
            body.write(b"\r\n")
        body.write(f"--{BOUNDARY}--\r\n".encode())


def bench_references(team, user, folder):
    paths = sorted(folder.glob("*.png"))
    sizes = [path.stat().st_size for path in paths]
    multipart_body(paths, folder / "body")
    client = Client(HTTP_HX_REQUEST="true")
    client.force_login(user)
    # Set the storage up first: on S3 its client loads ~12 MB of models once per process,
    # which is no part of taking the files.
    default_storage.exists("bench-warm-up")
    with (folder / "body").open("rb") as body, measured() as validate_and_store:
        response = client.generic("POST", reverse("studio:references"), CONTENT_TYPE=MULTIPART_CONTENT,
                                  CONTENT_LENGTH=str((folder / "body").stat().st_size), **{"wsgi.input": body})
    stored = list(Reference.objects.filter(team=team))
    if response.status_code != 200 or len(stored) != len(paths):
        raise AssertionError(f"HTTP {response.status_code}, {len(stored)} of {len(paths)} stored: "
                             f"{response.content.decode()[:500]}")
    account = account_for(team)
    upstream = client_from(account)
    with measured() as hosting_time:
        hosted = [hosting.hosted_url(reference, upstream, account) for reference in stored]
    if not all(hosted):
        raise AssertionError("a reference was not hosted")
    return {
        "files": len(paths),
        "file_mb": [round(size / MB, 2) for size in sizes],
        "all_files_mb": round(sum(sizes) / MB, 1),
        "validate_and_store": validate_and_store,
        "hosting": hosting_time,
        "note": (
            "One multipart POST of all files to the references view (Django's upload handlers spool "
            "them to disk), then hosted_url for each against the sandbox. MB = 2**20 bytes. "
            "python_peak_mb: peak of Python allocations during the step (tracemalloc, started just "
            "before; Pillow's pixel buffers are not counted). rss_hwm_*: VmHWM of a fresh child "
            "process before and after the step, reset to the current RSS first when "
            "rss_hwm_reset_before; the increase is the step's peak resident memory over its start, "
            "Pillow's decoded pixels included. Compare both with file_mb (one file) and "
            "all_files_mb (every file in memory at once). Seconds include tracemalloc's overhead."
        ),
    }
