"""Every mail to a writer renders in both languages, with the writer's text escaped in HTML
and nothing left in the other language."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mailbox.mail.render import SUBJECTS, render_mail
from mailbox.settings import Settings
from mailbox.templating import create_environment

SECRET = "a test secret key that is long enough for the settings"
WRITER_CONTEXTS: dict[str, dict[str, Any]] = {
    "receipt": {"channel_name": "厅长信箱", "query_code": "ABCD2345"},
    "accepted": {},
    "rejected": {"reason": "不属于本部门职责", "advice": "请向市场监管部门反映。", "note": ""},
    "merged": {"original": "20260930000001"},
    "replied": {"rating_token": "token"},
    "reopened": {},
    "follow_up_closed": {"note": "已电话解释 <b>原因</b>"},
}
# A sentence of each mail's own text, by language: proves the kind's template was used.
OWN_WORDS = {
    "reopened": ("重新办理", "look at your letter again"),
    "follow_up_closed": ("已重新研究", "closed your letter with this note"),
}


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
@pytest.mark.parametrize("kind", sorted(WRITER_CONTEXTS))
def test_writer_mail_renders(kind: str, locale: str) -> None:
    settings = Settings(secret_key=SECRET, org_name="测试厅", base_url="https://xx.example.gov.cn")
    context = {
        "tracking_no": "20261012000001",
        "name": "张三",
        "title": "关于 <基站> 辐射",
        "due_at": datetime(2026, 10, 13, 16, tzinfo=UTC).isoformat(),
        **WRITER_CONTEXTS[kind],
    }
    assert kind in SUBJECTS
    mail = render_mail(create_environment(), settings, kind=kind, locale=locale, context=context)
    assert "20261012000001" in mail.subject
    assert "关于 <基站> 辐射" in mail.body_text
    assert "关于 &lt;基站&gt; 辐射" in mail.body_html and "<基站>" not in mail.body_html
    chinese = locale == "zh_CN"
    assert ("尊敬的" in mail.body_text) == chinese and ("Dear" in mail.body_text) != chinese
    if kind in OWN_WORDS:
        assert OWN_WORDS[kind][0 if chinese else 1] in mail.body_text
    if kind in ("accepted", "reopened"):
        assert ("2026年10月13日" if chinese else "2026-10-13") in mail.body_text
    if kind == "follow_up_closed":
        assert "&lt;b&gt;原因&lt;/b&gt;" in mail.body_html
