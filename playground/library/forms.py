import re

from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from . import prompts

TAG_CHARACTERS = re.compile(r"^[\w \-]+$")


class SavedPromptForm(forms.Form):
    """A prompt to keep in the library: its title, text, tags and who sees it."""

    title = forms.CharField(
        label=_("Title"), max_length=120, error_messages={
            "required": _("Give the prompt a title, to find it again."),
            "max_length": _("The title is too long: at most %(limit_value)d characters (it has %(show_value)d)."),
        },
    )
    text = forms.CharField(
        label=_("Prompt"), strip=True, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Write {{name}} for a part that changes: the prompt becomes a template."),
        error_messages={"required": _("Write the prompt to save.")},
    )
    tags = forms.CharField(
        label=_("Tags"), required=False, max_length=400,
        help_text=_("Separated by commas, for example: product, studio light."),
    )
    shared = forms.TypedChoiceField(
        label=_("Who sees it"), coerce=lambda value: value == "team", initial="team",
        choices=[("team", _("The team")), ("me", _("Just me"))], widget=forms.RadioSelect,
        error_messages={"required": _("Choose who sees it."), "invalid_choice": _("Choose who sees it.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        text = self.fields["text"]
        text.max_length = settings.PROMPT_MAX_LENGTH
        text.validators.append(MaxLengthValidator(text.max_length, message=_(
            "The prompt is too long: at most %(limit_value)d characters (it has %(show_value)d)."
        )))

    def clean_tags(self):
        tags = []
        for tag in self.cleaned_data["tags"].split(","):
            tag = " ".join(tag.split()).lower()
            if not tag or tag in tags:
                continue
            if len(tag) > prompts.TAG_MAX_LENGTH:
                raise forms.ValidationError(
                    _("The tag “%(tag)s” is too long: at most %(limit)d characters."),
                    params={"tag": tag[:40], "limit": prompts.TAG_MAX_LENGTH},
                )
            if not TAG_CHARACTERS.match(tag):
                raise forms.ValidationError(
                    _("The tag “%(tag)s” may have only letters, digits, spaces and dashes."), params={"tag": tag[:40]}
                )
            tags.append(tag)
        if len(tags) > prompts.MAX_TAGS:
            raise forms.ValidationError(ngettext_lazy(
                "At most %(limit)d tag.", "At most %(limit)d tags.", "limit"
            ) % {"limit": prompts.MAX_TAGS})
        return tags

    @classmethod
    def for_prompt(cls, prompt, membership, data=None):
        initial = {
            "title": prompt.title, "text": prompt.text, "tags": ", ".join(prompt.tag_list),
            "shared": "team" if prompt.shared else "me",
        }
        form = cls(data, initial=initial)
        if not prompts.may_change_who_sees(membership, prompt):
            del form.fields["shared"]
        return form


class LibrarySearchForm(forms.Form):
    q = forms.CharField(label=_("Search the library"), required=False, max_length=200)
    tag = forms.CharField(label=_("Tag"), required=False, max_length=prompts.TAG_MAX_LENGTH)

    def results(self, queryset):
        if not self.is_valid():
            return queryset.none()
        return prompts.search(queryset, self.cleaned_data["q"], self.cleaned_data["tag"].strip().lower())
