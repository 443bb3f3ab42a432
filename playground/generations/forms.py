from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from playground.evolink.contract import COUNTS

from .models import SIZE_CHOICES

COUNT_CHOICES = [(count, str(count)) for count in COUNTS]


class GenerationForm(forms.Form):
    """What a person (or a script) asks for; checked before anything is stored or sent."""

    prompt = forms.CharField(
        label=_("Prompt"),
        widget=forms.Textarea,
        error_messages={
            "required": _("Write a prompt describing the image."),
            "max_length": _(
                "The prompt is too long: at most %(limit_value)d characters (it has %(show_value)d)."
            ),
        },
    )
    size = forms.ChoiceField(
        label=_("Size"),
        choices=SIZE_CHOICES,
        initial="1:1",
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose one of the listed sizes.")},
    )
    n = forms.TypedChoiceField(
        label=_("Number of images"),
        choices=COUNT_CHOICES,
        coerce=int,
        initial=1,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose 1, 2 or 4 images.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The limit is a setting, so it is read per form rather than at import.
        prompt = self.fields["prompt"]
        prompt.max_length = settings.PROMPT_MAX_LENGTH
        prompt.validators.append(MaxLengthValidator(prompt.max_length))
