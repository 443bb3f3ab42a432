"""The EvoLink account a generation's task went through (see `teams.upstream` for a team's)."""

from playground.teams.upstream import Account, account_for


def generation_account(generation):
    """The account a generation's task was sent through, even if the team's key changed since."""
    if generation.account_encrypted:
        return Account.unsealed(generation.account_encrypted)
    return account_for(generation.team)
