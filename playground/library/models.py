from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from playground.teams.models import Team


class SavedPromptQuerySet(models.QuerySet):
    def tagged(self, tag):
        # Tags are stored between commas (",product,studio,"), so one tag is found exactly.
        return self.filter(tags__contains=f",{tag},")


class SavedPrompt(models.Model):
    """A prompt or a template with {{variables}}, kept in a team's library by a member."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="saved_prompts")
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="saved_prompts"
    )
    title = models.CharField(_("title"), max_length=120)
    text = models.TextField(_("prompt"))
    tags = models.CharField(_("tags"), max_length=400, blank=True, default="")
    shared = models.BooleanField(_("shared with the team"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = SavedPromptQuerySet.as_manager()

    class Meta:
        verbose_name = _("saved prompt")
        verbose_name_plural = _("saved prompts")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["team", "-created_at"])]

    def __str__(self):
        return self.title

    @property
    def tag_list(self):
        return [tag for tag in self.tags.split(",") if tag]

    @property
    def variables(self):
        from .prompts import variables  # the rule lives with the other rules

        return variables(self.text)
