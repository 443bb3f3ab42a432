"""The promises every fault test checks once its batch has settled.

- Every generation ended (completed, failed, expired or cancelled), and one that did not
  complete says why.
- Every completed generation has each of the service's images stored once: one row per
  result, its files in storage, and nothing else in storage (no orphans, no copies).
- Each generation is charged the service's images at the reserved price per image, and a
  task the service never finished costs nothing.
- From the sandbox's own record: each result link was read in full at most once, and the
  service was asked to create no more tasks than there are generations that know theirs
  (plus, at most, one for each whose create went unanswered: see assert_no_task_created_twice).
"""

from collections import Counter
from decimal import Decimal

import httpx

from playground.evolink import errors
from playground.generations.models import FINISHED, GeneratedImage, Generation, Reference, Status

from .storage import stored_files

CREATE_PATH = "/v1/images/generations"


def assert_every_generation_accounted_for(generations, sandbox=None):
    """Check the promises above for `generations` (and, with `sandbox`, its call record)."""
    generations = [Generation.objects.get(pk=generation.pk) for generation in generations]
    for generation in generations:
        assert_ended_with_reason(generation)
        assert_images_stored_once(generation)
        assert_charged_for_what_was_delivered(generation)
    assert_no_orphans_in_storage({generation.team_id for generation in generations})
    if sandbox is not None:
        assert_no_result_read_twice(sandbox)
        assert_no_task_created_twice(sandbox)


def assert_ended_with_reason(generation):
    assert generation.status in FINISHED, f"{generation.public_id} still {generation.status}"
    if generation.status != Status.COMPLETED:
        assert generation.error_message.strip(), f"{generation.public_id} {generation.status} without a reason"


def assert_images_stored_once(generation):
    images = list(generation.images.order_by("index"))
    if generation.status == Status.COMPLETED:
        assert [image.index for image in images] == list(range(len(generation.result_urls)))
    names = [name for image in images for name in (image.file.name, image.thumbnail.name, image.raw_file) if name]
    assert len(names) == len(set(names)), f"{generation.public_id} shares a file between two images"
    present = set(stored_files(f"generations/{generation.team_id}/{generation.public_id}"))
    assert present == set(names), f"{generation.public_id}: stored {sorted(present)}, rows name {sorted(names)}"


def assert_charged_for_what_was_delivered(generation):
    produced = len(generation.result_urls) if generation.upstream_completed_at else 0
    price = Decimal(generation.credits_reserved or generation.credits_estimated) / generation.n
    expected = (price * produced).quantize(Decimal("0.0001"))
    assert generation.credits_charged == expected, (
        f"{generation.public_id} ({generation.status}) charged {generation.credits_charged}, "
        f"the service delivered {produced} images: {expected}"
    )


def assert_no_orphans_in_storage(team_ids):
    """Every file under the teams' folders belongs to a stored image or reference."""
    for team_id in team_ids:
        known = set()
        for image in GeneratedImage.objects.filter(generation__team_id=team_id):
            known.update(name for name in (image.file.name, image.thumbnail.name, image.raw_file) if name)
        for reference in Reference.objects.filter(team_id=team_id):
            known.update((reference.file.name, reference.thumbnail.name))
        present = set(stored_files(f"generations/{team_id}")) | set(stored_files(f"references/{team_id}"))
        assert present <= known, f"orphans in storage: {sorted(present - known)}"


def forget_served_calls(sandbox):
    """Start the sandbox's call record afresh: call before the batch."""
    httpx.delete(f"{sandbox.url}/_sandbox/calls", headers=sandbox.headers).raise_for_status()


def served_calls(sandbox):
    reply = httpx.get(f"{sandbox.url}/_sandbox/calls", headers=sandbox.headers)
    reply.raise_for_status()
    return reply.json()["calls"]


def assert_no_result_read_twice(sandbox):
    """A result link answered in full (200, not dropped mid-body) at most once."""
    whole = Counter(
        call["path"]
        for call in served_calls(sandbox)
        if call["path"].startswith("/results/") and call["status"] == 200 and not call["dropped"]
    )
    twice = {path: count for path, count in whole.items() if count > 1}
    assert not twice, f"result links downloaded more than once: {twice}"


def assert_no_task_created_twice(sandbox):
    """The service created no task that no generation knows: no generation was sent twice.

    One exception, unavoidable: a create whose reply was cut off or came too late may have
    made a task whose id never arrived (the API cannot list tasks). Such a generation ends
    `task_unconfirmed` instead of being sent again, so it accounts for at most one task.
    A keyed create the service answered as a replay made no task, so it is not counted.
    """
    created = sum(
        1
        for call in served_calls(sandbox)
        if call["path"] == CREATE_PATH and call["status"] == 200 and not call.get("replayed")
    )
    known = Generation.objects.exclude(task_id="").count()
    unconfirmed = Generation.objects.filter(error_code=errors.TaskUnconfirmed.CODE).count()
    assert known <= created <= known + unconfirmed, (
        f"the service created {created} tasks for {known} generations that know theirs "
        f"and {unconfirmed} whose create went unanswered"
    )
