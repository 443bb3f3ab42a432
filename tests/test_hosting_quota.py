"""The file hosting quota never stops work: hosted files are deleted once no running generation
needs them, and a full quota is freed before an upload. Against a sandbox process that keeps
5 files an account, over real HTTP."""

import io
import time
from datetime import timedelta

import httpx
import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone, translation

from playground.evolink import errors
from playground.evolink.client import EvoLinkClient
from playground.generations import hosting, references, tracker
from playground.generations.models import FINISHED, Generation, Reference, ReplacedHostedFile, Status
from playground.sandbox.process import start_sandbox
from playground.teams.upstream import account_for, client_from

from .conftest import drive
from .images import image_bytes, upload

pytestmark = pytest.mark.django_db(transaction=True)

QUOTA = 5


@pytest.fixture(scope="module")
def small_sandbox(tmp_path_factory):
    env = {"SANDBOX_MAX_FILES": str(QUOTA), "SANDBOX_TASK_SECONDS": "0.3"}
    with start_sandbox(tmp_path_factory.mktemp("small-quota"), env=env) as process:
        yield process


@pytest.fixture(autouse=True)
def quota_of_five(small_sandbox, settings):
    """The built-in sandbox is this one for these tests; its files are gone before each."""
    settings.SANDBOX_URL = small_sandbox.url
    settings.SANDBOX_API_KEY = small_sandbox.api_key
    for hosted in files_at(small_sandbox):
        httpx.delete(f"{small_sandbox.url}/api/v1/files/{hosted['file_id']}", headers=small_sandbox.headers)
    yield
    httpx.delete(f"{small_sandbox.url}/_sandbox/faults", headers=small_sandbox.headers).raise_for_status()


def files_at(sandbox):
    reply = httpx.get(f"{sandbox.url}/api/v1/files/list?page=1&pageSize=100", headers=sandbox.headers)
    return reply.raise_for_status().json()["data"]["files"]


def used_at(sandbox):
    reply = httpx.get(f"{sandbox.url}/api/v1/files/quota", headers=sandbox.headers)
    return reply.raise_for_status().json()["data"]["used_files"]


def new_reference(client, team, number):
    colour = (number * 6 % 256, 255 - number * 5 % 256, number * 11 % 256)
    client.post(
        reverse("studio:references"),
        {"images": [upload(f"photo-{number}.png", size=(256, 256), colour=colour)]},
        headers={"HX-Request": "true"},
    )
    return Reference.objects.filter(team=team).order_by("-id").first()


def generate(client, reference, prompt="a harbour at noon"):
    fields = {"prompt": prompt, "size": "1:1", "n": 1, "references": [str(reference.public_id)]}
    assert client.post(reverse("studio:generate"), fields).status_code == 302
    return Generation.objects.order_by("-id").first()


def test_forty_image_to_image_generations_three_at_a_time_all_complete_within_a_quota_of_five(
    owner_client, team, small_sandbox
):
    most_hosted = 0
    for group in range(0, 40, 3):
        numbers = range(group, min(group + 3, 40))
        generations = [generate(owner_client, new_reference(owner_client, team, n), f"take {n}") for n in numbers]
        # Each was sent as its request committed; none can have ended before it is driven.
        most_hosted = max(most_hosted, len(files_at(small_sandbox)), drive_together(generations, small_sandbox))
        for generation in generations:
            assert generation.status == Status.COMPLETED, (generation.prompt, generation.error_message)
            assert generation.image_urls[0].startswith(f"{small_sandbox.url}/files/")
        # Their hosted files went when they finished: nothing else needed them.
        assert files_at(small_sandbox) == []
    assert 3 <= most_hosted <= QUOTA  # several were hosted at once, never more than the quota
    assert Reference.objects.filter(team=team).count() == 40
    assert not Reference.objects.exclude(hosted_file_id="").exists()


def drive_together(generations, sandbox, timeout=60):
    """Advance several generations side by side, as the tracker would; the most files hosted
    at the sandbox at any moment."""
    most, deadline = 0, time.monotonic() + timeout
    while time.monotonic() < deadline:
        for generation in generations:
            generation.refresh_from_db()
            if generation.status not in FINISHED and (
                generation.status == Status.QUEUED or generation.next_check_at <= timezone.now()
            ):
                tracker.advance(generation.pk)
            most = max(most, len(files_at(sandbox)))
        if all(generation.status in FINISHED for generation in generations):
            return most
        time.sleep(0.05)
    raise AssertionError([generation.status for generation in generations])


