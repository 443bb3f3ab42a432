"""The operators' admin. The team's key is write-only here too: it can be typed or removed,
never read; only its last four characters are shown."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import audit
from .forms import KeyAndAddressChecks, api_key_field
from .invitations import revoke_invitations_beyond
from .models import AuditEvent, Invitation, Membership, Team


class TeamAdminForm(KeyAndAddressChecks, forms.ModelForm):
    api_key = api_key_field(help_text=_("Leave blank to keep the current key. A new key replaces it."))
    remove_key = forms.BooleanField(label=_("Remove the key"), required=False)

    class Meta:
        model = Team
        exclude = ["api_key_encrypted"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("api_key") and cleaned.get("remove_key"):
            raise ValidationError(_("Either type a new key or remove the key, not both."))
        if "api_key" in cleaned:  # else the typed key has its own error
            keeps = not cleaned["api_key"] and not cleaned.get("remove_key")
            # The instance still holds the stored addresses: the form's values reach it after clean().
            self.require_key_for_new_address(self.instance, keeps_stored_key=keeps)
        return cleaned


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "monthly_budget"]
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    form = TeamAdminForm
    list_display = ["name", "slug", "key_shown", "may_use_deployment_key", "monthly_budget", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["key_shown"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "monthly_budget"]}),
        (
            _("EvoLink account"),
            {"fields": ["key_shown", "api_key", "remove_key", "api_base_url", "files_base_url", "may_use_deployment_key"]},
        ),
    ]
    inlines = [MembershipInline]

    @admin.display(description=_("API key"))
    def key_shown(self, team):
        return f"sk-…{team.api_key_last4}" if team.has_api_key else "—"

    def save_model(self, request, obj, form, change):
        """Apply a typed or removed key, save, then audit it (a new team needs its row first)."""
        had_key = obj.has_api_key
        event = None
        if form.cleaned_data.get("remove_key") and had_key:
            obj.set_api_key("")
            event = (audit.Action.KEY_REMOVED, {})
        elif form.cleaned_data.get("api_key"):
            obj.set_api_key(form.cleaned_data["api_key"])
            event = (audit.Action.KEY_SET, {"last4": obj.api_key_last4})
        super().save_model(request, obj, form, change)
        if event:
            audit.record(obj, request.user, event[0], **event[1])
        if {"api_base_url", "files_base_url"} & set(form.changed_data):
            audit.record(
                obj,
                request.user,
                audit.Action.UPSTREAM_CHANGED,
                api_base_url=obj.api_base_url,
                files_base_url=obj.files_base_url,
            )
        if change and "monthly_budget" in form.changed_data:
            audit.budget_changed(obj, request.user, None, form.initial["monthly_budget"], obj.monthly_budget)

    def save_formset(self, request, form, formset, change):
        """Save the memberships, auditing what the team pages audit: roles, budgets, removals."""
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        changes = membership_changes(formset)  # before saving, while the old values are known
        super().save_formset(request, form, formset, change)
        team = form.instance
        for membership, field, old, new in changes:
            name = membership.user.get_username()
            if field == "removed":
                audit.record(team, request.user, audit.Action.MEMBER_REMOVED, name, role=old)
                revoke_invitations_beyond(team, membership.user, None, request.user)
            elif field == "role":
                audit.record(team, request.user, audit.Action.ROLE_CHANGED, name, **{"from": old, "to": new})
                revoke_invitations_beyond(team, membership.user, membership, request.user)
            else:
                audit.budget_changed(team, request.user, membership, old, new)


def membership_changes(formset):
    """[(membership, "removed" | "role" | "monthly_budget", old, new)] for the existing memberships."""
    changes = []
    for form in formset.initial_forms:
        membership = form.instance
        if form in formset.deleted_forms:
            changes.append((membership, "removed", form.initial["role"], None))
            continue
        for field in ("role", "monthly_budget"):
            if field in form.changed_data:
                changes.append((membership, field, form.initial[field], form.cleaned_data[field]))
    return changes


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["team", "role", "note", "created_by", "expires_at", "accepted_at", "revoked_at"]
    list_filter = ["role", "team"]
    search_fields = ["note", "team__name"]
    exclude = ["token_hash"]
    readonly_fields = ["team", "created_by", "created_at", "accepted_at", "accepted_by"]

    def has_add_permission(self, request):
        # An invitation's link exists only when it is issued, on the team page; one
        # made here would have no link anybody could open.
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "team", "actor_name", "action", "target"]
    list_filter = ["action", "team"]
    search_fields = ["actor_name", "target"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
