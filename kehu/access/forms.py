"""HTML forms of the access pages. They only shape input for the browser; the services validate the rules."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import Department, Role, User
from .perms import DataScope, Perm

EMPTY = "—"

# Permission groups on the role form: the prefix before the dot in ``Perm`` values.
PERM_GROUPS: list[tuple[str, Any]] = [
    ("customer", _("客户")),
    ("pool", _("公海")),
    ("settings", _("系统设置")),
    ("user", _("用户")),
    ("role", _("角色")),
    ("department", _("部门")),
    ("audit", _("审计")),
]


def department_label(dept: Department) -> str:
    """Indent a department name by its depth in the tree, for selects."""
    return "\u3000" * dept.depth + dept.name


class ObjectChoiceField(forms.ChoiceField):
    """A select over objects a view got from a selector; cleans to the object (or ``None``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._objects: dict[str, Any] = {}

    def set_objects(
        self, objects: Iterable[Any], label_of: Callable[[Any], str] = str, empty_label: Any = EMPTY
    ) -> None:
        self._objects = {str(o.pk): o for o in objects}
        choices = [(key, label_of(o)) for key, o in self._objects.items()]
        self.choices = [("", empty_label), *choices] if empty_label is not None else choices

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        return self._objects.get(str(value)) if value not in (None, "") else None


class LoginForm(forms.Form):
    # Not required here: the service names the missing field ("请输入用户名"); the browser checks too.
    username = forms.CharField(
        label=_("用户名"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"required": True, "autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("密码"),
        max_length=256,
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"required": True, "autocomplete": "current-password"}),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class UserFilterForm(forms.Form):
    """The users list filters; invalid values are ignored rather than failing the page."""

    q = forms.CharField(
        label=_("搜索"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("用户名 / 姓名 / 拼音")}),
    )
    department = forms.TypedChoiceField(label=_("部门"), required=False, coerce=int, empty_value=None)
    active = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部状态")), ("1", _("启用")), ("0", _("停用"))]
    )

    def __init__(self, *args: Any, departments: Iterable[Department] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["department"]).choices = [
            ("", _("全部部门")),
            *[(d.pk, department_label(d)) for d in departments],
        ]

    def filters(self) -> dict[str, Any]:
        """The valid filters (an invalid field is left out of ``cleaned_data``, so it is ignored)."""
        self.is_valid()
        return {k: self.cleaned_data.get(k) for k in ("q", "department", "active")}


class _PasswordMixin(forms.Form):
    password = forms.CharField(
        label=_("密码"),
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("至少 8 位，不能全是数字，不能过于常见"),
    )
    password_confirm = forms.CharField(
        label=_("确认密码"),
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("password")
            and data.get("password_confirm")
            and data["password"] != data["password_confirm"]
        ):
            self.add_error("password_confirm", _("两次输入的密码不一致"))
        return data


class _UserFieldsForm(forms.Form):
    display_name = forms.CharField(label=_("姓名"), max_length=60, required=False)
    email = forms.EmailField(label=_("邮箱"), required=False)
    mobile = forms.CharField(label=_("手机号"), max_length=20, required=False)
    department = ObjectChoiceField(label=_("部门"), required=False)
    supervisor = ObjectChoiceField(label=_("直属上级"), required=False)
    roles = forms.MultipleChoiceField(label=_("角色"), required=False, widget=forms.CheckboxSelectMultiple)

    def _set_choices(
        self, *, departments: Iterable[Department], supervisors: Iterable[User], roles: Iterable[Role]
    ) -> None:
        cast(ObjectChoiceField, self.fields["department"]).set_objects(departments, department_label)
        cast(ObjectChoiceField, self.fields["supervisor"]).set_objects(
            supervisors, lambda u: f"{u.label}（{u.department.name}）" if u.department else u.label
        )
        cast(forms.ChoiceField, self.fields["roles"]).choices = [(r.code, r.name) for r in roles]


class UserCreateForm(_PasswordMixin, _UserFieldsForm):
    username = forms.CharField(
        label=_("用户名"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )

    field_order = [
        "username",
        "display_name",
        "password",
        "password_confirm",
        "email",
        "mobile",
        "department",
        "supervisor",
        "roles",
    ]

    def __init__(self, *args: Any, choices: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._set_choices(
            departments=choices.departments, supervisors=choices.supervisors, roles=choices.roles
        )

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "username": d["username"],
            "password": d["password"],
            "display_name": d["display_name"],
            "email": d["email"],
            "mobile": d["mobile"],
            "department": d["department"],
            "supervisor": d["supervisor"],
            "role_codes": list(d["roles"]),
        }


class UserEditForm(_UserFieldsForm):
    language = forms.ChoiceField(label=_("界面语言"), required=False)
    is_active = forms.BooleanField(label=_("启用（取消勾选即停用，停用后无法登录）"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: User, choices: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "display_name": user.display_name,
                "email": user.email,
                "mobile": user.mobile,
                "department": user.department_id,
                "supervisor": user.supervisor_id,
                "roles": [r.code for r in user.roles.all()],
                "language": user.language,
                "is_active": user.is_active,
                "version": user.version,
            },
        )
        super().__init__(*args, **kwargs)
        supervisors = [u for u in choices.supervisors if u.pk != user.pk]
        # Keep a current supervisor who has since been deactivated, so saving does not silently drop them.
        if user.supervisor is not None and all(u.pk != user.supervisor_id for u in supervisors):
            supervisors.append(user.supervisor)
        self._set_choices(departments=choices.departments, supervisors=supervisors, roles=choices.roles)
        cast(forms.ChoiceField, self.fields["language"]).choices = [("", _("跟随系统")), *settings.LANGUAGES]

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "version": d["version"],
            "role_codes": list(d["roles"]),
            **{
                f: d[f]
                for f in (
                    "display_name",
                    "email",
                    "mobile",
                    "department",
                    "supervisor",
                    "is_active",
                    "language",
                )
            },
        }