def unnamed_files(sandbox):
    """Files at the sandbox whose id the app keeps nowhere: they could never be deleted."""
    known = set(Reference.objects.values_list("hosted_file_id", flat=True))
    known |= set(ReplacedHostedFile.objects.values_list("file_id", flat=True))
    return [hosted for hosted in files_at(sandbox) if hosted["file_id"] not in known]


def host_unneeded(team, count, start=100, client=None):
    """`count` references hosted for no generation: leftovers whose release was missed."""
    account = account_for(team)
    client = client or client_from(account)
    hosted = []
    for number in range(start, start + count):
        reference = new_reference_without_page(team, number)
        hosting.hosted_url(reference, client, account)
        hosted.append(reference)
    return hosted


def new_reference_without_page(team, number):
    data = image_bytes(size=(64, 64), colour=(number % 256, 7, 99))
    return references.store(team, None, references.from_bytes(data, f"left-{number}.png"))


def test_a_full_quota_is_freed_of_unneeded_files_oldest_first(owner_client, team, small_sandbox):
    leftovers = host_unneeded(team, QUOTA)
    assert used_at(small_sandbox) == QUOTA
    generation = drive(generate(owner_client, new_reference(owner_client, team, 1)))
    assert generation.status == Status.COMPLETED, generation.error_message
    oldest = Reference.objects.get(pk=leftovers[0].pk)
    assert oldest.hosted_url == "" and oldest.hosted_file_id == ""
    # Only as many as were needed went: the others are still hosted.
    remaining = {hosted["file_id"] for hosted in files_at(small_sandbox)}
    assert remaining == {reference.hosted_file_id for reference in leftovers[1:]}


def test_an_upload_answered_40003_frees_a_file_and_tries_again(owner_client, team, small_sandbox, monkeypatch):
    httpx.post(f"{small_sandbox.url}/_sandbox/faults", json={"quota_status": 200}, headers=small_sandbox.headers)
    host_unneeded(team, QUOTA)

    def unreadable(self):
        raise errors.NotFound()

    monkeypatch.setattr(EvoLinkClient, "file_quota", unreadable)  # a service without the quota call
    generation = drive(generate(owner_client, new_reference(owner_client, team, 2)))
    assert generation.status == Status.COMPLETED, generation.error_message
    assert used_at(small_sandbox) == QUOTA - 1


def test_a_quota_full_of_files_running_work_needs_fails_the_generation_in_words(owner_client, team, small_sandbox):
    running = [generate(owner_client, new_reference(owner_client, team, number)) for number in range(QUOTA)]
    assert all(generation.status == Status.PENDING for generation in Generation.objects.filter(pk__in=[g.pk for g in running]))
    assert used_at(small_sandbox) == QUOTA

    refused = drive(generate(owner_client, new_reference(owner_client, team, 9)))
    assert refused.status == Status.FAILED
    assert refused.error_code == errors.HostingQuotaInUse.CODE
    assert refused.error_message == (
        "The EvoLink account's file hosting is full of reference images that generations still running "
        "need, so this generation's images could not be uploaded. Try again once some of them have finished."
    )
    assert used_at(small_sandbox) == QUOTA  # nothing running work needs was deleted
    page = owner_client.get(reverse("studio:generation-detail", args=[refused.public_id]))
    assert "generations still running need" in page.text
    for language in ("ko", "zh-hans"):
        with translation.override(language):
            assert translation.gettext(refused.error_message) != refused.error_message

    for generation in running:
        assert drive(generation).status == Status.COMPLETED
    assert used_at(small_sandbox) == 0
    assert drive(generate(owner_client, new_reference(owner_client, team, 10))).status == Status.COMPLETED


def test_the_sweep_deletes_hosted_files_whose_release_was_missed(team, small_sandbox):
    host_unneeded(team, 3)
    assert used_at(small_sandbox) == 3
    hosting.sweep()
    assert used_at(small_sandbox) == 0
    assert not Reference.objects.exclude(hosted_file_id="").exists()


def test_a_file_whose_delete_failed_is_deleted_by_the_sweep(team, small_sandbox, monkeypatch):
    (reference,) = host_unneeded(team, 1)

    def unavailable(self, file_id):
        raise errors.ServiceUnavailable()

    with monkeypatch.context() as patch:
        patch.setattr(EvoLinkClient, "delete_file", unavailable)
        hosting.sweep()
    reference.refresh_from_db()
    assert reference.hosted_url == "" and reference.hosted_file_id  # not reused, still to delete
    hosting.sweep()
    reference.refresh_from_db()
    assert reference.hosted_file_id == ""
    assert used_at(small_sandbox) == 0


