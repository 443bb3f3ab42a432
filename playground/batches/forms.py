"""The form a page starts a batch with: its name, template, source (value lists or a file),
its own size, n and reference images, and whether rows with problems are skipped.

`BatchForm.preview(team)` reads the source and checks every row (see preview.py); nothing is
stored. Which field a refusal belongs to is `BatchForm.field_for(batch)`, so a page shows it
next to that field.
"""

import hashlib
import json

from django import forms
from django.utils.translation import gettext_lazy as _

from playground.evolink.contract import MAX_REFERENCE_IMAGES
from playground.generations import references
from playground.generations.forms import ReferenceIdsField, count_field, size_field, too_many_references

from . import preview, values
from .models import Batch
from .rows import Defaults
from .templates import MAX_LENGTH as MAX_TEMPLATE_LENGTH  # noqa: F401 (its old home)
from .templates import Template

VALUES_PREFIX = "values-"


class Source:
    VALUES = "values"
    FILE = "file"
    CHOICES = [(VALUES, _("Value lists")), (FILE, _("A CSV or TSV file"))]


class BatchForm(forms.Form):
    name = forms.CharField(
        label=_("Batch name"),
        max_length=Batch._meta.get_field("name").max_length,
        error_messages={"required": _("Give the batch a name, such as “Spring mugs”.")},
    )
    template = forms.CharField(
        label=_("Template"),
        # Its length is checked in clean_template, in the words the command uses too.
        widget=forms.Textarea,
        strip=False,
        error_messages={"required": _("Write a template, such as “A {{product}} on a {{surface}}”.")},
    )
    source = forms.ChoiceField(
        label=_("The values come from"), choices=Source.CHOICES, initial=Source.VALUES, widget=forms.RadioSelect
    )
    file = forms.FileField(label=_("CSV or TSV file"), required=False, error_messages={"empty": _("The file is empty.")})
    size = size_field()
    n = count_field()
    # Not an input: where refusals about the value lists as a whole are said.
    values = forms.Field(required=False, widget=forms.HiddenInput)
    references = ReferenceIdsField(label=_("Reference images"), required=False)
    skip_problems = forms.BooleanField(label=_("Skip rows with problems"), required=False)
    # What the preview signed for the start (see preview_tokens.py).
    preview_token = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, team, for_preview=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team
        self.fields["name"].required = not for_preview  # a preview needs no name yet
        template = Template(self.data.get("template") or self.initial.get("template") or "")
        # A template over its limits gets no value fields: its refusal is said at the template.
        self.limit_problems = template.limit_problems()
        self.variables = [] if self.limit_problems else template.variables
        for name in self.variables:
            self.fields[VALUES_PREFIX + name] = forms.CharField(
                label=name,
                widget=forms.Textarea,
                required=False,
                strip=False,
            )

    @property
    def value_fields(self):
        """The value list of each variable, in the template's order."""
        return [self[VALUES_PREFIX + name] for name in self.variables]

    @property
    def from_file(self):
        return self.data.get("source") == Source.FILE

    def clean_template(self):
        text = self.cleaned_data["template"]
        problems = Template(text).limit_problems()
        if problems:
            raise forms.ValidationError(problems)
        return text

    def clean_references(self):
        ids = self.cleaned_data["references"]
        found = references.chosen(self.team, ids)
        if len(found) != len(set(ids)):
            raise forms.ValidationError(
                _("A chosen reference image is no longer available: remove it and choose again.")
            )
        if len(found) > MAX_REFERENCE_IMAGES:
            raise too_many_references(len(found))
        return found

    def clean(self):
        cleaned = super().clean()
        if self.from_file and not cleaned.get("file") and "file" not in self.errors:
            self.add_error("file", _("Choose a CSV or TSV file whose first row names the variables."))
        return cleaned

    def texts(self):
        return {name: self.data.get(VALUES_PREFIX + name, "") for name in self.variables}

    def combinations(self):
        """How many prompts the value lists make as typed (0 until every variable has a value)."""
        if self.limit_problems:
            return 0
        return values.count(Template(self.data.get("template", "")), self.texts())

    def preview(self):
        """The batch as the form describes it, read and checked; call once the form is valid."""
        team = self.team
        cleaned = self.cleaned_data
        defaults = Defaults(size=cleaned["size"], n=cleaned["n"], references=tuple(cleaned["references"]))
        if self.from_file:
            upload = cleaned["file"]
            upload.seek(0)
            return preview.from_upload(team, cleaned["template"], upload, defaults)
        return preview.from_values(team, cleaned["template"], self.texts(), defaults)

    def fingerprint(self):
        """A digest of everything the preview reads: the template, the source and its values or
        file, the size, n and references. Not the name, nor whether rows with problems are
        skipped: those rows are never sent, and the preview shows which they are."""
        cleaned = self.cleaned_data
        seen = {
            "template": cleaned["template"],
            "source": cleaned["source"],
            "size": cleaned["size"],
            "n": cleaned["n"],
            "references": [str(reference.public_id) for reference in cleaned["references"]],
        }
        if self.from_file:
            seen["file"] = file_digest(cleaned["file"])
        else:
            seen["values"] = self.texts()
        return hashlib.sha256(json.dumps(seen, sort_keys=True).encode()).hexdigest()

    def field_for(self, batch):
        """Where the batch's refusal as a whole is shown: the template's problems at the template,
        the rest at the file or the value lists."""
        if Template(self.cleaned_data["template"]).problems():
            return "template"
        return "file" if self.from_file else "values"

    @property
    def source_name(self):
        upload = self.cleaned_data.get("file") if self.from_file else None
        return upload.name[:255] if upload else ""


def file_digest(upload):
    digest = hashlib.sha256()
    for chunk in upload.chunks():  # from its start
        digest.update(chunk)
    return {"sha256": digest.hexdigest(), "bytes": upload.size}
