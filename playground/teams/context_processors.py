from .access import current_membership


def current_team(request):
    membership = current_membership(request)
    return {"membership": membership, "team": membership.team if membership else None}
