"""`manage.py batch`: a batch from the command line, checked as its page checks it, started
only when nothing stands in the way; with --wait, each row's end as JSON."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_q.conf import Conf

from playground.batches.models import Batch, BatchRow
from playground.generations import credits
from playground.generations.models import CreditTotal, Generation, Reference, Status
from playground.teams.models import Membership

from .children import manage
from .conftest import make_user
from .images import image_bytes
from .storage import read_path, stored_files

TEMPLATE = "A {{product}} on a {{surface}}"
GOOD = "product,surface\nmug,oak\nvase,marble\nlamp,slate\n"
ONE_BAD = "product,surface,n\nmug,oak,1\nvase,marble,7\n"


def batch(tmp_path, text=GOOD, *options, user="olivia", template=TEMPLATE, file_name="spring.csv"):
    """Run the command on `text` as a CSV file; returns what it printed (on stdout, then on
    stderr); with --wait, `batch.json` is stdout alone."""
    path = tmp_path / file_name
    path.write_text(text)
    out, err = StringIO(), StringIO()
    try:
        call_command("batch", template, "--csv", str(path), "--user", user, *options, stdout=out, stderr=err)
    finally:
        batch.printed = out.getvalue() + err.getvalue()
        batch.json = out.getvalue()
    return batch.printed


def nothing_written():
    return not (
        Batch.objects.exists()
        or BatchRow.objects.exists()
        or Generation.objects.exists()
        or Reference.objects.exists()
        or CreditTotal.objects.exists()
        or stored_files()
    )


@pytest.mark.django_db
class TestChecksAndStarts:
    @pytest.fixture(autouse=True)
    def nothing_let_out(self, settings):
        """Every row waits in the team's line: nothing is sent in these tests."""
        settings.TEAM_TASKS_IN_FLIGHT = 0

    def test_it_prints_the_preview_totals_starts_the_batch_and_names_its_page(self, tmp_path, team, owner):
        printed = batch(tmp_path, GOOD, "--size", "2:3", "--n", "2")

        started = Batch.objects.get()
        assert (started.name, started.template, started.size, started.n) == ("spring.csv", TEMPLATE, "2:3", 2)
        assert started.created_by == owner and started.source_name == "spring.csv"
        assert [row.generation.prompt for row in started.rows.all()] == [
            "A mug on a oak", "A vase on a marble", "A lamp on a slate"]
        for line in ("Rows: 3", "Ready: 3", "With problems: 0", "Images: 6", "Credits to reserve: 9",
                     "Budgets: none set", f"/batches/{started.public_id}/", f"Batch id: {started.public_id}"):
            assert line in printed
        assert credits.spent(credits.this_month(team)) == credits.estimate(2) * 3

    def test_its_name_and_team_are_chosen_and_the_page_is_on_the_public_address(self, tmp_path, team, owner,
                                                                               other_team, settings):
        Membership.objects.create(team=other_team, user=owner)
        settings.PUBLIC_BASE_URL = "https://images.example.com/"

        printed = batch(tmp_path, GOOD, "--team", "rival", "--name", "Spring shoot")

        started = Batch.objects.get()
        assert (started.team, started.name) == (other_team, "Spring shoot")
        assert f"https://images.example.com/batches/{started.public_id}/" in printed

    def test_rows_with_problems_are_listed_and_refuse_the_batch_writing_nothing(self, tmp_path, team, owner):
        with pytest.raises(CommandError, match="--skip-problems"):
            batch(tmp_path, ONE_BAD)

        assert "With problems: 1" in batch.printed
        assert "row 3, column n: Choose 1, 2 or 4 images." in batch.printed
        assert nothing_written()

    def test_skip_problems_sends_the_ready_rows_and_keeps_the_others_with_their_reason(self, tmp_path, team, owner):
        batch(tmp_path, ONE_BAD, "--skip-problems")

        sent, skipped = Batch.objects.get().rows.all()
        assert sent.generation.prompt == "A mug on a oak"
        assert skipped.generation is None and "Choose 1, 2 or 4 images." in skipped.skipped

    def test_a_file_that_cannot_make_a_batch_is_refused_with_its_reason(self, tmp_path, team, owner):
        with pytest.raises(CommandError, match="surface"):
            batch(tmp_path, "product\nmug\n")
        assert "Problem:" in batch.printed and nothing_written()

    def test_a_batch_the_budget_cannot_cover_is_refused_and_its_reference_images_are_not_kept(
        self, tmp_path, team, owner
    ):
        team.monthly_budget = credits.estimate(1) * 2
        team.save(update_fields=["monthly_budget"])
        (tmp_path / "mug.png").write_bytes(image_bytes())

        with pytest.raises(CommandError, match="This batch needs 4.5 credits"):
            batch(tmp_path, GOOD, "--image", str(tmp_path / "mug.png"))

        assert "Team budget left: 3 of 3" in batch.printed and "Credits to reserve: 4.5" in batch.printed
        assert nothing_written()

    def test_reference_images_are_stored_for_the_team_and_given_to_every_row(self, tmp_path, team, owner):
        (tmp_path / "mug.png").write_bytes(image_bytes())
        (tmp_path / "oak.jpg").write_bytes(image_bytes(fmt="JPEG", colour=(200, 90, 20)))

        batch(tmp_path, GOOD, "--image", str(tmp_path / "mug.png"), "--image", str(tmp_path / "oak.jpg"))

        stored = list(Reference.objects.filter(team=team).order_by("original_name"))
        assert [reference.original_name for reference in stored] == ["mug.png", "oak.jpg"]
        for generation in Generation.objects.all():
            assert set(generation.ordered_references()) == set(stored)

    def test_a_reference_name_in_the_file_is_looked_up_in_the_team(self, tmp_path, team, owner):
        with pytest.raises(CommandError):
            batch(tmp_path, "product,surface,reference\nmug,oak,nowhere.png\n")
        assert "column reference: There is no reference image named “nowhere.png” in this team." in batch.printed
        assert nothing_written()

    def test_a_file_that_is_no_image_is_refused_before_anything_is_read(self, tmp_path, team, owner):
        (tmp_path / "notes.png").write_bytes(b"not a picture")
        with pytest.raises(CommandError, match="--image"):
            batch(tmp_path, GOOD, "--image", str(tmp_path / "notes.png"))
        assert nothing_written()

    def test_a_viewer_an_unknown_user_and_a_missing_file_are_refused(self, tmp_path, team, owner):
        make_user("vic", team, Membership.Role.VIEWER)
        with pytest.raises(CommandError, match="viewer"):
            batch(tmp_path, GOOD, user="vic")
        with pytest.raises(CommandError, match="No user"):
            batch(tmp_path, GOOD, user="nobody")
        with pytest.raises(CommandError, match="Cannot read"):
            call_command("batch", TEMPLATE, "--csv", str(tmp_path / "missing.csv"), "--user", "olivia")
        assert nothing_written()

    def test_a_size_or_count_the_page_does_not_offer_is_refused(self, tmp_path, team, owner):
        with pytest.raises(CommandError, match="--n"):
            batch(tmp_path, GOOD, "--n", "3")
        with pytest.raises(CommandError, match="--size"):
            batch(tmp_path, GOOD, "--size", "5:4")
        assert nothing_written()

    def test_a_template_over_the_pages_limits_is_refused_in_the_pages_words(self, tmp_path, team, owner):
        with pytest.raises(CommandError) as refused:
            batch(tmp_path, template="A {{product}} on a {{surface}} " + "x" * 10_000)
        assert str(refused.value) == "The template is 10,031 characters long; a template takes at most 10,000."
        many = " ".join(f"{{{{v{number}}}}}" for number in range(21))
        with pytest.raises(CommandError) as refused:
            batch(tmp_path, template=many)
        assert str(refused.value) == "The template has 21 variables; a template takes at most 20."
        assert nothing_written()

    def test_an_argument_or_file_name_that_is_not_utf8_is_refused_by_name(self, tmp_path, team, owner):
        """Bytes that are not UTF-8 reach Python as surrogates (here \\udcff for the byte 0xff)."""
        with pytest.raises(CommandError) as refused:
            batch(tmp_path, template="A {{product}} on a {{surface}} \udcff")
        assert str(refused.value) == "TEMPLATE is not UTF-8 text: write it in UTF-8."
        with pytest.raises(CommandError) as refused:
            batch(tmp_path, file_name="spring\udcff.csv")
        assert str(refused.value) == "--csv: the file's name is not UTF-8 text: rename the file."
        with pytest.raises(CommandError) as refused:
            batch(tmp_path, GOOD, "--name", "Spring \udcff")
        assert str(refused.value) == "--name is not UTF-8 text: write it in UTF-8."
        assert nothing_written()

    def test_it_speaks_the_installations_language(self, tmp_path, team, owner, settings):
        settings.LANGUAGE_CODE = "ko"
        with pytest.raises(CommandError, match="--skip-problems"):
            batch(tmp_path, ONE_BAD)
        assert "행: 2" in batch.printed and "row 3" not in batch.printed and "3행, n 열:" in batch.printed


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sandbox")
class TestWait:
    def test_it_prints_each_rows_end_and_stored_files_as_json(self, tmp_path, team, owner):
        text = "product,surface,n\nmug,oak,1\nvase,marble,2\nlamp,slate,7\n"
        printed = batch(tmp_path, text, "--skip-problems", "--wait", "--timeout", "60")

        assert "Rows: 3" in printed and "Started the batch" in printed  # beside the JSON, on stderr
        rows = json.loads(batch.json)["rows"]
        assert [(row["row"], row["variables"]["product"], row["status"]) for row in rows] == [
            (2, "mug", Status.COMPLETED), (3, "vase", Status.COMPLETED), (4, "lamp", "skipped")]
        assert rows[0]["prompt"] == "A mug on a oak" and rows[0]["error"] is None
        assert "Choose 1, 2 or 4 images." in rows[2]["error"]["message"]
        assert [len(row["images"]) for row in rows] == [1, 2, 0]
        for image in rows[0]["images"] + rows[1]["images"]:
            assert read_path(image["path"])[:8] == b"\x89PNG\r\n\x1a\n"

    def test_a_row_that_fails_is_printed_with_its_reason_and_the_command_fails(self, tmp_path, team, owner):
        text = "product,surface\nmug,oak\nvase [sandbox:fail=content_policy_violation],marble\n"
        with pytest.raises(CommandError, match="1 row did not complete"):
            batch(tmp_path, text, "--wait", "--timeout", "60")

        rows = json.loads(batch.json)["rows"]
        assert [row["status"] for row in rows] == [Status.COMPLETED, Status.FAILED]
        assert rows[1]["error"]["code"] == "content_policy_violation"

    def test_it_waits_beside_the_apps_own_workers_and_tracker(self, tmp_path, team, owner, sandbox, children,
                                                              monkeypatch):
        monkeypatch.setattr(Conf, "SYNC", False)  # the jobs go to the queue the workers read, as under `up`
        children.append(manage(sandbox, "qcluster", Q_WORKERS=2))
        children.append(manage(sandbox, "track"))
        text = "product,surface\n" + "".join(f"thing {number},oak\n" for number in range(6))

        batch(tmp_path, text, "--wait", "--timeout", "120")

        rows = json.loads(batch.json)["rows"]
        assert [row["status"] for row in rows] == [Status.COMPLETED] * 6
        assert all(len(row["images"]) == 1 for row in rows)
        assert not Generation.objects.exclude(status=Status.COMPLETED).exists()
