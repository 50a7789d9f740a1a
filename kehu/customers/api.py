"""Thin REST endpoints over the customer services and selectors (INT-2)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from ninja import Query, Router, Schema, Status

from kehu.access.requests import AuthedRequest
from kehu.core.errors import ValidationError
from kehu.core.schemas import ERRORS
from kehu.core.web import xlsx_response

from . import pool, selectors, services
from .dedupe import find_duplicates
from .schemas import (
    AssignIn,
    ClassifyIn,
    CollaboratorIn,
    CollaboratorOut,
    ContactCreateIn,
    ContactListOut,
    ContactOut,
    ContactPatchIn,
    CustomerCreateIn,
    CustomerListOut,
    CustomerOut,
    CustomerPatchIn,
    DuplicateCheckIn,
    DuplicateCheckOut,
    LockIn,
    MergeIn,
    OptionIn,
    OptionOut,
    OptionPatchIn,
    PoolIn,
    PoolOut,
    PoolPatchIn,
    RecycleOut,
    ReleaseIn,
    RevealOut,
    TimelineItemOut,
    TransferIn,
    contact_out,
    customer_list_item,
    customer_out,
    pool_out,
)

router = Router(tags=["customers"])


class CustomerFilters(Schema):
    scene: str = "all"
    sort: str = "-updated_at"
    limit: int | None = None
    offset: int | None = None
    q: str | None = None
    kind: str | None = None
    industry: str | None = None
    size: str | None = None
    relation: str | None = None
    value_tier: str | None = None
    loyalty: str | None = None
    status: str | None = None
    deal_status: str | None = None
    need_status: str | None = None
    source: str | None = None
    tag: str | None = None
    owner: int | None = None
    province: str | None = None
    city: str | None = None
    screened: bool | None = None
    created_from: str | None = None
    created_to: str | None = None
    urgency: str | None = None
    idle: int | None = None
    # Filters other domains add to the list (customers.extensions.list_filters): the analytics' scores.
    rfm_class: str | None = None
    lifecycle: str | None = None
    churn: str | None = None
    clv_min: float | None = None
    clv_max: float | None = None
    p_alive_max: float | None = None


def _body(payload: Any, *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    data = payload.dict(exclude_unset=True)
    for key in drop:
        data.pop(key, None)
    return data


@router.get("/customers", response={200: CustomerListOut, **ERRORS}, summary="List customers")
def list_customers(request: AuthedRequest, filters: Query[CustomerFilters]) -> Any:
    f = filters.dict()
    scene, sort, limit, offset = f.pop("scene"), f.pop("sort"), f.pop("limit"), f.pop("offset")
    page = selectors.customer_list(
        actor=request.user, scene=scene, filters=f, sort=sort, limit=limit, offset=offset
    )
    return {"items": [customer_list_item(c) for c in page.items], "count": page.count}


@router.get(
    "/customers/export",
    response={200: None, **ERRORS},
    summary="The filtered list as .xlsx (masked, audited; customer.export)",
)
def export_customers(request: AuthedRequest, filters: Query[CustomerFilters]) -> Any:
    f = filters.dict()
    scene, sort = f.pop("scene"), f.pop("sort")
    f.pop("limit"), f.pop("offset")
    data, _count = services.customer_export(by=request.user, scene=scene, filters=f, sort=sort)
    return xlsx_response(data, filename=f"customers-{timezone.localdate():%Y%m%d}.xlsx")


@router.post(
    "/customers/export-jobs",
    response={202: dict, **ERRORS},
    summary="Export a large filtered list in the background (up to 1,000,000 rows); follow GET /jobs/{id}",
)
def start_customer_export(request: AuthedRequest, filters: Query[CustomerFilters]) -> Any:
    f = filters.dict()
    scene, sort = f.pop("scene"), f.pop("sort")
    f.pop("limit"), f.pop("offset")
    job = services.customer_export_start(by=request.user, scene=scene, filters=f, sort=sort)
    return Status(202, {"job": job.pk, "url": f"/api/v1/jobs/{job.pk}"})


@router.get("/pools", response={200: list[PoolOut], **ERRORS}, summary="Public pools one belongs to (CUS-7)")
def list_pools(request: AuthedRequest) -> Any:
    return [pool_out(p) for p in pool.pool_list(actor=request.user)]


@router.post("/pools", response={201: PoolOut, **ERRORS}, summary="Create a public pool (pool.manage)")
def create_pool(request: AuthedRequest, payload: PoolIn) -> Any:
    created = pool.pool_create(data=payload.dict(exclude_unset=True), by=request.user)
    return Status(201, pool_out(created))


# Fixed paths first: ninja matches /pools/{pool_id} for any segment otherwise.
@router.post(
    "/pools/recycle", response={200: RecycleOut, **ERRORS}, summary="Return due customers to their pools now"
)
def recycle_pools(request: AuthedRequest) -> Any:
    result = pool.pool_recycle(by=request.user)
    return {"returned": result.returned, "seconds": result.seconds}


@router.patch(
    "/pools/{pool_id}", response={200: PoolOut, **ERRORS}, summary="Change a pool's rules or members"
)
def update_pool(request: AuthedRequest, pool_id: int, payload: PoolPatchIn) -> Any:
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    return pool_out(pool.pool_update(pool_id=pool_id, version=version, data=data, by=request.user))


@router.post("/customers", response={201: CustomerOut, **ERRORS}, summary="Create a customer")
def create_customer(request: AuthedRequest, payload: CustomerCreateIn) -> Any:
    data = _body(payload, drop=("confirm_duplicates",))
    customer = services.customer_create(
        data=data, by=request.user, confirm_duplicates=payload.confirm_duplicates
    )
    return Status(201, customer_out(selectors.customer_get(actor=request.user, customer_id=customer.pk)))


# Fixed paths first: ninja matches /customers/{customer_id} for any segment otherwise.
@router.post("/customers/merge", response={200: CustomerOut, **ERRORS}, summary="Merge two customers")
def merge_customers(request: AuthedRequest, payload: MergeIn) -> Any:
    keep = services.customer_merge(keep_id=payload.keep_id, drop_id=payload.drop_id, by=request.user)
    return customer_out(selectors.customer_get(actor=request.user, customer_id=keep.pk))


@router.post(
    "/customers/duplicates",
    response={200: DuplicateCheckOut, **ERRORS},
    summary="Duplicate check (查重) before saving",
)
def check_duplicates(request: AuthedRequest, payload: DuplicateCheckIn) -> Any:
    from kehu.core.identity import normalize_credit_code, normalize_id_number, normalize_mobile

    errors: dict[str, str] = {}
    values = {"credit_code": "", "mobile": "", "id_number": ""}
    for key, fn in (
        ("credit_code", normalize_credit_code),
        ("mobile", normalize_mobile),
        ("id_number", normalize_id_number),
    ):
        try:
            values[key] = fn(getattr(payload, key) or "", field=key)
        except ValidationError as exc:
            errors[key] = exc.text()
    matches = find_duplicates(
        actor=request.user,
        name=payload.name.strip(),
        exclude_id=payload.exclude_id,
        credit_code=values["credit_code"],
        mobile=values["mobile"],
        id_number=values["id_number"],
    )
    return {
        "matches": [m.as_dict() for m in matches],
        "blocking": any(m.blocking for m in matches),
        "errors": errors,
    }


@router.get("/customers/{customer_id}", response={200: CustomerOut, **ERRORS}, summary="Get a customer")
def get_customer(request: AuthedRequest, customer_id: int) -> Any:
    return customer_out(selectors.customer_get(actor=request.user, customer_id=customer_id))


@router.patch("/customers/{customer_id}", response={200: CustomerOut, **ERRORS}, summary="Update a customer")
def update_customer(request: AuthedRequest, customer_id: int, payload: CustomerPatchIn) -> Any:
    data = _body(payload, drop=("version", "confirm_duplicates"))
    services.customer_update(
        customer_id=customer_id,
        version=payload.version,
        data=data,
        by=request.user,
        confirm_duplicates=payload.confirm_duplicates,
    )
    return customer_out(selectors.customer_get(actor=request.user, customer_id=customer_id))


@router.delete("/customers/{customer_id}", response={204: None, **ERRORS}, summary="Move to the recycle bin")
def delete_customer(request: AuthedRequest, customer_id: int) -> Any:
    services.customer_delete(customer_id=customer_id, by=request.user)
    return Status(204, None)


@router.post("/customers/{customer_id}/transfer", response={200: CustomerOut, **ERRORS})
def transfer_customer(request: AuthedRequest, customer_id: int, payload: TransferIn) -> Any:
    services.customer_transfer(
        customer_id=customer_id, to_user=payload.to_user, reason=payload.reason, by=request.user
    )
    return customer_out(selectors.customer_get(actor=request.user, customer_id=customer_id))


@router.post("/customers/{customer_id}/classify", response={200: CustomerOut, **ERRORS})
def classify_customer(request: AuthedRequest, customer_id: int, payload: ClassifyIn) -> Any:
    services.customer_classify(
        customer_id=customer_id,
        version=payload.version,
        dimension=payload.dimension,
        value=payload.value,
        reason=payload.reason,
        by=request.user,
    )
    return customer_out(selectors.customer_get(actor=request.user, customer_id=customer_id))


@router.post(
    "/customers/{customer_id}/reveal",
    response={200: RevealOut, **ERRORS},
    summary="Full mobile / ID numbers (audited)",
)
def reveal_customer(request: AuthedRequest, customer_id: int) -> Any:
    return services.customer_reveal(customer_id=customer_id, by=request.user)


@router.get("/customers/{customer_id}/collaborators", response={200: list[CollaboratorOut], **ERRORS})
def list_collaborators(request: AuthedRequest, customer_id: int) -> Any:
    customer = selectors.customer_get(actor=request.user, customer_id=customer_id)
    return [
        {"user_id": c.user_id, "name": c.user.label, "can_edit": c.can_edit}
        for c in selectors.collaborators(customer=customer)
    ]


@router.put("/customers/{customer_id}/collaborators", response={200: CollaboratorOut, **ERRORS})
def set_collaborator(request: AuthedRequest, customer_id: int, payload: CollaboratorIn) -> Any:
    c = services.collaborator_set(
        customer_id=customer_id, user=payload.user_id, can_edit=payload.can_edit, by=request.user
    )
    return {"user_id": c.user_id, "name": c.user.label, "can_edit": c.can_edit}


@router.delete("/customers/{customer_id}/collaborators/{user_id}", response={204: None, **ERRORS})
def remove_collaborator(request: AuthedRequest, customer_id: int, user_id: int) -> Any:
    services.collaborator_remove(customer_id=customer_id, user=user_id, by=request.user)
    return Status(204, None)


@router.get("/customers/{customer_id}/timeline", response={200: list[TimelineItemOut], **ERRORS})
def customer_timeline(request: AuthedRequest, customer_id: int) -> Any:
    customer = selectors.customer_get(actor=request.user, customer_id=customer_id)
    return [
        {"at": e.at, "kind": e.kind, **(e.data or {})}
        for e in selectors.customer_timeline(actor=request.user, customer=customer)
    ]


@router.get("/customers/{customer_id}/contacts", response={200: ContactListOut, **ERRORS})
def customer_contacts(
    request: AuthedRequest, customer_id: int, limit: int | None = None, offset: int | None = None
) -> Any:
    customer = selectors.customer_get(actor=request.user, customer_id=customer_id)
    page = selectors.contact_list(actor=request.user, customer=customer, limit=limit, offset=offset)
    return {"items": [contact_out(c) for c in page.items], "count": page.count}


@router.post("/customers/{customer_id}/contacts", response={201: ContactOut, **ERRORS})
def create_contact(request: AuthedRequest, customer_id: int, payload: ContactCreateIn) -> Any:
    contact = services.contact_create(customer_id=customer_id, data=_body(payload), by=request.user)
    return Status(201, contact_out(selectors.contact_get(actor=request.user, contact_id=contact.pk)))


@router.get("/contacts", response={200: ContactListOut, **ERRORS}, summary="Search contacts")
def list_contacts(
    request: AuthedRequest, q: str = "", limit: int | None = None, offset: int | None = None
) -> Any:
    page = selectors.contact_list(actor=request.user, q=q, limit=limit, offset=offset)
    return {"items": [contact_out(c) for c in page.items], "count": page.count}


@router.get("/contacts/{contact_id}", response={200: ContactOut, **ERRORS})
def get_contact(request: AuthedRequest, contact_id: int) -> Any:
    return contact_out(selectors.contact_get(actor=request.user, contact_id=contact_id))


@router.patch("/contacts/{contact_id}", response={200: ContactOut, **ERRORS})
def update_contact(request: AuthedRequest, contact_id: int, payload: ContactPatchIn) -> Any:
    services.contact_update(
        contact_id=contact_id,
        version=payload.version,
        data=_body(payload, drop=("version",)),
        by=request.user,
    )
    return contact_out(selectors.contact_get(actor=request.user, contact_id=contact_id))


@router.delete("/contacts/{contact_id}", response={204: None, **ERRORS})
def delete_contact(request: AuthedRequest, contact_id: int) -> Any:
    services.contact_delete(contact_id=contact_id, by=request.user)
    return Status(204, None)


@router.get("/recycle-bin", response={200: CustomerListOut, **ERRORS}, summary="Customers in the recycle bin")
def recycle_bin(request: AuthedRequest, limit: int | None = None, offset: int | None = None) -> Any:
    page = selectors.recycle_bin(actor=request.user, limit=limit, offset=offset)
    return {"items": [customer_list_item(c) for c in page.items], "count": page.count}


@router.post("/recycle-bin/{customer_id}/restore", response={200: CustomerOut, **ERRORS})
def restore_customer(request: AuthedRequest, customer_id: int) -> Any:
    services.customer_restore(customer_id=customer_id, by=request.user)
    return customer_out(selectors.customer_get(actor=request.user, customer_id=customer_id))


@router.delete("/recycle-bin/{customer_id}", response={204: None, **ERRORS}, summary="Purge for good")
def purge_customer(request: AuthedRequest, customer_id: int) -> Any:
    services.customer_purge(customer_id=customer_id, by=request.user)
    return Status(204, None)


@router.get("/options", response={200: list[OptionOut], **ERRORS}, summary="Configurable lists")
def list_options(request: AuthedRequest, kind: str) -> Any:
    return selectors.options(kind, include_inactive=True)


@router.post("/options", response={201: OptionOut, **ERRORS})
def create_option(request: AuthedRequest, payload: OptionIn) -> Any:
    return Status(201, services.option_create(**payload.dict(), by=request.user))


@router.patch("/options/{option_id}", response={200: OptionOut, **ERRORS})
def update_option(request: AuthedRequest, option_id: int, payload: OptionPatchIn) -> Any:
    return services.option_update(option_id=option_id, by=request.user, **payload.dict(exclude_unset=True))


@router.post(
    "/customers/{customer_id}/claim", response={200: CustomerOut, **ERRORS}, summary="领取 from the pool"
)
def claim_customer(request: AuthedRequest, customer_id: int) -> Any:
    pool.customer_claim(customer_id=customer_id, by=request.user)
    return customer_out(selectors.customer_get(actor=request.user, customer_id=customer_id))


@router.post(
    "/customers/{customer_id}/release",
    response={200: CustomerOut, **ERRORS},
    summary="退回公海, with a reason",
)
def release_customer(request: AuthedRequest, customer_id: int, payload: ReleaseIn) -> Any:
    pool.customer_release(customer_id=customer_id, reason=payload.reason, by=request.user)
    return customer_out(selectors.customer_get(actor=request.user, customer_id=customer_id))


@router.post(
    "/customers/{customer_id}/assign", response={200: CustomerOut, **ERRORS}, summary="Assign a pool customer"
)
def assign_customer(request: AuthedRequest, customer_id: int, payload: AssignIn) -> Any:
    pool.customer_assign(customer_id=customer_id, to_user=payload.to_user, by=request.user)
    return customer_out(selectors.customer_get(actor=request.user, customer_id=customer_id))


@router.post(
    "/customers/{customer_id}/pool-lock", response={200: CustomerOut, **ERRORS}, summary="Lock against return"
)
def lock_customer(request: AuthedRequest, customer_id: int, payload: LockIn) -> Any:
    pool.customer_pool_lock(customer_id=customer_id, locked=payload.locked, by=request.user)
    return customer_out(selectors.customer_get(actor=request.user, customer_id=customer_id))
