"""A started batch's pages: the team's batches, one batch with its progress and rows, retry and
cancel from it, and its ZIP; only ever the team's own batches, and changed only by who may."""

import csv
import io
import json
import zipfile

import pytest
from django.urls import reverse

from playground.batches import preview, runs
from playground.batches.rows import Defaults
from playground.generations import credits
from playground.generations.models import Generation, Status
from playground.teams.models import Membership

from .conftest import make_user
from .finished import stored_image

pytestmark = pytest.mark.django_db

TEMPLATE = "A {{product}} on a {{surface}}"
SIX_ROWS = "product,surface\n" + "".join(f"p{number},oak\n" for number in range(6))


@pytest.fixture(autouse=True)
def nothing_let_out(settings):
    """Every row waits in the line unless a test moves it on: nothing is sent here."""
    settings.TEAM_TASKS_IN_FLIGHT = 0


def started(team, user, text=SIX_ROWS, name="Spring shoot", **options):
    membership = Membership.objects.get(team=team, user=user)
    checked = preview.from_upload(team, TEMPLATE, text.encode(), Defaults(size="2:3", n=options.pop("n", 1)))
    return runs.start(membership, checked, name=name, source_name="shoot.csv", **options)


def set_statuses(batch, *statuses):
    """The batch's first generations get these statuses; a completed one gets its images."""
    for generation, status in zip(batch.generations.order_by("pk"), statuses, strict=False):
        fields = {"status": status, "progress": 100 if status == Status.COMPLETED else 0}
        if status == Status.FAILED:
            fields["error_message"] = "The prompt was refused by the content policy."
        Generation.objects.filter(pk=generation.pk).update(**fields)
        if status == Status.COMPLETED:
            for index in range(generation.n):
                stored_image(generation, index)


def signed_in(client, user):
    client.force_login(user)
    return client


