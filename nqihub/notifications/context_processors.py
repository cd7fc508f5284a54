from nqihub.core.access import get_actor


def unread(request):
    """The number of unread notices of the acting organisation, for the menu."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from .models import Notice

    actor = get_actor(user)
    return {"notice_unread": Notice.objects.for_user(user).unread().count() if actor.organization is not None else 0}