def test_two_uploads_of_one_reference_at_once_keep_one_file_and_delete_the_other(team, small_sandbox):
    (reference,) = [new_reference_without_page(team, 300)]
    account = account_for(team)
    first, second = Reference.objects.get(pk=reference.pk), Reference.objects.get(pk=reference.pk)
    first_url = hosting.hosted_url(first, client_from(account), account)
    second_url = hosting.hosted_url(second, client_from(account), account)  # read before the first stored
    assert second_url == first_url
    stored = Reference.objects.get(pk=reference.pk)
    assert [hosted["file_id"] for hosted in files_at(small_sandbox)] == [stored.hosted_file_id]
    assert unnamed_files(small_sandbox) == []


def test_a_copy_replaced_near_its_expiry_is_deleted_even_while_running_work_needs_the_reference(
    owner_client, team, small_sandbox
):
    reference = new_reference(owner_client, team, 301)
    generate(owner_client, reference)  # waiting: it needs the reference
    account = account_for(team)
    hosting.hosted_url(reference, client_from(account), account)
    old_id = reference.hosted_file_id
    Reference.objects.filter(pk=reference.pk).update(hosted_until=timezone.now() + timedelta(hours=1))
    reference.refresh_from_db()
    hosting.hosted_url(reference, client_from(account), account)
    assert reference.hosted_file_id != old_id
    assert unnamed_files(small_sandbox) == []
    assert [hosted["file_id"] for hosted in files_at(small_sandbox)] == [reference.hosted_file_id]


def test_a_copy_whose_delete_failed_is_not_forgotten_when_it_is_replaced(owner_client, team, small_sandbox, monkeypatch):
    (reference,) = host_unneeded(team, 1, start=302)
    generate(owner_client, reference)
    old_id = reference.hosted_file_id
    Reference.objects.filter(pk=reference.pk).update(hosted_url="")  # a release whose delete failed
    reference.refresh_from_db()

    def unavailable(self, file_id):
        raise errors.ServiceUnavailable()

    account = account_for(team)
    with monkeypatch.context() as patch:
        patch.setattr(EvoLinkClient, "delete_file", unavailable)
        hosting.hosted_url(reference, client_from(account), account)
    assert reference.hosted_file_id != old_id
    assert unnamed_files(small_sandbox) == []  # the old id waits to be deleted
    hosting.sweep()
    assert [hosted["file_id"] for hosted in files_at(small_sandbox)] == [reference.hosted_file_id]


def stray_upload(team, number):
    """A file on the account that no reference names: hosted before ids were kept, an orphan."""
    data = image_bytes(size=(32, 32), colour=(number % 256, 40, 40))
    return client_from(account_for(team)).upload_file(io.BytesIO(data), f"stray-{number}.png", "image/png")


def test_a_quota_full_of_files_the_app_has_no_id_for_is_freed_from_the_accounts_list(
    owner_client, team, small_sandbox, monkeypatch
):
    monkeypatch.setattr(hosting, "UNNAMED_GRACE", timedelta(0))
    strays = [stray_upload(team, number) for number in range(QUOTA)]
    generation = drive(generate(owner_client, new_reference(owner_client, team, 303)))
    assert generation.status == Status.COMPLETED, generation.error_message
    remaining = {hosted["file_id"] for hosted in files_at(small_sandbox)}
    assert len(remaining) == QUOTA - 1 and remaining < {stray.file_id for stray in strays}  # one went, only one


def test_a_full_quota_whose_files_cannot_be_listed_fails_saying_it_is_full(
    owner_client, team, small_sandbox, monkeypatch
):
    for number in range(QUOTA):
        stray_upload(team, number)

    def unlisted(self, page=1, page_size=100):
        raise errors.NotFound()

    monkeypatch.setattr(EvoLinkClient, "list_files", unlisted)
    refused = drive(generate(owner_client, new_reference(owner_client, team, 304)))
    assert refused.status == Status.FAILED
    assert refused.error_code == errors.HostingQuotaFull.CODE
    assert "generations still running" not in refused.error_message


def test_a_copy_hosted_on_another_account_is_not_reused(team, small_sandbox):
    (reference,) = host_unneeded(team, 1, start=305)
    old_url = reference.hosted_url
    Reference.objects.filter(pk=reference.pk).update(hosted_account="another-account")  # a key switched
    reference.refresh_from_db()
    account = account_for(team)
    assert hosting.hosted_url(reference, client_from(account), account) != old_url
    assert reference.hosted_account == hosting.account_tag(account)


