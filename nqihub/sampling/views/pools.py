"""两库 and the institution pool pages: the inspection-object pool (search, detail, forms,
Excel export and import), the inspector pool (with declared conflicts and import) and the
testing institutions qualified for a category (with the import of capability lines). Reads go
through the scoping base, writes through ``services.pools``."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from nqihub.core.errors import ServiceError
from nqihub.core.forms import apply_service_error
from nqihub.core.views_base import form_page, record_read, scoped_object, search_terms, searched_page
from nqihub.organizations.models import AuthorisationScope, Discipline
from nqihub.tables.exports import export_response

from ..models import Inspector, InspectorConflict, PoolObject, ProductCategory
from ..pool_filters import InspectorFilter, PoolObjectFilter, inspectors_for, pool_objects_for
from ..services import pools as services

EXPORT_LIMIT = 200_000


# --- Forms ------------------------------------------------------------------------------------


class PoolObjectForm(forms.Form):
    credit_code = forms.CharField(label=gettext_lazy("unified social credit code"), max_length=30)
    category = forms.ModelChoiceField(label=gettext_lazy("product category"), queryset=ProductCategory.objects.none())
    role = forms.ChoiceField(label=gettext_lazy("role"), choices=PoolObject.Role.choices)
    product_name = forms.CharField(label=gettext_lazy("product"), max_length=200)
    brand = forms.CharField(label=gettext_lazy("brand"), max_length=100, required=False)
    model = forms.CharField(label=gettext_lazy("model or specification"), max_length=100, required=False)
    standard = forms.CharField(label=gettext_lazy("product standard"), max_length=100, required=False)
    producer_name = forms.CharField(label=gettext_lazy("named producer"), max_length=200, required=False)
    complaints = forms.IntegerField(label=gettext_lazy("complaints (12 months)"), min_value=0, initial=0)
    earlier_failures = forms.IntegerField(label=gettext_lazy("earlier failures"), min_value=0, initial=0)
    abnormal_listed = forms.BooleanField(label=gettext_lazy("on the abnormal-operations list"), required=False)

    def __init__(self, *args, obj: PoolObject | None = None, **kwargs):
        if obj is not None:
            kwargs.setdefault("initial", {f: getattr(obj, f) for f in services.POOL_FIELDS})
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = ProductCategory.objects.filter(is_active=True)
        if obj is not None:
            del self.fields["credit_code"]  # the enterprise of an object stays


class InspectorForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("name"), max_length=50)
    enforcement_number = forms.CharField(label=gettext_lazy("enforcement certificate number"), max_length=40)
    office = forms.ModelChoiceField(label=gettext_lazy("office"), queryset=None)
    fields = forms.ModelMultipleChoiceField(
        label=gettext_lazy("fields"), queryset=ProductCategory.objects.none(), required=False
    )
    is_available = forms.BooleanField(label=gettext_lazy("available"), required=False, initial=True)
    unavailable_until = forms.DateField(
        label=gettext_lazy("unavailable until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    certificate_valid_until = forms.DateField(
        label=gettext_lazy("certificate valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, user=None, inspector: Inspector | None = None, **kwargs):
        if inspector is not None:
            initial = {f: getattr(inspector, f) for f in services.INSPECTOR_FIELDS}
            initial.update(office=inspector.office_id, fields=list(inspector.fields.all()))
            kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.fields["fields"].queryset = ProductCategory.objects.filter(is_active=True)
        self.fields["office"].queryset = services.offices_for(user)


class ConflictForm(forms.Form):
    credit_code = forms.CharField(label=gettext_lazy("unified social credit code"), max_length=30)
    reason = forms.CharField(label=gettext_lazy("reason"), max_length=300)


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File (.xlsx, .xls, .ods or .csv)"))


# --- The object pool -------------------------------------------------------------------------


def _pool_search(request: HttpRequest, action: str = "view") -> PoolObjectFilter:
    return PoolObjectFilter(
        request.GET or None, queryset=pool_objects_for(request.user, action).order_by("division", "category", "pk")
    )


@login_required
def pool_list(request: HttpRequest) -> HttpResponse:
    search = _pool_search(request)
    page = searched_page(request, search.qs, per_page=50)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "sampling/pools_list.html",
        {"search": search, "page": page, "query": query.urlencode(), "can_keep": services.may_keep_pool(request.user)},
    )


POOL_EXPORT_HEADERS = (
    "统一社会信用代码",
    "企业名称",
    "行政区划",
    "产品类别",
    "产品名称",
    "商标",
    "规格型号",
    "执行标准",
    "经营角色",
    "标称生产者",
    "投诉次数",
    "既往不合格次数",
    "列入经营异常名录",
    "风险分值",
    "在库",
)


@login_required
def pool_export(request: HttpRequest) -> HttpResponse:
    """The pool as searched, as a workbook whose first columns are the import's: the draw's
    published input, and a file the import reads back."""
    search = _pool_search(request, "export")
    rows = search.qs[:EXPORT_LIMIT]
    count = search.qs.count()
    yes, no = _("Yes"), _("No")

    def lines():
        for o in rows.iterator(chunk_size=2000):
            yield (
                o.organization.credit_code,
                o.organization.name,
                o.division_id,
                o.category.code,
                o.product_name,
                o.brand,
                o.model,
                o.standard,
                o.get_role_display(),
                o.producer_name,
                o.complaints,
                o.earlier_failures,
                "是" if o.abnormal_listed else "否",
                o.risk_score,
                yes if o.is_active else no,
            )

    return export_response(
        request,
        model=PoolObject,
        filename=f"检查对象名录库-{timezone.localdate():%Y%m%d}.xlsx",
        title=_("Inspection-object pool"),
        headers=POOL_EXPORT_HEADERS,
        rows=lines(),
        count=min(count, EXPORT_LIMIT),
        terms=search_terms(search.form),
        truncated=count > EXPORT_LIMIT,
    )


@login_required
def pool_detail(request: HttpRequest, pk: int) -> HttpResponse:
    obj = scoped_object(request, pool_objects_for(request.user), pk)
    can_change = PoolObject.objects.for_user(request.user, "change").filter(pk=pk).exists()
    return render(request, "sampling/pools_detail.html", {"obj": obj, "can_change": can_change})


@login_required
def pool_create(request: HttpRequest) -> HttpResponse:
    if not services.may_keep_pool(request.user):
        raise PermissionDenied
    return form_page(
        request,
        PoolObjectForm(request.POST or None),
        template="sampling/pools_form.html",
        context={"obj": None},
        save=lambda data: services.pool_object_create(actor=request.user, data=data),
        done=lambda obj: _("%(object)s was added to the pool.") % {"object": obj},
        then=lambda obj: reverse("sampling:pool_detail", kwargs={"pk": obj.pk}),
    )


@login_required
def pool_edit(request: HttpRequest, pk: int) -> HttpResponse:
    obj = get_object_or_404(PoolObject.objects.for_user(request.user, "change"), pk=pk)
    return form_page(
        request,
        PoolObjectForm(request.POST or None, obj=obj),
        template="sampling/pools_form.html",
        context={"obj": obj},
        save=lambda data: services.pool_object_update(actor=request.user, obj=obj, data=data),
        done=_("Saved."),
        then=reverse("sampling:pool_detail", kwargs={"pk": pk}),
    )


def _act(request: HttpRequest, service, done: str, then: str, **kwargs) -> HttpResponse:
    try:
        service(actor=request.user, **kwargs)
    except ServiceError as exc:
        if exc.status_code == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect(then)


@login_required
@require_POST
def pool_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    then = reverse("sampling:pool_detail", kwargs={"pk": pk})
    return _act(request, services.pool_object_deactivate, _("Taken out of the pool."), then, obj=pk)


@login_required
@require_POST
def pool_activate(request: HttpRequest, pk: int) -> HttpResponse:
    then = reverse("sampling:pool_detail", kwargs={"pk": pk})
    return _act(request, services.pool_object_activate, _("Put back into the pool."), then, obj=pk)


def _import_page(request: HttpRequest, *, service, allowed: bool, title, columns, back: str) -> HttpResponse:
    if not allowed:
        raise PermissionDenied
    form = ImportForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read(services.MAX_IMPORT_BYTES + 1)
        try:
            result = service(actor=request.user, data=data, filename=upload.name)
        except ServiceError as exc:
            problems = (exc.errors or {}).get("file") or []
            form.add_error("file", exc.message)
        else:
            messages.success(
                request,
                _("Imported: %(created)d added, %(updated)d updated.")
                % {"created": result.created, "updated": result.updated},
            )
            return redirect(back)
    return render(
        request,
        "sampling/pools_import.html",
        {"form": form, "title": title, "columns": columns, "problems": problems, "back": back},
    )


@login_required
def pool_import(request: HttpRequest) -> HttpResponse:
    return _import_page(
        request,
        service=services.pool_import,
        allowed=services.may_keep_pool(request.user),
        title=_("Import inspection objects"),
        columns=services.POOL_COLUMNS,
        back=reverse("sampling:pool_list"),
    )


# --- The inspector pool ----------------------------------------------------------------------


@login_required
def inspector_list(request: HttpRequest) -> HttpResponse:
    search = InspectorFilter(
        request.GET or None, queryset=inspectors_for(request.user).order_by("division", "name", "pk")
    )
    page = searched_page(request, search.qs, per_page=50)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "sampling/inspectors_list.html",
        {"search": search, "page": page, "query": query.urlencode(), "can_keep": services.may_keep_pool(request.user)},
    )


@login_required
def inspector_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = scoped_object(request, inspectors_for(request.user), pk)
    can_change = Inspector.objects.for_user(request.user, "change").filter(pk=pk).exists()
    form = ConflictForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.conflict_add(actor=request.user, inspector=person, data=form.cleaned_data)
            except ServiceError as exc:
                if exc.status_code == 404:
                    raise Http404 from exc
                apply_service_error(form, exc)
            else:
                messages.success(request, _("The conflict of interest was recorded."))
                return redirect("sampling:inspector_detail", pk=pk)
    conflicts = person.conflicts.select_related("organization").order_by("-declared_at")
    return render(
        request,
        "sampling/inspectors_detail.html",
        {"person": person, "conflicts": conflicts, "can_change": can_change, "form": form},
    )


@login_required
@require_POST
def conflict_remove(request: HttpRequest, pk: int) -> HttpResponse:
    conflict = get_object_or_404(InspectorConflict.objects.for_user(request.user, "view"), pk=pk)
    then = reverse("sampling:inspector_detail", kwargs={"pk": conflict.inspector_id})
    return _act(request, services.conflict_remove, _("The declared conflict was removed."), then, conflict=pk)


@login_required
def inspector_create(request: HttpRequest) -> HttpResponse:
    if not services.may_keep_pool(request.user):
        raise PermissionDenied
    return form_page(
        request,
        InspectorForm(request.POST or None, user=request.user),
        template="sampling/inspectors_form.html",
        context={"person": None},
        save=lambda data: services.inspector_create(actor=request.user, data=data),
        done=lambda person: _("%(person)s was added to the pool.") % {"person": person},
        then=lambda person: reverse("sampling:inspector_detail", kwargs={"pk": person.pk}),
    )


@login_required
def inspector_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(Inspector.objects.for_user(request.user, "change"), pk=pk)
    return form_page(
        request,
        InspectorForm(request.POST or None, user=request.user, inspector=person),
        template="sampling/inspectors_form.html",
        context={"person": person},
        save=lambda data: services.inspector_update(actor=request.user, inspector=person, data=data),
        done=_("Saved."),
        then=reverse("sampling:inspector_detail", kwargs={"pk": pk}),
    )


@login_required
def inspector_import(request: HttpRequest) -> HttpResponse:
    return _import_page(
        request,
        service=services.inspector_import,
        allowed=services.may_keep_pool(request.user),
        title=_("Import inspectors"),
        columns=services.INSPECTOR_COLUMNS,
        back=reverse("sampling:inspector_list"),
    )


# --- The institution pool --------------------------------------------------------------------


class InstitutionSearch(forms.Form):
    category = forms.ModelChoiceField(label=gettext_lazy("Product category"), queryset=ProductCategory.objects.none())
    on = forms.DateField(label=gettext_lazy("On"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = ProductCategory.objects.filter(is_active=True)


@login_required
def institution_list(request: HttpRequest) -> HttpResponse:
    """The testing institutions qualified for a category on a day (today by default), each with
    its capability lines for that category. Institutions are public organisations."""
    search = InstitutionSearch(request.GET or None)
    rows: list = []
    category = None
    day = timezone.localdate()
    if search.is_valid():
        category = search.cleaned_data["category"]
        day = search.cleaned_data["on"] or day
        institutions = list(services.qualified_institutions(category, on=day).select_related("division"))
        lines: dict[int, list] = {}
        for line in AuthorisationScope.objects.filter(
            services.valid_on(day),
            organization__in=[i.pk for i in institutions],
            discipline=Discipline.TESTING,
            subject_code=category.code,
        ).order_by("valid_until"):
            lines.setdefault(line.organization_id, []).append(line)
        rows = [(i, lines.get(i.pk, [])) for i in institutions]
        record_read(request, AuthorisationScope, count=len(rows), kind="list")
    return render(
        request,
        "sampling/institutions_list.html",
        {
            "search": search,
            "rows": rows,
            "category": category,
            "day": day,
            "can_import": services.may_import_capabilities(request.user),
        },
    )


@login_required
def capability_import(request: HttpRequest) -> HttpResponse:
    return _import_page(
        request,
        service=services.capability_import,
        allowed=services.may_import_capabilities(request.user),
        title=_("Import testing capabilities"),
        columns=services.CAPABILITY_COLUMNS,
        back=reverse("sampling:institution_list"),
    )


urlpatterns = [
    path("pools/objects/", pool_list, name="pool_list"),
    path("pools/objects/export/", pool_export, name="pool_export"),
    path("pools/objects/new/", pool_create, name="pool_create"),
    path("pools/objects/import/", pool_import, name="pool_import"),
    path("pools/objects/<int:pk>/", pool_detail, name="pool_detail"),
    path("pools/objects/<int:pk>/edit/", pool_edit, name="pool_edit"),
    path("pools/objects/<int:pk>/deactivate/", pool_deactivate, name="pool_deactivate"),
    path("pools/objects/<int:pk>/activate/", pool_activate, name="pool_activate"),
    path("pools/inspectors/", inspector_list, name="inspector_list"),
    path("pools/inspectors/new/", inspector_create, name="inspector_create"),
    path("pools/inspectors/import/", inspector_import, name="inspector_import"),
    path("pools/inspectors/<int:pk>/", inspector_detail, name="inspector_detail"),
    path("pools/inspectors/<int:pk>/edit/", inspector_edit, name="inspector_edit"),
    path("pools/conflicts/<int:pk>/remove/", conflict_remove, name="conflict_remove"),
    path("pools/institutions/", institution_list, name="institution_list"),
    path("pools/institutions/import/", capability_import, name="capability_import"),
]
