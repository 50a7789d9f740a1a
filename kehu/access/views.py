"""Pages of the access app: sign-in/out, users, departments, roles and the signed-in user's API tokens.

Thin views (architecture.md): each translates the request, calls one selector or service and renders.
Permission rules live in the selectors/services (``require``); a refused action becomes a 403 page.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from kehu.core.errors import Conflict, KehuError, RateLimited, ValidationError
from kehu.core.web import page

from . import forms, selectors, services
from .requests import AuthedRequest

IDLE_LOGOUT_KEY = "kehu_idle_logout"  # set by IdleTimeoutMiddleware


def _form_error(form: Any, exc: KehuError) -> None:
    """Show a domain error next to the field it names, else above the form (hidden fields have no "next to")."""
    field = exc.field if exc.field in form.fields and not form.fields[exc.field].widget.is_hidden else None
    form.add_error(field, exc.text())


def _with_version(data: QueryDict, version: int) -> QueryDict:
    """The submitted data with the record's current version, after a conflict was shown."""
    data = data.copy()
    data["version"] = str(version)
    return data


# ---------------------------------------------------------------- sign in / out --


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    """``next`` only when it points back into this site; anything else is dropped."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _remember_language(response: HttpResponse, language: str) -> None:
    if language not in dict(settings.LANGUAGES):
        return
    translation.activate(language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
    idle_logout = bool(request.session.pop(IDLE_LOGOUT_KEY, False))
    form = forms.LoginForm(request.POST or None, initial={"next": next_url})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = services.login_authenticate(
                request=request,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
            )
        except KehuError as exc:
            _form_error(form, exc)
            status = exc.status if isinstance(exc, RateLimited) else 200
        else:
            auth_login(request, user)
            response = redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
            if user.language:
                _remember_language(response, user.language)
            return response
    return render(
        request,
        "access/login.html",
        {"form": form, "next": next_url, "idle_logout": idle_logout},
        status=status,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    return redirect("access:login")


# ------------------------------------------------------------------------ users --


@page
def users(request: AuthedRequest) -> HttpResponse:
    filter_form = forms.UserFilterForm(request.GET, departments=selectors.department_tree())
    f = filter_form.filters()
    result = selectors.user_list(
        actor=request.user,
        q=f["q"] or "",
        department_id=f["department"],
        active=f["active"],
        limit=request.GET.get("limit"),
        offset=request.GET.get("offset"),
    )
    return render(
        request,
        "access/users.html",
        {"filter_form": filter_form, "filtered": any(f.values()), "page": result},
    )


@page
@require_http_methods(["GET", "POST"])
def user_create(request: AuthedRequest) -> HttpResponse:
    form = forms.UserCreateForm(request.POST or None, choices=selectors.user_form_choices(actor=request.user))
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(**form.service_kwargs(), by=request.user)
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("用户“%(name)s”已创建") % {"name": user.label})
            return redirect("access:users")
    return render(request, "access/user_form.html", {"form": form})


@page
@require_http_methods(["GET", "POST"])
def user_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    user = selectors.user_get(actor=request.user, user_id=pk)
    choices = selectors.user_form_choices(actor=request.user)
    form = forms.UserEditForm(request.POST or None, user=user, choices=choices)
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(user=user, by=request.user, **form.service_kwargs())
        except Conflict as exc:
            # Show what is stored now; the user's input stays, and saving again overwrites deliberately.
            conflict = selectors.user_get(actor=request.user, user_id=pk)
            form = forms.UserEditForm(
                _with_version(request.POST, conflict.version), user=conflict, choices=choices
            )
            form.is_valid()
            _form_error(form, exc)
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("access:users")
    return render(
        request,
        "access/user_form.html",
        {"form": form, "subject": user if conflict is None else conflict, "conflict": conflict},
    )


@page
@sensitive_post_parameters("password", "password_confirm")
@require_http_methods(["GET", "POST"])
def user_password(request: AuthedRequest, pk: int) -> HttpResponse:
    user = selectors.user_get(actor=request.user, user_id=pk)
    form = forms.PasswordResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_set_password(user=user, password=form.cleaned_data["password"], by=request.user)
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            if user.pk == request.user.pk:
                update_session_auth_hash(request, user)  # stay signed in after changing one's own password
            messages.success(request, _("“%(name)s”的密码已重置") % {"name": user.label})
            return redirect("access:users")
    return render(request, "access/user_password.html", {"form": form, "subject": user})


# ------------------------------------------------------------------ departments --


@page
def departments(request: AuthedRequest) -> HttpResponse:
    return render(
        request, "access/departments.html", {"departments": selectors.department_tree_for(actor=request.user)}
    )


@page
@require_http_methods(["GET", "POST"])
def department_create(request: AuthedRequest) -> HttpResponse:
    tree = selectors.department_tree_for(actor=request.user)
    initial = {"parent": request.GET.get("parent")} if request.GET.get("parent") else None
    form = forms.DepartmentForm(
        request.POST or None, departments=tree, managers=selectors.user_choices(), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            dept = services.department_create(**form.service_kwargs(), by=request.user)
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("部门“%(name)s”已创建") % {"name": dept.name})
            return redirect("access:departments")
    return render(request, "access/department_form.html", {"form": form})


@page
@require_http_methods(["GET", "POST"])
def department_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    dept = selectors.department_get_for(actor=request.user, department_id=pk)
    tree = selectors.department_tree_for(actor=request.user)
    managers = selectors.user_choices()
    form = forms.DepartmentForm(request.POST or None, departments=tree, managers=managers, department=dept)
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            services.department_update(department=dept, by=request.user, **form.service_kwargs())
        except Conflict as exc:
            conflict = selectors.department_get_for(actor=request.user, department_id=pk)
            form = forms.DepartmentForm(
                _with_version(request.POST, conflict.version),
                departments=tree,
                managers=managers,
                department=conflict,
            )
            form.is_valid()
            _form_error(form, exc)
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("access:departments")
    return render(
        request,
        "access/department_form.html",
        {"form": form, "subject": dept if conflict is None else conflict, "conflict": conflict},
    )


# ------------------------------------------------------------------------ roles --


@page
def roles(request: AuthedRequest) -> HttpResponse:
    return render(request, "access/roles.html", {"roles": selectors.role_list_for(actor=request.user)})


@page
@require_http_methods(["GET", "POST"])
def role_create(request: AuthedRequest) -> HttpResponse:
    selectors.role_list_for(actor=request.user)  # the page itself is for role managers only
    form = forms.RoleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            role = services.role_create(**form.service_kwargs(), by=request.user)
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("角色“%(name)s”已创建") % {"name": role.name})
            return redirect("access:roles")
    return render(request, "access/role_form.html", {"form": form})


@page
@require_http_methods(["GET", "POST"])
def role_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    role = selectors.role_get_for(actor=request.user, role_id=pk)
    form = forms.RoleForm(request.POST or None, role=role)
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            services.role_update(role=role, by=request.user, **form.service_kwargs())
        except Conflict as exc:
            conflict = selectors.role_get_for(actor=request.user, role_id=pk)
            form = forms.RoleForm(_with_version(request.POST, conflict.version), role=conflict)
            form.is_valid()
            _form_error(form, exc)
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("access:roles")
    return render(
        request,
        "access/role_form.html",
        {"form": form, "subject": role if conflict is None else conflict, "conflict": conflict},
    )


# ----------------------------------------------------------------------- tokens --


def _tokens_page(
    request: AuthedRequest, form: forms.TokenForm, *, secret: str | None = None, created: Any = None
) -> HttpResponse:
    response = render(
        request,
        "access/tokens.html",
        {
            "tokens": selectors.token_list(actor=request.user),
            "form": form,
            "secret": secret,
            "created": created,
            "now": timezone.now(),
        },
    )
    add_never_cache_headers(response)  # the secret must not linger in any cache
    return response


@page
def tokens(request: AuthedRequest) -> HttpResponse:
    return _tokens_page(request, forms.TokenForm())


@page
@sensitive_post_parameters()
@require_POST
def token_create(request: AuthedRequest) -> HttpResponse:
    form = forms.TokenForm(request.POST)
    if form.is_valid():
        try:
            token, secret = services.token_create(
                user=request.user,
                name=form.cleaned_data["name"],
                days=form.cleaned_data["days"],
                by=request.user,
            )
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            # Rendered, not redirected: the secret is shown in this response only and stored nowhere.
            messages.success(request, _("令牌“%(name)s”已创建") % {"name": token.name})
            return _tokens_page(request, forms.TokenForm(), secret=secret, created=token)
    return _tokens_page(request, form)


@page
@require_POST
def token_revoke(request: AuthedRequest, pk: int) -> HttpResponse:
    token = selectors.token_get(actor=request.user, token_id=pk)
    services.token_revoke(token=token, by=request.user)
    messages.success(request, _("令牌“%(name)s”已撤销") % {"name": token.name})
    return redirect("access:tokens")
