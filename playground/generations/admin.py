from django.contrib import admin

from .models import GeneratedImage, Generation


class GeneratedImageInline(admin.TabularInline):
    model = GeneratedImage
    extra = 0
    readonly_fields = ["index", "file", "width", "height", "bytes", "sha256"]
    can_delete = False


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = ["public_id", "team", "status", "progress", "size", "n", "created_at"]
    list_filter = ["status", "size", "team"]
    search_fields = ["prompt", "task_id", "request_id", "public_id"]
    readonly_fields = [
        "public_id", "task_id", "request_id", "result_urls", "credits_estimated", "credits_reserved", "credits_charged",
        "created_at", "updated_at",
    ]
    inlines = [GeneratedImageInline]