def page_of(client, batch):
    response = client.get(reverse("studio:batch", args=[batch.public_id]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_list_shows_the_teams_batches_newest_first_with_their_progress(client, team, owner, teammate):
    started(team, owner, name="Spring shoot")
    later = started(team, teammate, name="Autumn mugs")
    set_statuses(later, Status.COMPLETED)

    text = signed_in(client, owner).get(reverse("studio:batches")).content.decode()

    assert text.index("Autumn mugs") < text.index("Spring shoot")
    assert "1 of 6 done · 0 failed · 5 waiting" in text and "0 of 6 done · 0 failed · 6 waiting" in text
    assert "tom" in text and reverse("studio:batch", args=[later.public_id]) in text


def test_the_list_without_batches_leads_to_a_new_one(client, team, owner):
    text = signed_in(client, owner).get(reverse("studio:batches")).content.decode()
    assert "No batch yet" in text and reverse("studio:batch-new") in text


def test_the_progress_line_counts_each_status_and_names_cancelled_and_skipped_only_when_there_are_some(
    client, team, owner
):
    batch = started(team, owner)
    signed_in(client, owner)
    assert "0 of 6 done · 0 failed · 6 waiting" in page_of(client, batch)
    assert "cancelled" not in page_of(client, batch) and "skipped" not in page_of(client, batch)

    set_statuses(batch, Status.COMPLETED, Status.COMPLETED, Status.FAILED, Status.CANCELLED)
    text = page_of(client, batch)

    assert "2 of 5 done · 1 failed · 2 waiting · 1 cancelled" not in text  # the total is the rows sent
    assert "2 of 6 done · 1 failed · 2 waiting · 1 cancelled" in text
    assert "The prompt was refused by the content policy." in text  # why the failed row failed
    assert "waiting (0 ahead)" in text and "waiting (1 ahead)" in text


def test_a_skipped_row_says_why_it_was_left_out(client, team, owner):
    batch = started(team, owner, "product,surface,n\nmug,oak,1\nvase,marble,7\n", skip_problems=True)
    text = page_of(signed_in(client, owner), batch)
    assert "0 of 1 done · 0 failed · 1 waiting · 1 skipped" in text
    assert "Left out when the batch started:" in text and batch.rows.get(number=3).skipped in text


def test_the_poll_answers_204_until_something_shown_changes_and_stops_once_finished(client, team, owner):
    batch = started(team, owner, "product,surface\nmug,oak\n")
    signed_in(client, owner)
    url = reverse("studio:batch-progress", args=[batch.public_id])
    first = client.get(url, headers={"HX-Request": "true"})
    assert first.status_code == 200 and "0 of 1 done" in first.content.decode()
    version = first.context["status_version"]

    assert client.get(url, {"v": version}, headers={"HX-Request": "true"}).status_code == 204

    set_statuses(batch, Status.COMPLETED)
    finished = client.get(url, {"v": version}, headers={"HX-Request": "true"})
    assert finished.status_code == 286  # swap it, then stop asking
    assert "1 of 1 done · 0 failed · 0 waiting" in finished.content.decode()
    assert 'hx-trigger="every 2s"' not in finished.content.decode()


def test_retry_from_the_page_sends_the_failed_rows_again(client, team, owner):
    batch = started(team, owner)
    set_statuses(batch, Status.FAILED, Status.FAILED)
    signed_in(client, owner)
    assert "Retry 2 failed rows" in page_of(client, batch)

    response = client.post(reverse("studio:batch-retry", args=[batch.public_id]), follow=True)

    text = response.content.decode()
    assert "Sent 2 failed rows again." in text
    assert "0 of 6 done · 0 failed · 6 waiting" in text and "Retry" not in text


def test_a_retry_the_budget_cannot_cover_says_so_and_sends_nothing(client, team, owner):
    batch = started(team, owner)
    set_statuses(batch, Status.FAILED)
    team.monthly_budget = credits.estimate(1) * 6  # all of it reserved already by the six rows
    team.save(update_fields=["monthly_budget"])

    response = signed_in(client, owner).post(reverse("studio:batch-retry", args=[batch.public_id]), follow=True)

    assert "This batch needs" in response.content.decode()
    assert batch.generations.count() == 6 and "1 failed" in response.content.decode()


def test_cancel_from_the_page_ends_the_waiting_rows_with_nothing_charged(client, team, owner):
    batch = started(team, owner)
    set_statuses(batch, Status.COMPLETED, Status.PROCESSING)
    signed_in(client, owner)
    assert "Cancel 4 waiting rows" in page_of(client, batch)

    response = client.post(reverse("studio:batch-cancel", args=[batch.public_id]), follow=True)

    text = response.content.decode()
    assert "Cancelled 4 waiting rows: nothing was sent or charged for them." in text
    assert "1 of 6 done · 0 failed · 1 waiting · 4 cancelled" in text and "Cancel 4" not in text
    assert credits.spent(credits.this_month(team)) == credits.estimate(1) * 2


def test_a_viewer_may_look_but_not_retry_or_cancel(client, team, owner):
    batch = started(team, owner)
    set_statuses(batch, Status.FAILED)
    viewer = make_user("vera", team, Membership.Role.VIEWER)
    signed_in(client, viewer)

    text = page_of(client, batch)
    assert "1 failed" in text and "Retry" not in text and "Cancel 5" not in text
    assert client.post(reverse("studio:batch-retry", args=[batch.public_id])).status_code == 403
    assert client.post(reverse("studio:batch-cancel", args=[batch.public_id])).status_code == 403
    assert batch.generations.count() == 6 and batch.generations.filter(status=Status.WAITING).count() == 5


def test_another_teams_batch_is_not_found_at_any_of_its_addresses(client, team, owner, outsider):
    batch = started(team, owner)
    signed_in(client, outsider)
    for name in ("studio:batch", "studio:batch-progress", "studio:batch-zip"):
        assert client.get(reverse(name, args=[batch.public_id])).status_code == 404, name
    for name in ("studio:batch-retry", "studio:batch-cancel"):
        assert client.post(reverse(name, args=[batch.public_id])).status_code == 404, name
    assert "Spring shoot" not in client.get(reverse("studio:batches")).content.decode()
    assert batch.generations.filter(status=Status.WAITING).count() == 6


def test_a_long_batch_shows_its_rows_a_page_at_a_time(client, team, owner):
    batch = started(team, owner, "product,surface\n" + "".join(f"p{number},oak\n" for number in range(60)))
    signed_in(client, owner)
    first = page_of(client, batch)
    assert "Rows 1–48 of 60" in first and "A p0 on a oak" in first and "A p50 on a oak" not in first
    second = client.get(reverse("studio:batch", args=[batch.public_id]), {"page": 2}).content.decode()
    assert "Rows 49–60 of 60" in second and "A p50 on a oak" in second


def test_the_page_reads_a_fixed_number_of_queries_however_many_rows(client, team, owner, django_assert_max_num_queries):
    batch = started(team, owner, "product,surface\n" + "".join(f"p{number},oak\n" for number in range(40)), n=2)
    set_statuses(batch, *[Status.COMPLETED] * 30)
    signed_in(client, owner)
    with django_assert_max_num_queries(25):
        page_of(client, batch)


def unzipped(client, batch):
    response = client.get(reverse("studio:batch-zip", args=[batch.public_id]))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.getvalue()))


