from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularSwaggerView

from nqihub.core.api.schema_view import SchemaView

admin.site.site_header = _("NQI Hub management console")
admin.site.site_title = _("NQI Hub management console")
admin.site.index_title = _("Accounts, organisations and configuration")

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("accounts/", include("nqihub.accounts.urls")),
    path("organizations/", include("nqihub.organizations.urls")),
    path("audit/", include("nqihub.audit.urls")),
    path("metrology/", include("nqihub.metrology.urls")),
    # Public, no sign-in: the check behind every label's and certificate's QR code.
    path("verify/", include("nqihub.metrology.views.verify")),
    path("notices/", include("nqihub.notifications.urls")),
    path("calendar/", include("nqihub.workcalendar.urls")),
    path("downloads/", include("nqihub.downloads.urls")),
    path("", include("nqihub.core.urls")),
    path("console/", admin.site.urls),
    path("api/v1/", include(("nqihub.api_urls", "v1"), namespace="v1")),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

handler400 = "nqihub.core.views.bad_request"
handler403 = "nqihub.core.views.permission_denied"
handler404 = "nqihub.core.views.page_not_found"
handler500 = "nqihub.core.views.server_error"

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
