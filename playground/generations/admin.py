"""The operators' admin for generations: read-only rows, and deleting through
`operations.delete_as_operator`, so a deletion keeps the row's cost in budgets and usage,
spares running generations and is logged, as on the team's pages."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from playground.admin_site import RecordAdmin

from . import operations
from .models import GeneratedImage, Generation


class GeneratedImageInline(admin.TabularInline):
    model = GeneratedImage
    extra = 0
    readonly_fields = ["index", "file", "width", "height", "bytes", "sha256"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Generation)
class GenerationAdmin(RecordAdmin):
    list_display = ["public_id", "team", "status", "progress", "size", "n", "created_at"]
    list_filter = ["status", "size", "team"]
    search_fields = ["prompt", "task_id", "request_id", "public_id"]
    inlines = [GeneratedImageInline]
    actions = ["delete_generations"]

    # A row is what happened; Django's own deletion would drop it with its cost, so deleting
    # goes through `delete_generations`.
    def has_forget_permission(self, request):
        return request.user.has_perm(f"{self.opts.app_label}.delete_{self.opts.model_name}")

    @admin.action(description=_("Delete selected generations"), permissions=["forget"])
    def delete_generations(self, request, queryset):
        deleted, running = 0, 0
        for generation in queryset.filter(deleted_at__isnull=True).select_related("team"):
            try:
                operations.delete_as_operator(generation, request.user)
            except operations.StillRunning:
                running += 1
            else:
                deleted += 1
        if deleted:
            message = ngettext("Deleted %(count)d generation.", "Deleted %(count)d generations.", deleted)
            self.message_user(request, message % {"count": deleted}, messages.SUCCESS)
        if running:
            message = ngettext(
                "%(count)d generation is still running and was not deleted.",
                "%(count)d generations are still running and were not deleted.",
                running,
            )
            self.message_user(request, message % {"count": running}, messages.WARNING)
