from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import SIZE_CHOICES

COUNT_CHOICES = [(1, "1"), (2, "2"), (4, "4")]


class GenerationForm(forms.Form):
    """What a person (or a script) asks for; checked before anything is stored or sent."""

    prompt = forms.CharField(
        label=_("Prompt"),
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": _("Describe the image you want…")}),
        error_messages={"required": _("Write a prompt describing the image.")},
    )
    size = forms.ChoiceField(
        label=_("Size"),
        choices=SIZE_CHOICES,
        initial="1:1",
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose one of the listed sizes.")},
    )
    n = forms.TypedChoiceField(
        label=_("Images"),
        choices=COUNT_CHOICES,
        coerce=int,
        initial=1,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose 1, 2 or 4 images.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = settings.PROMPT_MAX_LENGTH
        prompt = self.fields["prompt"]
        prompt.max_length = limit
        prompt.widget.attrs["maxlength"] = limit
        prompt.validators.append(forms.CharField(max_length=limit).validators[0])
        prompt.error_messages["max_length"] = _(
            "The prompt is too long: at most %(limit_value)d characters (it has %(show_value)d)."
        )