class PasswordResetForm(_PasswordMixin):
    pass


class DepartmentForm(forms.Form):
    name = forms.CharField(label=_("部门名称"), max_length=80)
    parent = ObjectChoiceField(label=_("上级部门"), required=False)
    manager = ObjectChoiceField(label=_("部门负责人"), required=False)

    def __init__(
        self,
        *args: Any,
        departments: Iterable[Department],
        managers: Iterable[User],
        department: Department | None = None,
        **kwargs: Any,
    ) -> None:
        if department is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": department.name,
                    "parent": department.parent_id,
                    "manager": department.manager_id,
                    "version": department.version,
                },
            )
        super().__init__(*args, **kwargs)
        parents = list(departments)
        if department is not None:
            # A department cannot move under itself or its own subtree.
            parents = [d for d in parents if not d.path.startswith(department.path)]
        # department_update treats "no parent"/"no manager" as "unchanged", so only offer the empty
        # choice when it means what it says.
        top = _("（顶级部门）") if department is None or department.parent_id is None else None
        cast(ObjectChoiceField, self.fields["parent"]).set_objects(parents, department_label, empty_label=top)
        self.fields["parent"].required = top is None
        managers = list(managers)
        if (
            department is not None
            and department.manager is not None
            and all(u.pk != department.manager_id for u in managers)
        ):
            managers.append(department.manager)
        no_manager = EMPTY if department is None or department.manager_id is None else None
        cast(ObjectChoiceField, self.fields["manager"]).set_objects(
            managers, lambda u: u.label, empty_label=no_manager
        )
        self.fields["manager"].required = no_manager is None
        if department is not None:
            self.fields["version"] = forms.IntegerField(widget=forms.HiddenInput)

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        out = {"name": d["name"], "parent": d["parent"], "manager": d["manager"]}
        if "version" in d:
            out["version"] = d["version"]
        return out


class RoleForm(forms.Form):
    code = forms.SlugField(
        label=_("角色代码"), max_length=40, help_text=_("英文字母、数字、下划线，创建后不可修改")
    )
    name = forms.CharField(label=_("角色名称"), max_length=60)
    name_en = forms.CharField(label=_("英文名称"), max_length=60, required=False)
    data_scope = forms.ChoiceField(
        label=_("数据范围"), choices=DataScope.choices, help_text=_("拥有多个角色的用户看到各数据范围的并集")
    )
    permissions = forms.MultipleChoiceField(
        label=_("权限"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(p.value, p.label) for p in Perm],
    )

    def __init__(self, *args: Any, role: Role | None = None, **kwargs: Any) -> None:
        if role is not None:
            kwargs.setdefault(
                "initial",
                {
                    "code": role.code,
                    "name": role.name,
                    "name_en": role.name_en,
                    "data_scope": role.data_scope,
                    "permissions": list(role.permissions),
                    "version": role.version,
                },
            )
        super().__init__(*args, **kwargs)
        # Labels are lazy: build the choices per request so they follow the active language.
        cast(forms.ChoiceField, self.fields["permissions"]).choices = [(p.value, p.label) for p in Perm]
        if role is not None:
            # role_update changes neither code nor English name.
            del self.fields["code"], self.fields["name_en"]
            self.fields["version"] = forms.IntegerField(widget=forms.HiddenInput)

    def permission_groups(self) -> list[tuple[Any, list[Any]]]:
        """The permission checkboxes grouped by area (客户 / 公海 / …), for the template."""
        boxes = {w.data["value"]: w for w in self["permissions"]}
        groups = []
        for prefix, heading in PERM_GROUPS:
            items = [boxes[p.value] for p in Perm if p.value.split(".", 1)[0] == prefix and p.value in boxes]
            if items:
                groups.append((heading, items))
        return groups

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        out = {"name": d["name"], "permissions": list(d["permissions"]), "data_scope": d["data_scope"]}
        for key in ("code", "name_en", "version"):
            if key in d:
                out[key] = d[key]
        return out


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("令牌名称"),
        max_length=60,
        widget=forms.TextInput(attrs={"placeholder": _("例如：数据同步脚本")}),
    )
    days = forms.IntegerField(
        label=_("有效天数"), required=False, min_value=1, max_value=3650, help_text=_("留空表示永不过期")
    )
