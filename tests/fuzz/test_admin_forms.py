"""The administration forms (users, departments, channels, reasons, templates, holidays, mail,
attention words, API tokens, webhooks), the report summary and the entry of a letter taken by
post, under random input from logged-in staff: never a 500; a refused post changes nothing;
what a form stored still shows on the pages that show it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote_from_bytes

from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from mailbox.auth.roles import Role
from mailbox.clock import Clock
from mailbox.db.database import Database
from mailbox.domain.validation import FIELDS
from mailbox.services.api_tokens import Scope
from mailbox.webhooks.payload import Event
from tests.fuzz.conftest import EXAMPLES, FUZZ, explore, on_this_loop
from tests.fuzz.staff import (
    Desk,
    Pairs,
    changed_tables,
    csrf_cases,
    encoded,
    encodings,
    everything,
    extra_pairs,
    field_values,
    post,
    sign_in,
    stranger_token,
    with_csrf,
)
from tests.fuzz.strategies import values
from tests.helpers import GOOD_LETTER
from tests.web.test_workspace import PASSWORD, office

__all__ = ["office"]  # a fixture, used by name

T = TypeVar("T", bound=Callable[..., Any])
GOOD = "<good>"
ROLE_FIELDS = [f"role_{role}" for role in Role]
EVENT_FIELDS = [f"event_{event}" for event in Event]
ACCOUNT = ["display_name", "email", *ROLE_FIELDS, "department_id"]
REASON = ["label", "label_en", "advice", "advice_en"]
TEMPLATE = ["title", "body", "channel", "department_id"]
# Each form: its address ({user} and {webhook} are filled in), its actions and their fields,
# and the pages that show what it stores. "" is a form without an action field.
FORMS: dict[str, tuple[dict[str, list[str]], list[str]]] = {
    "/staff/admin/users": (
        {"create": ["username", "password", *ACCOUNT]},
        ["/staff/admin/users"],
    ),
    "/staff/admin/users/{user}": (
        {
            "save": ACCOUNT,
            "deactivate": [],
            "reactivate": [],
            "password": ["password"],
            "end_sessions": [],
        },
        ["/staff/admin/users"],
    ),
    "/staff/admin/departments": (
        {"add": ["code", "name"], "save": ["id", "name", "enabled"]},
        ["/staff/queue", "/staff/admin/users", "/staff/admin/templates"],
    ),
    "/staff/admin/channels": (
        {
            "save": [
                "id",
                "name",
                "name_en",
                "reply_days",
                "intake_days",
                "review_required",
                "enabled",
            ]
        },
        ["/", "/write/consult", "/stats", "/staff/queue"],
    ),
    "/staff/admin/reasons": (
        {"add": ["code", *REASON], "save": ["id", *REASON, "enabled"]},
        ["{pending}"],
    ),
    "/staff/admin/templates": (
        {"add": TEMPLATE, "save": ["id", *TEMPLATE], "delete": ["id"]},
        ["{assigned}"],
    ),
    "/staff/admin/holidays": (
        {"add": ["day", "kind", "name"], "delete": ["id"]},
        ["/staff/admin", "/staff/dashboard"],
    ),
    "/staff/admin/outbox": ({"retry": ["id"]}, ["/staff/admin"]),
    "/staff/admin/attention-words": ({"add": ["words"], "delete": ["id"]}, ["{assigned}"]),
    "/staff/admin/tokens": ({"create": ["username", "label", "scope"], "revoke": ["id"]}, []),
    "/staff/admin/webhooks": ({"create": ["url", "description", *EVENT_FIELDS]}, []),
    "/staff/admin/webhooks/{webhook}": (
        {
            "deactivate": [],
            "activate": [],
            "delete": ["confirm"],
            "test": [],
            "send_again": ["id"],
            "new_secret": [],
        },
        ["/staff/admin/webhooks"],
    ),
    "/staff/reports/summary": (
        {"": ["query", "template_zh_CN", "template_en"]},
        ["/staff/reports", "/staff/reports/export.csv"],
    ),
    "/staff/enter": ({"": [*FIELDS, "channel", "source"]}, ["/staff/queue"]),
}
ALL_FIELDS = sorted(
    {name for actions, _pages in FORMS.values() for f in actions.values() for name in f}
)
# Who posts: the administrator mostly; the dispatcher where the form is theirs; others are
# refused before the form is read.
PEOPLE = ["admin", "admin", "admin", "dispatcher", "radio_handler", "reporter"]
GOOD_TEXT = {
    "username": "clerk",
    "password": PASSWORD,
    "display_name": "新同事",
    "email": "clerk@example.com",
    "code": "petitions",
    "name": "信访处",
    "name_en": "Petitions",
    "enabled": "1",
    "review_required": "1",
    "reply_days": "5",
    "intake_days": "3",
    "label": "不属于信箱受理范围",
    "label_en": "Not for this mailbox",
    "advice": "请拨打12345热线。",
    "advice_en": "Please call 12345.",
    "title": "基站答复模板",
    "body": "您好，您反映的基站已依法审批，辐射检测结果符合国家标准。",
    "channel": "consult",
    "day": "2026-10-09",
    "kind": "workday",
    "words": "辐射\n举报",
    "scope": Scope.SUBMIT,
    "url": "https://hooks.example.org/mailbox",
    "description": "门户网站",
    "confirm": "1",
    "query": "period=year&year=2026",
    "template_zh_CN": "{period}共受理信件{accepted}封。",
    "template_en": "",
    "source": "post",
    **{name: "1" for name in ROLE_FIELDS + EVENT_FIELDS},
    **GOOD_LETTER,
    "publish_consent": "1",
}
# The row a form's "id" field names, for each form that has one.
ID_OF = {
    "/staff/admin/departments": "SELECT MIN(id) FROM departments",
    "/staff/admin/reasons": "SELECT MIN(id) FROM reject_reasons",
    "/staff/admin/templates": "SELECT MIN(id) FROM reply_templates",
    "/staff/admin/holidays": "SELECT MIN(day) FROM holidays",
    "/staff/admin/outbox": (
        "SELECT MIN(id) FROM outbox WHERE medium = 'mail' AND failed_at IS NOT NULL"
    ),
    "/staff/admin/attention-words": "SELECT MIN(id) FROM attention_words",
    "/staff/admin/tokens": "SELECT MIN(id) FROM api_tokens",
    "/staff/admin/webhooks/{webhook}": (
        "SELECT MIN(id) FROM outbox WHERE webhook_id = :webhook AND failed_at IS NOT NULL"
    ),
}
# Path ids: the row meant, none such, and numbers no database integer holds.
path_ids = st.one_of(
    st.just(GOOD),
    st.sampled_from(["0", "999999", "9" * 19, "9" * 40, "-1", "1e3", "%00", "%ff", ""]),
    st.binary(max_size=8).map(lambda b: quote_from_bytes(b, safe="")),
)


@st.composite
def admin_posts(draw: st.DrawFn) -> dict[str, Any]:
    path = draw(st.sampled_from(sorted(FORMS)))
    actions, _pages = FORMS[path]
    known = draw(st.integers(0, 5)) > 0
    action: str | bytes = draw(st.sampled_from(sorted(actions)) if known else values)
    names = actions.get(action, []) if isinstance(action, str) else []
    # The form's own fields, now and then one left out, and a few of other forms'.
    names = [name for name in names if draw(st.integers(0, 5))]
    names += draw(st.lists(st.sampled_from(ALL_FIELDS), max_size=3, unique=True))
    fields = {name: draw(field_values(GOOD)) for name in names}
    return {
        "path": path,
        "action": action,
        "fields": fields,
        "who": draw(st.sampled_from(PEOPLE)),
        "target": draw(path_ids if draw(st.integers(0, 3)) == 0 else st.just(GOOD)),
    }


def good_post(path: str, action: str) -> dict[str, Any]:
    who = "dispatcher" if path in ("/staff/enter", "/staff/reports/summary") else "admin"
    fields = dict.fromkeys(FORMS[path][0][action], GOOD)
    return {"path": path, "action": action, "fields": fields, "who": who, "target": GOOD}


# Inputs that once answered 500: ids no database integer holds, digits int() refuses.
MISTAKES = [
    {**good_post("/staff/admin/users/{user}", "save"), "target": "9" * 40},
    {**good_post("/staff/admin/webhooks/{webhook}", "test"), "target": "9" * 40},
    {
        **good_post("/staff/admin/webhooks/{webhook}", "send_again"),
        "fields": {"id": "²³"},
    },
]


def every_mistake(test: T) -> T:
    for posted in MISTAKES:
        test = example(posted=posted, extra=[], encoding="quoted", csrf="good", forged="")(test)
    return test


def every_form(test: T) -> T:
    """Each form as its page fills it, once: every handler stores something at least once."""
    for path, (actions, _pages) in FORMS.items():
        for action in actions:
            test = example(
                posted=good_post(path, action), extra=[], encoding="quoted", csrf="good", forged=""
            )(test)
    return test


async def _setup(desk: Desk, db: Database, clock: Clock) -> None:
    """What the forms act on: users to change, templates, a word, a holiday, webhooks and
    their deliveries, an API token, mail given up; made through the forms themselves."""
    hook = {"action": "create", "url": GOOD_TEXT["url"], EVENT_FIELDS[0]: "1"}
    for path, form in [
        (
            "/staff/admin/users",
            {"action": "create", "username": "spare", "password": PASSWORD, "role_reporter": "1"},
        ),
        ("/staff/admin/templates", {"action": "add", "title": "模板", "body": "您好，谢谢。"}),
        ("/staff/admin/templates", {"action": "add", "title": "模板二", "body": "您好。"}),
        ("/staff/admin/attention-words", {"action": "add", "words": "基站"}),
        ("/staff/admin/holidays", {"action": "add", "day": "2026-10-01", "kind": "holiday"}),
        ("/staff/admin/webhooks", hook),
        ("/staff/admin/webhooks", hook),
        ("/staff/admin/tokens", {"action": "create", "username": "dispatcher", "scope": "staff"}),
    ]:
        response = await desk.client.post(path, data={**form, "csrf_token": desk.token})
        assert response.status_code in (200, 303), (path, response.text[:500])
    for row in await db.fetch_all("SELECT id FROM webhooks"):
        response = await desk.client.post(
            f"/staff/admin/webhooks/{row['id']}", data={"action": "test", "csrf_token": desk.token}
        )
        assert response.status_code == 303
    async with db.transaction() as conn:
        await conn.execute("UPDATE outbox SET failed_at = :now", {"now": clock.now()})


@dataclass
class Bench:
    """What the examples share: the app's database, its staff logged in, what they act on."""

    db: Database
    desks: dict[str, Desk]
    spare_user: str  # an account to change (not the administrator's own)
    letters: dict[str, str]  # the pages that show reasons, templates and words
    other_token: str  # a well-signed form token of another browser
    outcomes: Counter[tuple[str, str, int]] = field(default_factory=Counter)

    async def act(
        self, posted: dict[str, Any], extra: Pairs, encoding: str, csrf: str, forged: str | bytes
    ) -> None:
        db, desk = self.db, self.desks[posted["who"]]
        template, target = posted["path"], posted["target"]
        webhook = str(await db.fetch_value("SELECT MIN(id) FROM webhooks"))
        path = template.format(
            user=self.spare_user if target == GOOD else target,
            webhook=webhook if target == GOOD else target,
        )
        fields: Pairs = [
            (name, await self._good(template, name, webhook) if value == GOOD else value)
            for name, value in posted["fields"].items()
        ]
        pairs = [("action", posted["action"]), *fields] if posted["action"] else fields
        body, content_type = encoded(
            with_csrf([*pairs, *extra], csrf, desk, self.other_token, forged), encoding
        )
        before = await everything(db)
        response = await post(desk, path, body, content_type, csrf)
        status = response.status_code
        self.outcomes[(template, str(posted["action"])[:12], status)] += 1
        assert status < 500, (path, posted, status, response.text[:500])
        if status not in (200, 303):  # refused (or sent to the address without "/")
            changed = changed_tables(before, await everything(db))
            assert not changed, (path, posted, status, changed)
            if csrf != "good":  # refused as such, unless the body or address is wrong first
                well_formed = encoding == "quoted" and target == GOOD and len(pairs) < 40
                assert status in ((403, 413) if well_formed else (307, 400, 403, 404, 413))
            return
        assert csrf == "good", (csrf, path, posted, status)
        _actions, pages = FORMS[template]
        shown = [response.headers["location"]] if status == 303 else []
        for page in [*shown, *pages]:  # what was stored still shows
            if page.startswith("{"):
                page = "/staff/letters/" + page.format(**self.letters)
            answer = await desk.client.get(page)
            assert answer.status_code in (200, 403), (page, answer.text[:500])

    async def _good(self, path: str, name: str, webhook: str) -> str:
        """A field's sensible value on this form."""
        if name == "department_id":
            return str(await self.db.fetch_value("SELECT id FROM departments WHERE code = 'radio'"))
        if name == "id" and path == "/staff/admin/channels":
            return "consult"
        if name == "id" and path in ID_OF:
            found = await self.db.fetch_value(ID_OF[path], {"webhook": int(webhook)})
            return "" if found is None else str(found)
        if name == "username" and path == "/staff/admin/tokens":
            return "dispatcher"
        return GOOD_TEXT.get(name, "1")


