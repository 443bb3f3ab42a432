"""The operators' admin. The team's key is write-only here too: it can be typed or removed,
never read; only its last four characters are shown."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from playground.admin_site import RecordAdmin

from . import budgets, key, memberships, tokens
from .forms import KeyAndAddressChecks, api_key_field
from .models import AuditEvent, Invitation, Membership, PersonalToken, Team


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


class MembershipFormSet(forms.BaseInlineFormSet):
    def clean(self):
        """A team with an owner keeps one: the admin may not demote or remove the last."""
        super().clean()
        if self.instance.pk is None or any(self.errors):
            return
        before = set(self.instance.memberships.filter(role=Membership.Role.OWNER).values_list("pk", flat=True))
        after = set(before)  # the rows not sent stay as they are
        for form in self.forms:
            if not form.cleaned_data:
                continue  # an empty extra row
            row = form.instance.pk or form
            if form.cleaned_data.get("DELETE") or form.cleaned_data.get("role") != Membership.Role.OWNER:
                after.discard(row)
            else:
                after.add(row)
        if before and not after:  # a team without an owner yet (made here) may stay so
            raise ValidationError(memberships.LAST_OWNER)


class MembershipInline(admin.TabularInline):
    model = Membership
    formset = MembershipFormSet
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
        """Save the team; its key, base URLs and budget then go through the team's operations,
        which audit them as the owners' pages do (a new team needs its row first)."""
        wanted = {name: getattr(obj, name) for name in (*key.URL_FIELDS, "monthly_budget")}
        for name in key.URL_FIELDS:
            setattr(obj, name, form.initial.get(name, ""))
        if change:  # a new team's budget is just its first value, not a change
            obj.monthly_budget = form.initial["monthly_budget"]
        super().save_model(request, obj, form, change)
        if form.cleaned_data.get("remove_key"):
            key.remove_key(obj, request.user)
        elif form.cleaned_data.get("api_key"):
            key.set_key(obj, request.user, form.cleaned_data["api_key"])
        key.set_base_urls(obj, request.user, wanted["api_base_url"], wanted["files_base_url"])
        if wanted["monthly_budget"] != obj.monthly_budget:
            budgets.set_budget(obj, request.user, None, wanted["monthly_budget"])

    def save_formset(self, request, form, formset, change):
        """Save the memberships; additions, role changes, budgets and removals go through the
        team's operations, audited as on the team pages."""
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        team, by = form.instance, request.user
        stored = {row.pk: row for row in team.memberships.select_related("user", "team")}
        formset.save(commit=False)  # nothing is written yet
        for membership in formset.deleted_objects:
            memberships.remove(stored[membership.pk], by)
        for membership, changed in formset.changed_objects:
            before = stored[membership.pk]
            others = [name for name in changed if name not in ("role", "monthly_budget")]
            for name in others:
                setattr(before, name, getattr(membership, name))
            if others:
                before.save(update_fields=others)
            if "role" in changed:
                memberships.set_role(before, membership.role, by)
            if "monthly_budget" in changed:
                budgets.set_budget(team, by, before, membership.monthly_budget)
        for membership in formset.new_objects:
            memberships.add_member(team, membership.user, membership.role, by, membership.monthly_budget)


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


@admin.register(PersonalToken)
class PersonalTokenAdmin(admin.ModelAdmin):
    """Operators see tokens by prefix and revoke them; they make them with `manage.py token create`."""

    list_display = ["prefix", "name", "team", "user", "created_at", "expires_at", "revoked_at", "last_used_at"]
    list_filter = ["team"]
    search_fields = ["prefix", "name", "user__username", "team__name"]
    fields = [
        "prefix", "name", "team", "user", "created_at", "expires_at", "monthly_cap",
        "revoked_at", "last_used_at", "last_used_ip",
    ]  # fmt: skip
    readonly_fields = fields
    actions = ["revoke_tokens"]

    def has_add_permission(self, request):
        return False  # a token exists in plain only when issued, which the admin could not show safely

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, never deleted: the generations made with it keep its name

    def has_revoke_permission(self, request):
        return request.user.has_perm("teams.change_personaltoken")

    @admin.action(description=_("Revoke the chosen tokens"), permissions=["revoke"])
    def revoke_tokens(self, request, queryset):
        for token in queryset.select_related("team", "user"):
            tokens.revoke(token, request.user)


@admin.register(AuditEvent)
class AuditEventAdmin(RecordAdmin):
    list_display = ["created_at", "team", "actor_name", "action", "target"]
    list_filter = ["action", "team"]
    search_fields = ["actor_name", "target"]
    date_hierarchy = "created_at"
