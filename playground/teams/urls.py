from django.urls import path, register_converter

from playground.ids import IdConverter

from .views import account, audit, members, usage

register_converter(IdConverter, "id")

app_name = "teams"

urlpatterns = [
    path("team/", members.members, name="members"),
    path("team/new", members.create_team, name="create"),
    path("team/switch", members.switch, name="switch"),
    path("team/leave", members.leave, name="leave"),
    path("team/invitations", members.invite, name="invite"),
    path("team/invitations/<id:pk>/revoke", members.revoke_invitation, name="revoke-invitation"),
    path("team/members/<id:pk>/role", members.change_role, name="change-role"),
    path("team/members/<id:pk>/remove", members.remove_member, name="remove-member"),
    path("invitations/accept", members.accept_pending_invitation, name="accept-pending-invitation"),
    path("invitations/<str:token>", members.accept_invitation, name="accept-invitation"),
    path("team/key", account.key, name="key"),
    path("team/key/test", account.test_key, name="test-key"),
    path("team/budgets", account.budgets, name="budgets"),
    path("team/usage", usage.usage, name="usage"),
    path("team/usage.csv", usage.usage_csv, name="usage-csv"),
    path("team/usage/balance", usage.balance, name="usage-balance"),
    path("team/audit", audit.audit_log, name="audit"),
]
