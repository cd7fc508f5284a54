"""The versioned API: /api/v1/. Each app contributes its routes here, by explicit imports."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from nqihub.accounts.api.views import MeView, TokenViewSet
from nqihub.audit.api.views import AuditEventViewSet
from nqihub.cases.api import CaseViewSet
from nqihub.divisions.api import AdminDivisionViewSet
from nqihub.metrology.api import routes as metrology_routes
from nqihub.organizations.api.views import (
    EnterpriseRegistrationViewSet,
    MembershipViewSet,
    OrganizationViewSet,
)
from nqihub.sampling.api import routes as sampling_routes

router = DefaultRouter()
router.register("divisions", AdminDivisionViewSet, basename="division")
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("memberships", MembershipViewSet, basename="membership")
router.register("registrations", EnterpriseRegistrationViewSet, basename="registration")
router.register("tokens", TokenViewSet, basename="token")
router.register("audit-events", AuditEventViewSet, basename="audit-event")
router.register("cases", CaseViewSet, basename="case")
metrology_routes.register(router)
sampling_routes.register(router)

urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    path("", include(router.urls)),
]
