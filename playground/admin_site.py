"""The operators' admin, where an id no row can have is a row that does not exist.

Django's admin looks an object up by the id in its URL and turns a malformed one into "not
found", but a number past the database's 64-bit integers reaches SQLite, which answers with an
OverflowError: a 500. Every model admin registered here (the project's and other apps') looks
such an id up as none, and a list filtered by one (?team=<huge>) is an incorrect filter, which
the admin answers by showing the list unfiltered with a note.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.options import IncorrectLookupParameters

from playground.ids import MAX_ID


class OutOfRangeIdsNotFound:
    def get_object(self, request, object_id, from_field=None):
        if from_field is None and _out_of_range(object_id):
            return None
        return super().get_object(request, object_id, from_field)

    def get_changelist_instance(self, request):
        try:
            return super().get_changelist_instance(request)
        except OverflowError:
            raise IncorrectLookupParameters from None


def _out_of_range(object_id):
    text = str(object_id).strip()
    return text.lstrip("+-").isdigit() and abs(int(text)) > MAX_ID


class Site(admin.AdminSite):
    def register(self, model_or_iterable, admin_class=None, **options):
        base = admin_class or admin.ModelAdmin
        safe = type(base.__name__, (OutOfRangeIdsNotFound, base), {"__module__": base.__module__})
        super().register(model_or_iterable, safe, **options)


class PlaygroundAdminConfig(AdminConfig):
    default_site = "playground.admin_site.Site"


class RecordAdmin(admin.ModelAdmin):
    """A model admin for rows that record what happened: operators read them, nobody edits them
    here (changes go through the operations that write their audit events)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
