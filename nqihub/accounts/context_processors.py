from nqihub.core.access import get_actor


def acting(request):
    """Who is acting and for which organisation, and the other organisations they may switch to."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from nqihub.organizations.models import Membership

    actor = get_actor(user)
    memberships = Membership.objects.active().filter(user=user).select_related("organization")
    return {"actor": actor, "acting_membership": actor.membership, "my_memberships": memberships}
