"""What the gateway keeps beside the generations: keyed creates, request counts, callbacks."""

from django.db import models
from django.utils import timezone

from playground.generations.models import Generation


class KeyedCreate(models.Model):
    """A create sent with an Idempotency-Key: the same key and body within 24 hours answer
    the same task; the same key with another body is refused."""

    token = models.ForeignKey("teams.PersonalToken", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    body_digest = models.CharField(max_length=64)
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token", "key"], name="one_create_per_key")]


class RequestCount(models.Model):
    """A token's requests in one minute, counted in the database so that every web process
    shares the limit."""

    token = models.ForeignKey("teams.PersonalToken", on_delete=models.CASCADE, related_name="+")
    minute = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token", "minute"], name="one_count_per_minute")]


class Callback(models.Model):
    """Where to tell a script that its task ended, and how the telling went."""

    generation = models.OneToOneField(Generation, on_delete=models.CASCADE, related_name="gateway_callback")
    token = models.ForeignKey("teams.PersonalToken", null=True, on_delete=models.SET_NULL, related_name="+")
    url = models.URLField(max_length=2048)
    # The origin the task's result links are written against: the one the create came to.
    base_url = models.URLField(max_length=300)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)  # the receiver's, or null: no answer
    claimed_until = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)  # of the next attempt, after a refused one
    delivered_at = models.DateTimeField(null=True, blank=True)
    given_up_at = models.DateTimeField(null=True, blank=True)
