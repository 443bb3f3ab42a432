from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from playground.evolink.contract import (
    COUNTS,
    MAX_CALLBACK_URL,
    MAX_REFERENCE_IMAGES,
    public_https_url_problem,
)

from . import images, references
from .models import SIZE_CHOICES, Tag

COUNT_CHOICES = [(count, str(count)) for count in COUNTS]
MAX_TAGS = 12
MAX_TAG_LENGTH = Tag._meta.get_field("name").max_length


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Any number of files under one name; each is checked by `images.check_image`.

    `others` is how many reference images the request has besides these files: the
    count is checked before any file is decoded."""

    widget = MultipleFileInput
    others = 0

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data] if data else []
        if len(files) + self.others > MAX_REFERENCE_IMAGES:  # before decoding any of them
            raise too_many_references(len(files) + self.others)
        return [images.check_image(upload) for upload in files]


class ReferenceIdsField(forms.MultipleChoiceField):
    """Ids of the team's references; which exist is checked by the form, against the team."""

    def valid_value(self, value):
        return True


def too_many_references(count):
    return ValidationError(
        ngettext_lazy(
            "At most %(limit)d reference images per request: remove %(extra)d.",
            "At most %(limit)d reference images per request: remove %(extra)d.",
            "extra",
        ),
        params={"limit": MAX_REFERENCE_IMAGES, "extra": count - MAX_REFERENCE_IMAGES},
    )


