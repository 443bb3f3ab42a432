"""A batch's template: a prompt with variables written `{{name}}`, filled from a row of values."""

import re
from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.translation import gettext as _

# A variable: letters, digits and underscores (any script's letters), spaces allowed inside the braces.
VARIABLE = re.compile(r"\{\{\s*(\w+)\s*\}\}")
# Anything in double braces, to catch `{{product name}}` or `{{}}`, which are not variables.
BRACED = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
# Column names with a meaning of their own in an upload (see tables.py); not variable names.
RESERVED = ("size", "n", "reference")
# The filled prompts have Generate's own limit; these only bound what a template can ask for.
MAX_LENGTH = 10_000
MAX_VARIABLES = 20


class MissingValue(Exception):
    """A row has no value (or only blanks) for a variable of the template."""

    def __init__(self, name):
        super().__init__(name)
        self.name = name

    @property
    def message(self):
        return _("No value for {{%(name)s}}.") % {"name": self.name}


@dataclass(frozen=True)
class Template:
    text: str

    @property
    def variables(self):
        """The variable names in the order they first appear, each once."""
        return list(dict.fromkeys(VARIABLE.findall(self.text)))

    def limit_problems(self):
        """The template is too long, or has too many variables (checked before anything is built from it)."""
        if len(self.text) > MAX_LENGTH:
            return [
                _("The template is %(length)s characters long; a template takes at most %(limit)s.")
                % {"length": number_format(len(self.text), force_grouping=True),
                   "limit": number_format(MAX_LENGTH, force_grouping=True)}
            ]
        if len(self.variables) > MAX_VARIABLES:
            return [
                _("The template has %(count)s variables; a template takes at most %(limit)s.")
                % {"count": len(self.variables), "limit": MAX_VARIABLES}
            ]
        return []

    def problems(self):
        """Why this template cannot make a batch, as sentences (none when it can)."""
        found = self.limit_problems()
        if found:
            return found
        malformed = [
            match.group(0) for match in BRACED.finditer(self.text) if not VARIABLE.fullmatch(match.group(0))
        ]
        for braced in dict.fromkeys(malformed):
            found.append(
                _(
                    "%(braced)s is not a variable: a name is letters, digits and underscores, such as {{product}}."
                )
                % {"braced": braced}
            )
        reserved = [name for name in self.variables if name.lower() in RESERVED]
        for name in reserved:
            found.append(
                _(
                    "{{%(name)s}} cannot be a variable: size, n and reference are the names of optional columns."
                )
                % {"name": name}
            )
        if not self.variables and not malformed:
            found.append(
                _("The template has no variables: write each one in double braces, such as {{product}}.")
            )
        return found

    def fill(self, values):
        """The prompt for one row; MissingValue when a variable has no value or only blanks."""

        def value(match):
            text = values.get(match.group(1), "")
            if not text.strip():
                raise MissingValue(match.group(1))
            return text

        return VARIABLE.sub(value, self.text)