async def test_admin_and_office_forms_with_random_fields_never_fail_nor_half_store(
    app: Starlette, db: Database, office: dict[str, str]
) -> None:
    run = on_this_loop()
    async with AsyncExitStack() as stack:
        desks = {name: await sign_in(stack, app, db, name) for name in set(PEOPLE)}
        await _setup(desks["admin"], db, app.state.clock)
        bench = Bench(
            db,
            desks,
            spare_user=str(await db.fetch_value("SELECT id FROM users WHERE username = 'spare'")),
            letters={"pending": office["pending"], "assigned": office["radio"]},
            other_token=await stranger_token(app),
        )

        @hypothesis_settings(FUZZ, max_examples=2 * EXAMPLES)  # many forms: twice the share
        @given(
            posted=admin_posts(),
            extra=extra_pairs(["action", *ALL_FIELDS]),
            encoding=encodings,
            csrf=csrf_cases,
            forged=values,
        )
        @every_form
        @every_mistake
        def check(
            posted: dict[str, Any], extra: Pairs, encoding: str, csrf: str, forged: str | bytes
        ) -> None:
            run(bench.act(posted, extra, encoding, csrf, forged))

        await explore(check)
    outcomes = bench.outcomes
    stored = {(path, action) for (path, action, status), _n in outcomes.items() if status < 400}
    wanted = {(path, action) for path, (actions, _p) in FORMS.items() for action in actions}
    assert stored >= wanted, sorted(wanted - stored)
    if EXAMPLES >= 100:  # the random inputs reached the handlers, not only the CSRF check
        assert sum(n for (_p, _a, status), n in outcomes.items() if status == 400) > 10


async def test_numbers_no_database_integer_holds_are_refused_not_500(
    app: Starlette, db: Database, office: dict[str, str]
) -> None:
    """The id routes took any digits, and the webhook page read "²" as a number: 500s."""
    huge = "9" * 40
    async with AsyncExitStack() as stack:
        admin = await sign_in(stack, app, db, "admin")
        await _setup(admin, db, app.state.clock)
        webhook = await db.fetch_value("SELECT MIN(id) FROM webhooks")
        before = await everything(db)
        for path, action in (("users", "save"), ("webhooks", "test")):
            path = f"/staff/admin/{path}/{huge}"
            assert (await admin.client.get(path)).status_code == 404
            posted = {"action": action, "role_reporter": "1", "csrf_token": admin.token}
            assert (await admin.client.post(path, data=posted)).status_code == 404
        page = await admin.client.get(f"/staff/admin/webhooks/{webhook}?before=²³")
        assert page.status_code == 200
        for number in ("²³", "٣٤", huge):
            again = {"action": "send_again", "id": number, "csrf_token": admin.token}
            sent = await admin.client.post(f"/staff/admin/webhooks/{webhook}", data=again)
            assert sent.status_code == 400
        assert changed_tables(before, await everything(db)) == []