class ReferencesForm(forms.Form):
    """The reference images of a request: the team's stored ones by id, and uploads.

    GenerationForm asks for these; ReferenceFieldForm is the field on its own.
    """

    references = ReferenceIdsField(label=_("Reference images"), required=False)
    images = MultipleFileField(label=_("Upload reference images"), required=False)

    def __init__(self, *args, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team
        self.chosen = None  # the references and checked uploads together, once both are valid

    def clean_references(self):
        ids = self.cleaned_data["references"]
        found = references.chosen(self.team, ids) if self.team else []
        if len(found) != len(set(ids)):
            raise ValidationError(
                _("A chosen reference image is no longer available: remove it and choose again.")
            )
        return found

    def clean(self):
        cleaned = super().clean()
        if "references" not in cleaned or "images" not in cleaned:
            return cleaned  # their own errors say what is wrong
        self.chosen = cleaned["references"] + cleaned["images"]
        if len(self.chosen) > MAX_REFERENCE_IMAGES:
            self.add_error("references", too_many_references(len(self.chosen)))
        return cleaned



class ReferenceFieldForm(ReferencesForm):
    """The references field as its page part sends it: the references shown, one to `remove`,
    one to `add` (an earlier reference or a result image, see `references.picked`), and uploads.

    A reference no longer there just drops out of the field. The count is checked before any
    image is copied or any upload decoded; one bad upload refuses the batch, and `save`
    stores the uploads only once every one passed.
    """

    remove = forms.CharField(required=False)
    add = forms.CharField(required=False)
    field_order = ["references", "remove", "add", "images"]

    def __init__(self, *args, team, user, **kwargs):
        super().__init__(*args, team=team, **kwargs)
        self.user = user
        self.kept = []  # the references still shown, whatever else was refused
        self.added = None

    def clean_references(self):
        self.kept = references.chosen(self.team, self.cleaned_data["references"])
        return self.kept

    def clean_remove(self):
        removed = self.cleaned_data["remove"]
        self.kept = [reference for reference in self.kept if str(reference.public_id) != removed]
        self.cleaned_data["references"] = self.kept
        return removed

    def clean_add(self):
        """Picks the image to add (Reference.DoesNotExist when the team has none such), if the count allows."""
        named = self.cleaned_data["add"]
        others = len(self.kept) + bool(named)
        self.fields["images"].others = others
        if named and others + len(self.files.getlist("images")) <= MAX_REFERENCE_IMAGES:
            self.added = references.picked(self.team, self.user, named)
        return named

    def errors_in_one(self):
        return ValidationError([message for messages in self.errors.values() for message in messages])

    def save(self):
        """The field's references once valid: those kept, the one added, the uploads stored."""
        stored = [references.store(self.team, self.user, checked) for checked in self.cleaned_data["images"]]
        return list(dict.fromkeys([*self.kept, *filter(None, [self.added]), *stored]))


def size_field():
    """The size, as the composer's shapes offer it."""
    return forms.ChoiceField(
        label=_("Size"),
        choices=SIZE_CHOICES,
        initial="1:1",
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose one of the listed sizes.")},
    )


def count_field():
    """The number of images: 1, 2 or 4."""
    return forms.TypedChoiceField(
        label=_("Number of images"),
        choices=COUNT_CHOICES,
        coerce=int,
        initial=1,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose 1, 2 or 4 images.")},
    )


class GenerationForm(ReferencesForm):
    """What a person (or a script) asks for; checked before anything is stored or sent."""

    field_order = ["prompt", "size", "n", "references", "images"]

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
    size = size_field()
    n = count_field()
    mask = forms.FileField(label=_("Mask"), required=False, error_messages={"empty": _("The mask file is empty.")})
    # The mask of a generation being run again, already in the team's storage.
    stored_mask = forms.UUIDField(label=_("Use the earlier mask"), required=False)
    strict_mask = forms.BooleanField(label=_("Strict mask"), required=False, initial=True)
    callback_url = forms.CharField(label=_("Callback URL"), required=False, strip=True)

    def __init__(self, *args, team=None, **kwargs):
        super().__init__(*args, team=team, **kwargs)
        # The limit is a setting, so it is read per form rather than at import.
        prompt = self.fields["prompt"]
        prompt.max_length = settings.PROMPT_MAX_LENGTH
        prompt.validators.append(MaxLengthValidator(prompt.max_length))

    def clean_callback_url(self):
        url = self.cleaned_data["callback_url"]
        if url:
            check_callback_url(url)
        return url

    def clean(self):
        cleaned = super().clean()
        if self.chosen is None:
            return cleaned
        mask = cleaned.get("mask")
        try:
            if mask:
                cleaned["mask"] = self.check_mask(mask, self.chosen)
            elif cleaned.get("stored_mask"):
                cleaned["mask"] = self.stored_mask_for(cleaned["stored_mask"], self.chosen)
        except ValidationError as error:
            self.add_error("mask", error)
        cleaned.pop("stored_mask", None)
        return cleaned

    def stored_mask_for(self, public_id, chosen):
        """The team's stored mask, when it still fits the one chosen reference."""
        mask = references.stored_mask(self.team, public_id)
        if mask is None:
            raise ValidationError(_("The earlier mask is no longer available: paint or upload a new one."))
        if len(chosen) != 1:
            raise ValidationError(
                _("A mask edits exactly one reference image; there are %(count)d."), params={"count": len(chosen)}
            )
        if (mask.width, mask.height) != (chosen[0].width, chosen[0].height):
            raise ValidationError(_("The earlier mask does not fit this reference image: paint or upload a new one."))
        return mask

    def check_mask(self, mask, chosen):
        if len(chosen) != 1:
            raise ValidationError(
                _("A mask edits exactly one reference image; there are %(count)d."),
                params={"count": len(chosen)},
            )
        reference = chosen[0]
        return images.check_mask(mask, (reference.width, reference.height))


def check_callback_url(url):
    """The contract's rules for callback_url: HTTPS, no internal address, 2,048 characters."""
    problem = public_https_url_problem(url, MAX_CALLBACK_URL)
    if problem == "too_long":
        raise ValidationError(
            _("The callback URL can be at most %(limit)s characters long (it has %(count)s)."),
            params={"limit": f"{MAX_CALLBACK_URL:,}", "count": f"{len(url):,}"},
        )
    if problem == "not_https":
        raise ValidationError(_("The callback URL must be an https:// address."))
    if problem == "internal":
        raise ValidationError(_("The callback URL must not point to an internal or loopback address."))


class TagsForm(forms.Form):
    tags = forms.CharField(
        label=_("Tags"),
        required=False,  # empty clears the tags
        help_text=_("Separate tags with commas, e.g. poster, autumn campaign."),
    )

    def clean_tags(self):
        """Lower-case words with single spaces, each once, in the order given."""
        names = [" ".join(part.split()).lower() for part in self.cleaned_data["tags"].split(",")]
        names = list(dict.fromkeys(name for name in names if name))
        too_long = [name for name in names if len(name) > MAX_TAG_LENGTH]
        if too_long:
            raise forms.ValidationError(
                gettext("“%(tag)s” is longer than %(limit)d characters.")
                % {"tag": Truncator(too_long[0]).chars(MAX_TAG_LENGTH), "limit": MAX_TAG_LENGTH}
            )
        if len(names) > MAX_TAGS:
            raise forms.ValidationError(
                gettext("At most %(limit)d tags, and this has %(count)d.") % {"limit": MAX_TAGS, "count": len(names)}
            )
        return names
