"""HTML form validation of the mailbox settings page (ENG-5); the service checks again."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _


class MailboxForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=60, help_text=_("例如：销售部公共邮箱"))
    address = forms.EmailField(label=_("邮箱地址"), help_text=_("回复客户时的发件地址"))
    owner = forms.ChoiceField(label=_("负责人"), required=False, help_text=_("未匹配客户的邮件由他负责回复"))
    team = forms.ChoiceField(
        label=_("团队"), required=False, help_text=_("该部门的人都能看到这个邮箱里未匹配客户的邮件")
    )
    imap_host = forms.CharField(
        label=_("IMAP 服务器"), max_length=200, required=False, help_text=_("留空则只通过 HTTP 接口收信")
    )
    imap_port = forms.IntegerField(label=_("IMAP 端口"), min_value=1, max_value=65535, initial=993)
    imap_ssl = forms.BooleanField(label=_("使用 SSL"), required=False, initial=True)
    imap_username = forms.CharField(label=_("IMAP 用户名"), max_length=200, required=False)
    imap_password = forms.CharField(
        label=_("IMAP 密码"), max_length=200, required=False, widget=forms.PasswordInput(render_value=False),
        help_text=_("保存后不再显示；编辑时留空表示不修改"),
    )  # fmt: skip
    imap_folder = forms.CharField(label=_("文件夹"), max_length=200, initial="INBOX")
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args: Any, users: list[Any], departments: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["owner"]).choices = [("", "—")] + [
            (str(u.pk), u.label) for u in users
        ]
        cast(forms.ChoiceField, self.fields["team"]).choices = [("", "—")] + [
            (str(d.pk), d.name) for d in departments
        ]

    def service_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k != "version"}
        data["owner"] = int(data["owner"]) if data.get("owner") else None
        data["team"] = int(data["team"]) if data.get("team") else None
        return data


class MailboxEditForm(MailboxForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
