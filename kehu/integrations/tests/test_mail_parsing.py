"""Parsing real RFC 822 bytes as Chinese mail arrives (ENG-5): encoded-word subjects and names in GB
charsets and UTF-8, GBK bodies, raw 8-bit headers, multipart with HTML, attachments with Chinese names."""

from __future__ import annotations

import base64
from email.header import Header
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr

from kehu.integrations.mail import decode_header, html_to_text, parse_message


def _gbk_message() -> bytes:
    body = "王经理您好：\n请报一下 200 台“镕铖”牌空压机的价格。\n——张三"
    msg = MIMEText(body.encode("gbk"), "plain", "gbk")
    msg.replace_header("Content-Type", 'text/plain; charset="gbk"')
    msg["Subject"] = "=?gbk?B?" + base64.b64encode("询价：空压机（镕铖）".encode("gbk")).decode() + "?="
    msg["From"] = formataddr((str(Header("张三", "gb2312")), "ZhangSan@Example.COM"))
    msg["To"] = "sales@kehu.test"
    msg["Message-ID"] = "<gbk-1@example.com>"
    msg["Date"] = "Tue, 01 Dec 2026 09:30:00 +0800"
    return msg.as_bytes()


def test_a_gbk_body_and_a_gbk_encoded_subject_read_as_chinese() -> None:
    parsed = parse_message(_gbk_message())
    assert parsed.subject == "询价：空压机（镕铖）"
    assert "200 台“镕铖”牌空压机" in parsed.text
    assert parsed.sender is not None
    assert parsed.sender.name == "张三"
    assert parsed.sender.address == "zhangsan@example.com"  # addresses are compared lower-case
    assert parsed.message_id == "<gbk-1@example.com>"
    assert parsed.date is not None and parsed.date.utcoffset().total_seconds() == 8 * 3600


def test_gb2312_labelled_text_with_gbk_only_characters_still_decodes() -> None:
    # 镕 and 铖 are not in GB2312; mailers label such text gb2312 all the same.
    text = "镕铖机械"
    word = "=?gb2312?B?" + base64.b64encode(text.encode("gbk")).decode() + "?="
    assert decode_header(word) == text
    raw = (
        b"From: a@b.cn\r\nSubject: " + word.encode() + b"\r\nMessage-ID: <x@b.cn>\r\n"
        b'Content-Type: text/plain; charset="gb2312"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
        + "您好，镕铖机械".encode("gb18030")
        + b"\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.subject == text
    assert parsed.text == "您好，镕铖机械"


def test_utf8_encoded_words_split_over_lines_and_quoted_printable() -> None:
    subject = "关于二期项目的合同草案与付款计划（第三版），请审阅"
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = formataddr(("李四 (采购部)", "li.si@example.com"))
    msg["To"] = "sales@kehu.test"
    msg["Message-ID"] = "<utf8-1@example.com>"
    msg.set_content("合同草案见附件。\n谢谢！", charset="utf-8", cte="quoted-printable")
    raw = msg.as_bytes()
    assert b"=?utf-8?" in raw  # really encoded on the wire
    parsed = parse_message(raw)
    assert parsed.subject == subject
    assert parsed.sender is not None and parsed.sender.name == "李四 (采购部)"
    assert parsed.text == "合同草案见附件。\n谢谢！"


def test_raw_8bit_utf8_headers_are_read() -> None:
    raw = (
        "From: 王五 <wangwu@example.com>\r\nTo: sales@kehu.test\r\nSubject: 样品已收到\r\n"
        "Message-ID: <raw8@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n样品收到了，质量不错。\r\n"
    ).encode()
    parsed = parse_message(raw)
    assert parsed.subject == "样品已收到"
    assert parsed.sender is not None and parsed.sender.name == "王五"
    assert parsed.text == "样品收到了，质量不错。"


def test_multipart_alternative_shows_the_text_part_and_keeps_attachments_with_chinese_names() -> None:
    msg = EmailMessage()
    msg["Subject"] = "报价单"
    msg["From"] = "buyer@example.com"
    msg["To"] = "sales@kehu.test"
    msg["Message-ID"] = "<multi@example.com>"
    msg["In-Reply-To"] = "<ours-1@kehu.test>"
    msg["References"] = "<first@example.com> <ours-1@kehu.test>"
    msg.set_content("纯文本正文")
    msg.add_alternative(
        "<html><body><p>HTML <b>正文</b></p><script>alert(1)</script></body></html>", subtype="html"
    )
    msg.add_attachment(
        b"%PDF-1.4 quote", maintype="application", subtype="pdf", filename="报价单（第二版）.pdf"
    )
    parsed = parse_message(msg.as_bytes())
    assert parsed.text == "纯文本正文"
    assert not parsed.html_only
    assert [(a.name, a.content_type, a.data) for a in parsed.attachments] == [
        ("报价单（第二版）.pdf", "application/pdf", b"%PDF-1.4 quote")
    ]
    assert parsed.in_reply_to == "<ours-1@kehu.test>"
    assert parsed.references == ["<first@example.com>", "<ours-1@kehu.test>"]


def test_an_html_only_message_is_shown_as_text_without_scripts() -> None:
    outer = MIMEMultipart("mixed")
    outer["Subject"] = "=?utf-8?B?" + base64.b64encode("新品介绍".encode()).decode() + "?="
    outer["From"] = "news@example.com"
    outer["Message-ID"] = "<html-only@example.com>"
    outer.attach(
        MIMEText(
            "<html><head><style>p{color:red}</style><title>x</title></head><body><p>第一段&amp;说明</p>"
            "<div>第二段<br>换行</div><script>steal()</script></body></html>",
            "html",
            "utf-8",
        )
    )
    parsed = parse_message(outer.as_bytes())
    assert parsed.html_only
    assert parsed.subject == "新品介绍"
    assert "第一段&说明" in parsed.text and "第二段\n换行" in parsed.text
    assert "steal" not in parsed.text and "color" not in parsed.text and "<" not in parsed.text


def test_a_message_without_message_id_gets_a_stable_digest_and_auto_replies_are_flagged() -> None:
    raw = (
        b"From: robot@example.com\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\n\r\nAway.\r\n"
    )
    first, again = parse_message(raw), parse_message(raw)
    assert first.message_id == again.message_id
    assert first.message_id.endswith("@no-message-id.kehu.invalid>")
    assert first.auto_submitted
    assert not parse_message(_gbk_message()).auto_submitted


def test_html_to_text_survives_broken_markup() -> None:
    assert html_to_text("<p>未闭合<div>段落") == "未闭合\n段落"


def test_a_from_header_encoded_whole_still_yields_the_address() -> None:
    # Python's own compat32 MIMEText writes a non-ASCII From as one encoded-word, address and all.
    msg = MIMEText("请报价", "plain", "gbk")
    msg["From"] = "采购 王工 <Buyer12@yuanhang.cn>"
    msg["Subject"] = "询价"
    parsed = parse_message(msg.as_bytes())
    assert parsed.sender is not None
    assert (parsed.sender.name, parsed.sender.address) == ("采购 王工", "buyer12@yuanhang.cn")
    assert parsed.text == "请报价"
