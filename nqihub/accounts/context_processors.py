from nqihub.core.access import get_actor


def acting(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from nqihub.organizations.models import Membership

    actor = get_actor(user)
    memberships = Membership.objects.active().filter(user=user).select_related("organization")
    from nqihub.notifications.models import Notice

    unread = Notice.objects.for_user(user).unread().count() if actor.organization is not None else 0
    return {"actor": actor, "acting_membership": actor.membership, "my_memberships": memberships, "notice_unread": unread}