def test_deletes_make_one_short_attempt(team, small_sandbox, monkeypatch, settings):
    host_unneeded(team, 2, start=306)
    seen = []
    real_delete = EvoLinkClient.delete_file

    def watched(self, file_id):
        seen.append((self.max_retries, self._http.timeout.read))
        return real_delete(self, file_id)

    monkeypatch.setattr(EvoLinkClient, "delete_file", watched)
    hosting.sweep()
    assert seen and all(retries == 0 and timeout <= 10 for retries, timeout in seen)
    assert used_at(small_sandbox) == 0


def test_the_sweep_is_not_starved_by_files_it_cannot_delete_now(team, small_sandbox):
    (reference,) = host_unneeded(team, 1, start=307)
    for number in range(5):
        other = new_reference_without_page(team, 310 + number)
        Reference.objects.filter(pk=other.pk).update(
            hosted_url=f"https://elsewhere.example/{number}.png",
            hosted_file_id=f"elsewhere-{number}",
            hosted_account="another-account",
            hosted_until=timezone.now() + timedelta(minutes=number + 1),  # older than the sweepable one
        )
    hosting.sweep(batch=3)
    assert used_at(small_sandbox) == 0
    assert Reference.objects.get(pk=reference.pk).hosted_file_id == ""


def test_a_place_freed_and_taken_by_another_upload_is_freed_again(owner_client, team, small_sandbox, monkeypatch):
    host_unneeded(team, QUOTA, start=320)
    real_upload, taken = hosting.upload, []

    def others_first(reference, client):
        if len(taken) < 2:  # another submit takes the place just freed
            taken.append(stray_upload(team, 330 + len(taken)))
        return real_upload(reference, client)

    monkeypatch.setattr(hosting, "upload", others_first)
    generation = drive(generate(owner_client, new_reference(owner_client, team, 308)))
    assert generation.status == Status.COMPLETED, generation.error_message
    assert len(taken) == 2


# -- the Key page ------------------------------------------------------------------------


def test_the_key_page_shows_the_hosted_files_used_of_the_most(owner_client, team, small_sandbox):
    host_unneeded(team, 2)
    response = owner_client.post(reverse("studio:test-key"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert f"Hosted files: 2 of {QUOTA}." in response.text


def test_a_quota_that_cannot_be_read_is_said_in_words_on_the_key_page(owner_client, monkeypatch):
    def unavailable(self):
        raise errors.ServiceUnavailable()

    monkeypatch.setattr(EvoLinkClient, "file_quota", unavailable)
    response = owner_client.post(reverse("studio:test-key"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "It works:" in response.text
    assert "The hosted files could not be counted: The image service is temporarily unavailable." in response.text
    page = owner_client.post(reverse("studio:test-key"))  # without htmx: the whole page
    assert page.status_code == 200 and "The hosted files could not be counted" in page.text


def test_the_key_page_loads_the_hosted_files_count_by_itself(owner_client, team, small_sandbox):
    host_unneeded(team, 3, start=340)
    page = owner_client.get(reverse("studio:key"))
    assert f'hx-get="{reverse("studio:key-hosted-files")}"' in page.text
    fragment = owner_client.get(reverse("studio:key-hosted-files"), headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert f"Hosted files: 3 of {QUOTA}." in fragment.text
    assert "<html" not in fragment.text
    whole = owner_client.get(reverse("studio:key-hosted-files"))  # without JavaScript: the page, counted
    assert whole.status_code == 200 and f"Hosted files: 3 of {QUOTA}." in whole.text


def test_the_hosted_files_count_is_kept_a_moment_and_its_failure_said_in_words(
    owner_client, team, small_sandbox, monkeypatch
):
    calls = []
    real_quota = EvoLinkClient.file_quota

    def counted(self):
        calls.append(1)
        return real_quota(self)

    monkeypatch.setattr(EvoLinkClient, "file_quota", counted)
    for _ in range(2):
        assert owner_client.get(reverse("studio:key-hosted-files"), headers={"HX-Request": "true"}).status_code == 200
    assert len(calls) == 1

    def unavailable(self):
        raise errors.ServiceUnavailable()

    monkeypatch.setattr(EvoLinkClient, "file_quota", unavailable)
    cache.clear()
    fragment = owner_client.get(reverse("studio:key-hosted-files"), headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "The hosted files could not be counted: The image service is temporarily unavailable." in fragment.text


def test_only_owners_see_the_hosted_files_count(client, teammate):
    client.force_login(teammate)
    response = client.get(reverse("studio:key-hosted-files"), headers={"HX-Request": "true"})
    assert response.status_code == 403
