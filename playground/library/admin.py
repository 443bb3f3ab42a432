from django.contrib import admin

from .models import SavedPrompt


@admin.register(SavedPrompt)
class SavedPromptAdmin(admin.ModelAdmin):
    list_display = ["title", "team", "saved_by", "shared", "created_at", "last_used_at"]
    list_filter = ["shared"]
    search_fields = ["title", "text", "tags"]
    raw_id_fields = ["team", "saved_by"]
