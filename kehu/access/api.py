"""Thin endpoints: tokens, the current user, users, departments, roles."""

from __future__ import annotations

from typing import Any

from ninja import Router, Status

from kehu.core.schemas import ERRORS as API_ERRORS
from kehu.core.schemas import ErrorOut

from . import selectors, services
from .requests import AuthedRequest
from .schemas import (
    DepartmentIn,
    DepartmentOut,
    DepartmentPatchIn,
    MeOut,
    RoleIn,
    RoleOut,
    RolePatchIn,
    TokenCreatedOut,
    TokenCreateIn,
    TokenOut,
    TokenRequestIn,
    UserCreateIn,
    UserListOut,
    UserOut,
    UserPatchIn,
    me_out,
    user_out,
)

router = Router(tags=["access"])
ERRORS: dict[int, Any] = {**API_ERRORS, 429: ErrorOut}  # + throttled sign-in


@router.post(
    "/auth/token",
    auth=None,
    response={200: TokenCreatedOut, **ERRORS},
    summary="Exchange username and password for an API token",
)
def issue_token(request: AuthedRequest, payload: TokenRequestIn) -> Any:
    user = services.login_authenticate(request=request, username=payload.username, password=payload.password)
    token, secret = services.token_create(user=user, name=payload.name, by=user)
    return {"token": secret, "id": token.pk, "name": token.name, "expires_at": token.expires_at}


@router.get("/auth/tokens", response={200: list[TokenOut], **ERRORS})
def list_tokens(request: AuthedRequest) -> Any:
    return selectors.token_list(actor=request.user)


@router.post("/auth/tokens", response={201: TokenCreatedOut, **ERRORS})
def create_token(request: AuthedRequest, payload: TokenCreateIn) -> Any:
    token, secret = services.token_create(
        user=request.user, name=payload.name, days=payload.days, by=request.user
    )
    return Status(201, {"token": secret, "id": token.pk, "name": token.name, "expires_at": token.expires_at})


@router.delete("/auth/tokens/{token_id}", response={204: None, **ERRORS})
def revoke_token(request: AuthedRequest, token_id: int) -> Any:
    services.token_revoke(token=selectors.token_get(actor=request.user, token_id=token_id), by=request.user)
    return Status(204, None)


@router.get("/me", response={200: MeOut, **ERRORS})
def me(request: AuthedRequest) -> Any:
    return me_out(request.user)


@router.get("/users", response={200: UserListOut, **ERRORS})
def list_users(
    request: AuthedRequest,
    q: str = "",
    department_id: int | None = None,
    active: bool | None = None,
    limit: int | None = None,
    offset: int | None = None,
) -> Any:
    page = selectors.user_list(
        actor=request.user, q=q, department_id=department_id, active=active, limit=limit, offset=offset
    )
    return {"items": [user_out(u) for u in page.items], "count": page.count}


@router.post("/users", response={201: UserOut, **ERRORS})
def create_user(request: AuthedRequest, payload: UserCreateIn) -> Any:
    dept = selectors.department_get(department_id=payload.department_id) if payload.department_id else None
    sup = (
        selectors.user_get_active(user_id=payload.supervisor_id, field="supervisor_id")
        if (payload.supervisor_id)
        else None
    )
    user = services.user_create(
        username=payload.username,
        password=payload.password,
        display_name=payload.display_name,
        email=payload.email,
        mobile=payload.mobile,
        department=dept,
        supervisor=sup,
        role_codes=payload.roles,
        by=request.user,
    )
    return Status(201, user_out(user))


@router.get("/users/{user_id}", response={200: UserOut, **ERRORS})
def get_user(request: AuthedRequest, user_id: int) -> Any:
    return user_out(selectors.user_get(actor=request.user, user_id=user_id))


@router.patch("/users/{user_id}", response={200: UserOut, **ERRORS})
def update_user(request: AuthedRequest, user_id: int, payload: UserPatchIn) -> Any:
    user = selectors.user_get(actor=request.user, user_id=user_id)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    roles = data.pop("roles", None)
    fields: dict[str, Any] = {}
    if "department_id" in data:
        dept_id = data.pop("department_id")
        fields["department"] = (
            selectors.department_get(department_id=dept_id, field="department_id") if (dept_id) else None
        )
    if "supervisor_id" in data:
        sup_id = data.pop("supervisor_id")
        fields["supervisor"] = (
            selectors.user_get_active(user_id=sup_id, field="supervisor_id") if sup_id else None
        )
    fields.update(data)
    services.user_update(user=user, version=version, role_codes=roles, by=request.user, **fields)
    return user_out(selectors.user_get(actor=request.user, user_id=user_id))


@router.get("/departments", response={200: list[DepartmentOut], **ERRORS})
def list_departments(request: AuthedRequest) -> Any:
    return selectors.department_tree()


@router.post("/departments", response={201: DepartmentOut, **ERRORS})
def create_department(request: AuthedRequest, payload: DepartmentIn) -> Any:
    parent = (
        selectors.department_get(department_id=payload.parent_id, field="parent_id")
        if (payload.parent_id)
        else None
    )
    manager = (
        selectors.user_get_active(user_id=payload.manager_id, field="manager_id")
        if (payload.manager_id)
        else None
    )
    return Status(
        201, services.department_create(name=payload.name, parent=parent, manager=manager, by=request.user)
    )


@router.patch("/departments/{department_id}", response={200: DepartmentOut, **ERRORS})
def update_department(request: AuthedRequest, department_id: int, payload: DepartmentPatchIn) -> Any:
    dept = selectors.department_get(department_id=department_id, field="id")
    given = payload.dict(exclude_unset=True)
    changes: dict[str, Any] = {}
    if "parent_id" in given:  # explicit null moves the department to the top level
        changes["parent"] = (
            selectors.department_get(department_id=payload.parent_id, field="parent_id")
            if (payload.parent_id)
            else None
        )
    if "manager_id" in given:  # explicit null clears the manager
        changes["manager"] = (
            selectors.user_get_active(user_id=payload.manager_id, field="manager_id")
            if (payload.manager_id)
            else None
        )
    return services.department_update(
        department=dept, version=payload.version, name=payload.name, by=request.user, **changes
    )


@router.get("/roles", response={200: list[RoleOut], **ERRORS})
def list_roles(request: AuthedRequest) -> Any:
    return selectors.role_list()


@router.post("/roles", response={201: RoleOut, **ERRORS})
def create_role(request: AuthedRequest, payload: RoleIn) -> Any:
    return Status(201, services.role_create(**payload.dict(), by=request.user))


@router.patch("/roles/{role_id}", response={200: RoleOut, **ERRORS})
def update_role(request: AuthedRequest, role_id: int, payload: RolePatchIn) -> Any:
    role = selectors.role_get(role_id=role_id)
    return services.role_update(
        role=role,
        version=payload.version,
        name=payload.name,
        permissions=payload.permissions,
        data_scope=payload.data_scope,
        by=request.user,
    )