def test_the_zip_holds_each_rows_images_and_manifests_that_map_variables_to_files(client, team, owner):
    text = 'product,surface\nmug,oak\n"=HYPERLINK(""http://evil.example"")",marble\nlamp,slate\n'
    batch = started(team, owner, text, n=2)
    set_statuses(batch, Status.COMPLETED, Status.FAILED)

    archive = unzipped(signed_in(client, owner), batch)

    assert sorted(archive.namelist()) == ["0002-mug-oak-1.png", "0002-mug-oak-2.png", "manifest.csv", "manifest.json"]
    rows = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode("utf-8-sig"))))
    assert [(row["row"], row["product"], row["surface"], row["files"], row["status"], row["n"], row["size"]) for row in rows] == [
        ("2", "mug", "oak", "0002-mug-oak-1.png 0002-mug-oak-2.png", "completed", "2", "2:3"),
        ("3", "'=HYPERLINK(\"http://evil.example\")", "marble", "", "failed", "2", "2:3"),
        ("4", "lamp", "slate", "", "waiting", "2", "2:3"),
    ]
    assert rows[0]["prompt"] == "A mug on a oak"
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["variables"] == ["product", "surface"]
    assert manifest["rows"][0]["values"] == {"product": "mug", "surface": "oak"}
    assert manifest["rows"][0]["files"] == ["0002-mug-oak-1.png", "0002-mug-oak-2.png"]
    assert manifest["rows"][1]["values"]["product"] == '=HYPERLINK("http://evil.example")'  # JSON keeps the value itself
    assert manifest["batch"]["name"] == "Spring shoot" and manifest["batch"]["source"] == "shoot.csv"
    first = batch.rows.get(number=2).generation.images.order_by("index").first()
    assert archive.read("0002-mug-oak-1.png") == first.file.read()


def test_the_list_polls_cheaply_and_stops_once_every_batch_has_finished(client, team, owner):
    batch = started(team, owner, "product,surface\nmug,oak\n")
    signed_in(client, owner)
    url = reverse("studio:batches")
    first = client.get(url, headers={"HX-Request": "true"})
    assert first.status_code == 200 and 'hx-trigger="every 2s"' in first.content.decode()

    assert client.get(url, {"v": first.context["version"]}, headers={"HX-Request": "true"}).status_code == 204

    set_statuses(batch, Status.COMPLETED)
    finished = client.get(url, {"v": first.context["version"]}, headers={"HX-Request": "true"})
    assert finished.status_code == 286 and "1 of 1 done · 0 failed · 0 waiting" in finished.content.decode()


def test_a_row_whose_generation_was_deleted_says_so_and_leads_nowhere(client, team, owner):
    batch = started(team, owner, "product,surface\nmug,oak\n")
    set_statuses(batch, Status.COMPLETED)
    generation = batch.generations.get()
    Generation.objects.filter(pk=generation.pk).update(deleted_at=generation.created_at)

    text = page_of(signed_in(client, owner), batch)

    assert "Deleted" in text and reverse("studio:generation-detail", args=[generation.public_id]) not in text
    assert "2:3 portrait" in text  # the size as Generate names it


def test_a_row_deleted_while_the_batch_runs_is_shown_gone_at_the_next_poll(client, team, owner):
    batch = started(team, owner, "product,surface\nmug,oak\nvase,marble\n")
    done = batch.generations.order_by("pk").first()
    Generation.objects.filter(pk=done.pk).update(status=Status.COMPLETED)
    signed_in(client, owner)
    url = reverse("studio:batch-progress", args=[batch.public_id])
    version = client.get(url, {"part": "rows"}, headers={"HX-Request": "true"}).context["rows_version"]

    Generation.objects.filter(pk=done.pk).update(deleted_at=done.created_at)

    answer = client.get(url, {"part": "rows", "v": version}, headers={"HX-Request": "true"})
    assert answer.status_code == 200 and "Deleted" in answer.content.decode()


def test_a_page_of_rows_all_finished_stops_asking_while_the_rest_of_the_batch_runs(client, team, owner):
    batch = started(team, owner, "product,surface\n" + "".join(f"p{number},oak\n" for number in range(50)))
    first_page = batch.generations.order_by("pk")[:48]
    Generation.objects.filter(pk__in=[generation.pk for generation in first_page]).update(status=Status.COMPLETED)
    signed_in(client, owner)
    url = reverse("studio:batch-progress", args=[batch.public_id])

    rows = client.get(url, {"part": "rows"}, headers={"HX-Request": "true"})
    status = client.get(url, headers={"HX-Request": "true"})

    assert rows.status_code == 286 and 'hx-trigger="every 2s"' not in rows.content.decode()  # its rows are done
    assert status.status_code == 200 and "48 of 50 done · 0 failed · 2 waiting" in status.content.decode()
    second_page = client.get(url, {"part": "rows", "page": 2}, headers={"HX-Request": "true"})
    assert second_page.status_code == 200 and "every 2s" in second_page.content.decode()  # still running there
