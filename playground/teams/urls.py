from django.urls import path, register_converter

from playground.ids import IdConverter

from .views import audit, members

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
    path("team/audit", audit.audit_log, name="audit"),
]
