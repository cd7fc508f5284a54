from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from nqihub.accounts.models import ApiToken
from nqihub.core.access import resolve_acting_membership, set_acting_membership


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Token <key>``. The token's membership decides which organisation
    the machine client acts for; a token without one acts for the person's default."""

    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header."), code="invalid_token")
        try:
            key = header[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token header."), code="invalid_token") from None
        token = (
            ApiToken.objects.usable()
            .select_related("user", "membership__organization__division")
            .filter(key_hash=ApiToken.hash_key(key))
            .first()
        )
        if token is None or not token.user.is_active or token.user.staff_role:
            raise exceptions.AuthenticationFailed(_("Invalid or expired token."), code="invalid_token")
        user = token.user
        if token.membership_id is not None:
            membership = token.membership
            if not (membership.is_active and membership.organization.is_active):
                raise exceptions.AuthenticationFailed(
                    _("The organisation membership of this token has ended."), code="membership_ended"
                )
        else:
            membership = resolve_acting_membership(user)
        set_acting_membership(user, membership)
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return user, token

    def authenticate_header(self, request):
        return self.keyword
