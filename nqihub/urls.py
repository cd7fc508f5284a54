"""The project's URL map. Every app's routes are included by an import that static tools can
follow (the layer contract sees them), never by a dotted string."""

from django.conf import settings
from django.conf.urls import i18n
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularSwaggerSplitView

from nqihub import api_urls
from nqihub.accounts import urls as accounts_urls
from nqihub.audit import urls as audit_urls
from nqihub.cases import urls as cases_urls
from nqihub.core import urls as core_urls
from nqihub.core import views as core_views
from nqihub.core.api.schema_view import SchemaView
from nqihub.documents import verify as verify_urls
from nqihub.downloads import urls as downloads_urls
from nqihub.metrology import urls as metrology_urls
from nqihub.notifications import urls as notifications_urls
from nqihub.organizations import urls as organizations_urls
from nqihub.sampling import urls as sampling_urls
from nqihub.workcalendar import urls as workcalendar_urls

admin.site.site_header = _("NQI Hub management console")
admin.site.site_title = _("NQI Hub management console")
admin.site.index_title = _("Accounts, organisations and configuration")

urlpatterns = [
    path("i18n/", include(i18n)),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("accounts/", include(accounts_urls)),
    path("organizations/", include(organizations_urls)),
    path("audit/", include(audit_urls)),
    path("metrology/", include(metrology_urls)),
    path("sampling/", include(sampling_urls)),
    # Public, no sign-in: the check behind every label's and certificate's QR code.
    path("verify/", include(verify_urls)),
    path("notices/", include(notifications_urls)),
    path("cases/", include(cases_urls)),
    path("calendar/", include(workcalendar_urls)),
    path("downloads/", include(downloads_urls)),
    path("", include(core_urls)),
    path("console/", admin.site.urls),
    path("api/v1/", include((api_urls, "v1"), namespace="v1")),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

handler400 = core_views.bad_request
handler403 = core_views.permission_denied
handler404 = core_views.page_not_found
handler500 = core_views.server_error

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
