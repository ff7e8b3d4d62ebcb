"""Fill a migrated database with N letters (default 1,000,000) over the last two years.

    .venv/bin/python bench/generate.py --database-url sqlite+aiosqlite:///var/bench/letters.sqlite3
    .venv/bin/python bench/generate.py --database-url postgresql://postgres@127.0.0.1/mailbox_bench
                                       [--letters N] [--seed 1] [--days 730]
                                       [--events full|submitted]

For the staff lists' benchmark (bench/queues.py) and the figures' (bench/figures.py, which
asks for three years: --days 1095). The database is migrated first (like
`python -m mailbox migrate`); its `letters` table must be empty. It gets 20 departments
(created when missing) and N letters, deterministic for a given --seed and end moment:

- submitted over the --days (default 730) days before --end (default: now), more on weekdays
  and in the daytime, ids in submission order;
- channels: director 60 %, consult 30 %, complaint 8 %, suggestion 2 %; sources web 90 %
  (challenge pow/fallback), the rest entered by staff (post, phone, visit);
- each letter walks the real workflow against the clock: intake (mean 18 h) → rejected 4 %,
  spam 3 %, merged as a duplicate 1 %, accepted 92 % into one of 20 departments (skewed: the
  busiest has about 15 %) with due_at computed as the app does (working days from the
  office calendar, the channel's reply_days) → submitted for review → approved (replied_at,
  rating_until = +15 days) → rated (25 %, of which 5 % unsatisfied and left for the
  dispatcher) or closed when the rating window ends. 2 % are returned by the department and
  reassigned; 4 % are answered late, 0.2 % very late (months), 0.01 % are never looked at.
  Whatever has not happened by --end has not happened: recent letters are pending,
  assigned, in review, returned or replied, with the matching NULL columns;
- what the app records besides (migrations 0002 and 0005): a `replies` row per draft sent for
  review (released_at once approved), a `ratings` row per rating (of that reply), and at the
  release the first-reply facts of handling.first_reply_facts (first_replied_at, reply_due_at
  = the deadline then, reply_department_id = the department then, reply_working_days from the
  office calendar); 30 % of the replied letters whose writer consented are published
  (published_at, on average two days after the reply). These extra draws come from a second
  random stream, so the letters' fates are the same as without them for a given seed;
- a `submitted` event per letter and, with --events full (default), one event per step
  taken (accept, submit_draft, approve, rate/expire_rating, return/reassign, reject, ...):
  about five per letter;
- tracking numbers `YYYYMMDD` (the office's date) + 6 random digits, unique; the query code
  hash is a constant (no letter can be looked up on /track).

Loading: SQLite in one transaction with journal_mode=WAL and synchronous=OFF (this
connection only), executemany from a stream; PostgreSQL with COPY (asyncpg
copy_records_to_table) in one transaction. For both, the non-unique indexes of `letters` and
`letter_events` (and on PostgreSQL their foreign keys) are dropped for the load and created
again, from their own definitions, in the same transaction: the schema ends as migrated, and
re-adding the foreign keys checks every row. PostgreSQL gets VACUUM (ANALYZE) afterwards
(what autovacuum does soon after such a load); SQLite is not ANALYZEd, because the app never
runs ANALYZE (use --analyze to compare).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import sys
import time
from bisect import bisect_right
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `mailbox` from the checkout (a stdlib module has that name)

from mailbox.db.migrate import migrate  # noqa: E402
from mailbox.db.postgres import dsn  # noqa: E402
from mailbox.db.sqlite import sqlite_path  # noqa: E402
from mailbox.domain.calendar import WorkingCalendar  # noqa: E402

US = 1_000_000  # microseconds per second
HOUR, DAY = 3600 * US, 86400 * US
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
QUERY_CODE_HASH = "0" * 64  # a constant: no generated letter can be looked up on /track
RATING_DAYS = 15  # MAILBOX_RATING_DAYS' default
CHUNK = 20_000  # letters per batch (a few MB of rows at a time)

CHANNELS = (("director", 60), ("consult", 30), ("complaint", 8), ("suggestion", 2))

DEPARTMENTS = (  # code, name: a provincial department's offices and centres
    ("bgs", "办公室"),
    ("zcfg", "政策法规处"),
    ("zhgh", "综合规划处"),
    ("cws", "财务审计处"),
    ("rsc", "人事处"),
    ("jsgl", "建设管理处"),
    ("ysgl", "运输服务处"),
    ("aqjd", "安全监督处"),
    ("kjc", "科技与信息化处"),
    ("zfjd", "执法监督局"),
    ("glzx", "公路事业发展中心"),
    ("dlys", "道路运输事业发展中心"),
    ("ghzx", "港航事业发展中心"),
    ("xxzx", "信息中心"),
    ("zljd", "工程质量监督站"),
    ("spfw", "行政审批服务处"),
    ("lgbc", "离退休干部处"),
    ("jgdw", "机关党委"),
    ("hbc", "生态环境保护处"),
    ("yjc", "应急管理处"),
)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢"
    "宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国玉文辉红梅志海燕德春花晓东"
PLACES = (
    "幸福街道",
    "城南新区",
    "高新区",
    "经开区",
    "老城区",
    "滨江路",
    "人民路",
    "解放大道",
    "东湖片区",
    "西山镇",
    "北关村",
    "南湖小区",
    "火车站周边",
    "机场高速",
    "环城西路",
    "工业园区",
    "开发区",
)
TOPICS = (
    "老旧小区加装电梯",
    "公交线路调整",
    "驾驶证换领",
    "道路维修",
    "出租车服务质量",
    "停车收费标准",
    "网约车运营许可",
    "货车通行证办理",
    "桥梁施工噪音",
    "高速公路收费",
    "客运站服务",
    "路灯损坏",
    "占道经营",
    "渣土车扬尘",
    "水运码头建设",
    "道路积水",
    "交通信号灯配时",
    "共享单车乱停放",
    "校车安全管理",
    "农村公路硬化",
    "轨道交通规划",
    "电动自行车上牌",
    "公路养护",
    "征地拆迁补偿",
)
KINDS = {
    "director": ("关于{place}{topic}问题的反映", "恳请厅领导关注{place}{topic}"),
    "consult": ("关于{topic}政策的咨询", "请问{topic}需要哪些材料", "{place}{topic}怎么办理"),
    "complaint": ("投诉{place}{topic}问题", "关于{place}{topic}的投诉"),
    "suggestion": ("对{topic}的几点建议", "关于改进{topic}工作的建议"),
}
SENTENCES = (
    "您好！我是本市{place}的居民。",
    "这个问题已经持续了很长时间，给周边群众的生活带来了很大不便。",
    "我们曾多次向有关部门反映，但一直没有得到明确答复。",
    "想请教一下，关于{topic}目前有哪些具体的政策规定？",
    "申请需要准备哪些材料，应当向哪个部门提交，办理时限是多久？",
    "每天早晚高峰期间情况尤其严重，老人和孩子出行很不安全。",
    "据了解，相邻区县已经出台了相关办法，效果很好。",
    "希望贵厅能够尽快组织人员到现场调查核实。",
    "建议在醒目位置设置提示标志，并加强日常巡查。",
    "如有需要，我可以提供现场照片和相关证明材料。",
    "恳请领导在百忙之中予以关注，督促相关单位尽快解决。",
    "附近有学校和医院，车流量大，存在较大安全隐患。",
    "网上办理时系统一直提示信息有误，无法提交。",
    "工作人员态度冷淡，让我们多次往返，耽误了很多时间。",
    "另外，收费标准是否有公开的文件依据？",
    "盼复，谢谢！",
    "以上意见仅供参考，感谢贵厅的辛勤工作。",
)
REPLY_SENTENCES = (
    "您好！来信收悉，感谢您对交通运输工作的关心和支持。",
    "经我处核实，您反映的情况属实，已责成相关单位限期整改。",
    "根据《道路运输条例》及我省有关规定，相关事项办理流程如下。",
    "所需材料可登录省政务服务网查询，也可到当地政务服务中心咨询。",
    "我们已将您的建议转交相关业务处室研究，在今后工作中认真吸纳。",
    "该路段维修工程已列入今年养护计划，预计年底前完工。",
    "如有疑问，请在工作日拨打咨询电话与我们联系。",
    "再次感谢您的来信。",
)


# --- the model: one letter's life against the clock -------------------------------------------


class Model:
    """Draws letters; times are integer microseconds since the epoch (UTC)."""

    def __init__(
        self,
        *,
        count: int,
        end_us: int,
        seed: int,
        days: int = 730,
        tz: ZoneInfo,
        reply_days: dict[str, int],
        departments: list[tuple[int, str]],
        full_events: bool,
    ) -> None:
        self.count, self.end, self.tz, self.days = count, end_us, tz, days
        self.rng = random.Random(seed)
        # publication and reply texts: a stream of their own, so that adding them left the
        # letters' own draws (and so their states) as they were for a seed
        self.extra = random.Random(seed + 1_000_003)
        self.reply_ids = 0
        self.rating_ids = 0
        self._dates: dict[int, date] = {}
        self.reply_days = reply_days
        self.departments = departments
        self.full_events = full_events
        self.calendar = WorkingCalendar()
        self._deadlines: dict[tuple[date, int], int] = {}
        self._offsets: dict[int, int] = {}
        # the busiest department gets about a sixth of the letters, the quietest under 3 %
        weights = [1 / (rank + 1) ** 0.6 for rank in range(len(departments))]
        self.department_cum = list(accumulate(weights))
        self.channel_codes = [code for code, _ in CHANNELS]
        self.channel_cum = list(accumulate(weight for _, weight in CHANNELS))

    # the office's calendar, as the app computes it (cached per day and channel)

    def local_day_number(self, moment: int) -> int:
        hour = moment // HOUR
        offset = self._offsets.get(hour)
        if offset is None:
            when = EPOCH + timedelta(microseconds=moment)
            offset = self._offsets[hour] = int(self.tz.utcoffset(when).total_seconds()) * US  # type: ignore[union-attr]
        return (moment + offset) // DAY

    def deadline(self, accepted: int, channel: str) -> int:
        day = date(1970, 1, 1) + timedelta(days=self.local_day_number(accepted))
        days = self.reply_days[channel]
        key = (day, days)
        found = self._deadlines.get(key)
        if found is None:
            moment = datetime.combine(day, datetime.min.time(), self.tz) + timedelta(hours=12)
            due = self.calendar.deadline(moment, days, self.tz)
            found = self._deadlines[key] = (due - EPOCH) // timedelta(microseconds=1)
        return found

    def working_days(self, submitted: int, replied: int) -> int:
        """handling.first_reply_facts: working days between the office dates of the two."""
        days = []
        for moment in (submitted, replied):
            number = self.local_day_number(moment)
            day = self._dates.get(number)
            if day is None:
                day = self._dates[number] = date(1970, 1, 1) + timedelta(days=number)
            days.append(day)
        return self.calendar.working_days_between(days[0], days[1])

    # submission moments: over --days days, weekdays busier, daytime busier (office time zone)

    def submission_times(self) -> list[int]:
        rng, end, span = self.rng, self.end, self.days
        first_day = self.local_day_number(end - span * DAY)
        offset = self._offsets[(end - span * DAY) // HOUR]
        base = first_day * DAY - offset  # the office's midnight starting the first day
        days_count = self.local_day_number(end) - first_day + 1
        day_weights = [
            1.0 if (date(1970, 1, 1) + timedelta(days=first_day + n)).weekday() < 5 else 0.55
            for n in range(days_count)
        ]
        hour_weights = [
            1,
            0.6,
            0.4,
            0.3,
            0.3,
            0.5,
            1,
            2,
            4,
            6,
            7,
            7,
            5,
            5,
            6,
            6,
            6,
            5,
            5,
            6,
            7,
            6,
            4,
            2,
        ]
        days = rng.choices(
            range(days_count), cum_weights=list(accumulate(day_weights)), k=self.count
        )
        hours = rng.choices(range(24), cum_weights=list(accumulate(hour_weights)), k=self.count)
        rand = rng.randrange
        times = [base + d * DAY + h * HOUR + rand(HOUR) for d, h in zip(days, hours, strict=True)]
        # the last day is cut at `end`: what falls after it is drawn again over the whole span
        times = [t if t < end else base + rand(end - base) for t in times]
        times.sort()
        return times

    def tracking_numbers(self, times: list[int]) -> list[str]:
        """`YYYYMMDD` of the office's date and six random digits, unique per day."""
        rng = self.rng
        numbers: list[str] = []
        index = 0
        while index < len(times):
            day = self.local_day_number(times[index])
            stop = index
            while stop < len(times) and self.local_day_number(times[stop]) == day:
                stop += 1
            prefix = f"{date(1970, 1, 1) + timedelta(days=day):%Y%m%d}"
            numbers += [f"{prefix}{n:06d}" for n in rng.sample(range(1_000_000), stop - index)]
            index = stop
        return numbers

    def pools(self) -> None:
        """Titles, bodies and writers drawn once; letters pick from them (much faster than
        composing a million texts, and the lists only read titles and names)."""
        rng = self.rng
        self.texts: dict[str, list[tuple[str, str]]] = {}
        for channel in KINDS:
            texts = []
            for _ in range(3000):
                place, topic = rng.choice(PLACES), rng.choice(TOPICS)
                title = rng.choice(KINDS[channel]).format(place=place, topic=topic)
                body = "".join(
                    s.format(place=place, topic=topic)
                    for s in rng.sample(SENTENCES, rng.randint(3, 7))
                )
                texts.append((title, body))
            self.texts[channel] = texts
        self.writers: list[tuple[str, str, str]] = []
        for _ in range(50_000):
            name = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.randint(1, 2)))
            email = f"user{rng.randrange(10**7)}@example.com" if rng.random() < 0.45 else ""
            address = (
                f"某某市{rng.choice(PLACES)}{rng.randint(1, 300)}号" if rng.random() < 0.6 else ""
            )
            self.writers.append((name, email, address))
        extra = self.extra
        self.reply_texts = [
            "".join(extra.sample(REPLY_SENTENCES, extra.randint(3, 5))) for _ in range(500)
        ]

    def letters(self) -> Iterator[tuple[dict[str, Any], list[tuple[Any, ...]]]]:
        """(letter columns, events as (letter_id, kind, from, to, is_public, data, at))."""
        rng, end, full = self.rng, self.end, self.full_events
        times = self.submission_times()
        numbers = self.tracking_numbers(times)
        self.pools()
        texts, writers = self.texts, self.writers
        randrange = rng.randrange
        submitted_data: dict[tuple[str, str], str] = {}
        accept_data: dict[int, str] = {}
        expo, rand = rng.expovariate, rng.random
        dept_ids, dept_cum = [d for d, _ in self.departments], self.department_cum
        dept_names = dict(self.departments)
        channel_codes, channel_cum = self.channel_codes, self.channel_cum
        for index, submitted in enumerate(times):
            letter_id = index + 1
            channel = channel_codes[bisect_right(channel_cum, rand() * channel_cum[-1])]
            title, body = texts[channel][randrange(3000)]
            name, email, address = writers[randrange(50_000)]
            phone = f"1{randrange(3, 10)}{randrange(10**9):09d}"
            roll = rand()
            if roll < 0.90:
                source, challenge = "web", ("pow" if rand() < 0.93 else "fallback")
            else:
                source, challenge = ("post", "phone", "visit")[int(roll * 100) % 3], "staff"
            row: dict[str, Any] = {
                "id": letter_id,
                "tracking_no": numbers[index],
                "channel": channel,
                "state": "pending",
                "source": source,
                "title": title,
                "body": body,
                "writer_name": name,
                "writer_phone": phone,
                "writer_email": email,
                "writer_address": address,
                "publish_consent": rand() < 0.4,
                "locale": "zh_CN" if rand() < 0.96 else "en",
                "challenge": challenge,
                "client_ip": f"10.{randrange(256)}.{randrange(256)}.{randrange(1, 255)}"
                if source == "web"
                else "",
                "department_id": None,
                "duplicate_of_id": None,
                "submitted_at": submitted,
                "accepted_at": None,
                "due_at": None,
                "replied_at": None,
                "closed_at": None,
                "updated_at": submitted,
                "needs_follow_up": False,
                "rating_until": None,
                "first_replied_at": None,
                "reply_due_at": None,
                "reply_department_id": None,
                "reply_working_days": None,
                "published_at": None,
                "replies": [],  # (id, letter_id, body, created_at, submitted_at, released_at)
                "ratings": [],  # (id, letter_id, reply_id, rating, created_at)
            }
            data = submitted_data.get((source, channel))
            if data is None:
                data = submitted_data[source, channel] = json.dumps(
                    {"source": source, "channel": channel}
                )
            events: list[tuple[Any, ...]] = [
                (letter_id, "submitted", None, "pending", True, data, submitted)
            ]

            def step(
                kind: str,
                to: str,
                at: int,
                public: bool = True,
                data: str = "{}",
                row: dict[str, Any] = row,
                events: list[tuple[Any, ...]] = events,
            ) -> bool:
                """Take the step if it has happened by `end`; False when it has not."""
                if at > end:
                    return False
                if full:
                    events.append((row["id"], kind, row["state"], to, public, data, at))
                row["state"], row["updated_at"] = to, at
                return True

            yield row, events
            # intake (the row is filled in place: the caller reads it after this resumes)
            if rand() < 0.0001:
                continue  # never looked at
            decided = submitted + int(max(600 * US, expo(1 / (18 * HOUR))))
            roll = rand()
            if roll < 0.04:
                if step("reject", "rejected", decided, data='{"reason": "not_ours"}'):
                    row["closed_at"] = decided
                continue
            if roll < 0.07:
                step("mark_spam", "spam", decided, public=False)
                continue
            if roll < 0.08 and letter_id > 1:
                original = max(1, letter_id - 1 - int(expo(1 / 300)))
                if step("merge", "duplicate", decided):
                    row["duplicate_of_id"], row["closed_at"] = original, decided
                continue
            department = dept_ids[bisect_right(dept_cum, rand() * dept_cum[-1])]
            due = self.deadline(decided, channel)
            if department not in accept_data:
                accept_data[department] = json.dumps(
                    {"department_id": department, "department": dept_names[department]},
                    ensure_ascii=False,
                )
            if not step("accept", "assigned", decided, data=accept_data[department]):
                continue
            row.update(department_id=department, accepted_at=decided, due_at=due)
            started = decided
            if rand() < 0.02:  # not ours: returned, then routed again by the dispatcher
                returned = decided + int(expo(1 / (20 * HOUR)))
                if not step("return", "returned", returned, public=False):
                    continue
                reassigned = returned + int(expo(1 / (16 * HOUR)))
                other = dept_ids[bisect_right(dept_cum, rand() * dept_cum[-1])]
                if not step("reassign", "assigned", reassigned):
                    continue
                row["department_id"], started = other, reassigned
            roll = rand()
            window = max(due - started, DAY)
            if roll < 0.002:
                replied = started + int(expo(1 / (90 * DAY)))  # forgotten for months
            elif roll < 0.042:
                replied = due + int(expo(1 / (5 * DAY)))  # late
            else:
                replied = started + int(window * rng.betavariate(2.2, 1.6))
            drafted = max(started + HOUR, replied - int(expo(1 / (10 * HOUR))))
            replied = max(replied, drafted + 30 * 60 * US)
            self.reply_ids += 1
            reply_id = self.reply_ids
            reply_data = f'{{"reply_id": {reply_id}}}'
            if not step("submit_draft", "review", drafted, public=False, data=reply_data):
                continue
            reply = [
                reply_id,
                letter_id,
                self.reply_texts[self.extra.randrange(500)],
                drafted - min(int(self.extra.expovariate(1 / (2 * HOUR))), drafted - started),
                drafted,
                None,
            ]
            row["replies"].append(reply)
            if not step("approve", "replied", replied, data=reply_data):
                continue
            reply[5] = replied
            rating_until = replied + RATING_DAYS * DAY
            row.update(
                replied_at=replied,
                rating_until=rating_until,
                first_replied_at=replied,
                reply_due_at=due,
                reply_department_id=row["department_id"],
                reply_working_days=self.working_days(submitted, replied),
            )
            if row["publish_consent"] and self.extra.random() < 0.3:
                published = replied + int(self.extra.expovariate(1 / (2 * DAY)))
                if published <= end:
                    row["published_at"] = published
            if rand() < 0.25:  # the writer rates the reply
                rated = replied + min(int(expo(1 / (3 * DAY))), RATING_DAYS * DAY - US)
                verdict = rand()
                rating = (
                    "satisfied"
                    if verdict < 0.8
                    else "basically_satisfied"
                    if verdict < 0.95
                    else "unsatisfied"
                )
                if not step("rate", "closed", rated, data=f'{{"rating": "{rating}"}}'):
                    continue
                self.rating_ids += 1
                row["ratings"].append((self.rating_ids, letter_id, reply_id, rating, rated))
                row["closed_at"] = rated
                if rating == "unsatisfied":
                    row["needs_follow_up"] = True
                    handled = rated + int(expo(1 / (2 * DAY)))
                    if rand() < 0.97 and step("close_unsatisfied", "closed", handled):
                        row["needs_follow_up"] = False
            else:
                if step("expire_rating", "closed", rating_until):
                    row["closed_at"] = rating_until


# --- loading ----------------------------------------------------------------------------------

LETTER_COLUMNS = (
    "id", "tracking_no", "query_code_hash", "channel", "state", "source", "title", "body",
    "writer_name", "writer_phone", "writer_email", "writer_address", "publish_consent", "locale",
    "challenge", "client_ip", "department_id", "duplicate_of_id", "submitted_at", "accepted_at",
    "due_at", "replied_at", "closed_at", "updated_at", "needs_follow_up", "rating_until",
    "first_replied_at", "reply_due_at", "reply_department_id", "reply_working_days",
    "published_at",
)  # fmt: skip
TIME_COLUMNS = frozenset(
    {
        "submitted_at",
        "accepted_at",
        "due_at",
        "replied_at",
        "closed_at",
        "updated_at",
        "rating_until",
        "first_replied_at",
        "reply_due_at",
        "published_at",
    }
)
EVENT_COLUMNS = (
    "letter_id", "kind", "from_state", "to_state", "actor_user_id", "is_public", "note", "data",
    "created_at",
)  # fmt: skip
REPLY_COLUMNS = ("id", "letter_id", "body", "created_at", "submitted_at", "released_at")
RATING_COLUMNS = ("id", "letter_id", "reply_id", "rating", "created_at")
TABLES = ("letters", "letter_events", "replies", "ratings")  # loaded, in this order


COLUMNS = {
    "letters": LETTER_COLUMNS,
    "letter_events": EVENT_COLUMNS,
    "replies": REPLY_COLUMNS,
    "ratings": RATING_COLUMNS,
}


def batches(
    model: Model, moment: Callable[[int], Any], boolean: Callable[[bool], Any]
) -> Iterator[dict[str, list[tuple[Any, ...]]]]:
    """Rows of each table (TABLES), CHUNK letters at a time, in the dialect's types."""
    rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in TABLES}
    letters, events, replies, ratings = (rows[table] for table in TABLES)
    pending: tuple[dict[str, Any], list[tuple[Any, ...]]] | None = None
    stream = model.letters()

    def finish(row: dict[str, Any], its_events: list[tuple[Any, ...]]) -> None:
        row["query_code_hash"] = QUERY_CODE_HASH
        letters.append(
            tuple(
                (moment(row[c]) if row[c] is not None else None)
                if c in TIME_COLUMNS
                else boolean(row[c])
                if c in ("publish_consent", "needs_follow_up")
                else row[c]
                for c in LETTER_COLUMNS
            )
        )
        events.extend(
            (lid, kind, frm, to, None, boolean(public), "", data, moment(at))
            for lid, kind, frm, to, public, data, at in its_events
        )
        replies.extend(
            (rid, lid, body, moment(saved), moment(sent), moment(out) if out else None)
            for rid, lid, body, saved, sent, out in row["replies"]
        )
        ratings.extend(
            (rid, lid, reply, rating, moment(at)) for rid, lid, reply, rating, at in row["ratings"]
        )

    # model.letters() yields each row before filling in its fate; it is complete when the
    # generator resumes for the next letter (or ends)
    for item in stream:
        if pending is not None:
            finish(*pending)
            if len(letters) >= CHUNK:
                yield rows
                rows = {table: [] for table in TABLES}
                letters, events, replies, ratings = (rows[table] for table in TABLES)
        pending = item
    if pending is not None:
        finish(*pending)
    if letters:
        yield rows


_DAYS: dict[int, str] = {}


def sqlite_moment(value: int) -> str:
    """The app's adapter's text: UTC, always microseconds, so that text order is time order
    (`2026-11-28T05:46:55.356486+00:00`), without a datetime per value."""
    day, rest = divmod(value, DAY)
    prefix = _DAYS.get(day)
    if prefix is None:
        prefix = _DAYS[day] = f"{date(1970, 1, 1) + timedelta(days=day):%Y-%m-%d}T"
    seconds, micro = divmod(rest, US)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{prefix}{hours:02d}:{minutes:02d}:{seconds:02d}.{micro:06d}+00:00"


def pg_moment(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def ensure_departments_sqlite(conn: sqlite3.Connection, now: str) -> list[tuple[int, str]]:
    conn.executemany(
        "INSERT INTO departments (code, name, created_at) VALUES (?, ?, ?)"
        " ON CONFLICT (code) DO NOTHING",
        [(code, name, now) for code, name in DEPARTMENTS],
    )
    codes = [code for code, _ in DEPARTMENTS]
    found = dict(
        (row[0], (row[1], row[2])) for row in conn.execute("SELECT code, id, name FROM departments")
    )
    return [found[code] for code in codes]


def load_sqlite(path: Path, args: argparse.Namespace, tz: ZoneInfo, end_us: int) -> dict[str, Any]:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")  # this connection, for the load only
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA cache_size=-1000000")  # 1 GB of page cache for the index builds
        conn.execute("PRAGMA temp_store=MEMORY")
        if conn.execute("SELECT EXISTS (SELECT 1 FROM letters)").fetchone()[0]:
            raise SystemExit(f"{path} already has letters; generate into an empty database")
        conn.execute("BEGIN IMMEDIATE")
        first = sqlite_moment(end_us - (args.days + 1) * DAY)
        departments = ensure_departments_sqlite(conn, first)
        reply_days = dict(conn.execute("SELECT code, reply_days FROM channels").fetchall())
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            f" AND tbl_name IN ({', '.join(repr(table) for table in TABLES)})"
        ).fetchall()
        for name, _sql in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        model = Model(
            count=args.letters,
            end_us=end_us,
            seed=args.seed,
            days=args.days,
            tz=tz,
            reply_days=reply_days,
            departments=departments,
            full_events=args.events == "full",
        )
        inserts = {
            table: f"INSERT INTO {table} ({', '.join(columns)})"
            f" VALUES ({', '.join('?' * len(columns))})"
            for table, columns in COLUMNS.items()
        }
        counts = dict.fromkeys(TABLES, 0)
        started = time.monotonic()
        for rows in batches(model, sqlite_moment, int):
            for table in TABLES:
                conn.executemany(inserts[table], rows[table])
                counts[table] += len(rows[table])
            progress(counts, args.letters, started)
        loaded = time.monotonic()
        for _name, sql in indexes:
            conn.execute(sql)
        conn.execute("COMMIT")
        indexed = time.monotonic()
        if args.analyze:
            conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return {
            **counts,
            "load_seconds": round(loaded - started, 1),
            "index_seconds": round(indexed - loaded, 1),
            "indexes_rebuilt": [name for name, _ in indexes],
        }
    finally:
        conn.close()


async def load_postgres(
    url: str, args: argparse.Namespace, tz: ZoneInfo, end_us: int
) -> dict[str, Any]:
    import asyncpg

    conn = await asyncpg.connect(dsn(url))
    try:
        if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM letters)"):
            raise SystemExit("the database already has letters; generate into an empty one")
        async with conn.transaction():
            created = pg_moment(end_us - (args.days + 1) * DAY)
            await conn.executemany(
                "INSERT INTO departments (code, name, created_at) VALUES ($1, $2, $3)"
                " ON CONFLICT (code) DO NOTHING",
                [(code, name, created) for code, name in DEPARTMENTS],
            )
            found = {
                r["code"]: (r["id"], r["name"])
                for r in await conn.fetch("SELECT code, id, name FROM departments")
            }
            departments = [found[code] for code, _ in DEPARTMENTS]
            reply_days = {
                r["code"]: r["reply_days"]
                for r in await conn.fetch("SELECT code, reply_days FROM channels")
            }
            # drop the loaded tables' plain indexes and foreign keys; recreate them after
            tables = ", ".join(f"'{table}'::regclass" for table in TABLES)
            indexes = await conn.fetch(
                "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS sql"
                f" FROM pg_index i WHERE i.indrelid IN ({tables}) AND NOT EXISTS"
                " (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
            )
            foreign = await conn.fetch(
                "SELECT conrelid::regclass::text AS tbl, conname AS name,"
                " pg_get_constraintdef(oid) AS sql FROM pg_constraint WHERE contype = 'f'"
                f" AND conrelid IN ({tables})"
            )
            for fk in foreign:
                await conn.execute(f'ALTER TABLE {fk["tbl"]} DROP CONSTRAINT "{fk["name"]}"')
            for index in indexes:
                await conn.execute(f"DROP INDEX {index['name']}")
            model = Model(
                count=args.letters,
                end_us=end_us,
                seed=args.seed,
                days=args.days,
                tz=tz,
                reply_days=reply_days,
                departments=departments,
                full_events=args.events == "full",
            )
            counts = dict.fromkeys(TABLES, 0)
            started = time.monotonic()
            for rows in batches(model, pg_moment, bool):
                for table in TABLES:
                    await conn.copy_records_to_table(
                        table, records=rows[table], columns=COLUMNS[table]
                    )
                    counts[table] += len(rows[table])
                progress(counts, args.letters, started)
            loaded = time.monotonic()
            await conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
            for index in indexes:
                await conn.execute(index["sql"])
            for fk in foreign:  # checks every row against its parent
                await conn.execute(
                    f'ALTER TABLE {fk["tbl"]} ADD CONSTRAINT "{fk["name"]}" {fk["sql"]}'
                )
            # explicit ids: move the identities on
            for table in ("letters", "departments", "replies", "ratings"):
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT max(id) FROM {table}))"
                )
            indexed = time.monotonic()
        # what autovacuum does soon after a bulk load: statistics, and the visibility map
        # that index-only scans rely on
        vacuumed = time.monotonic()
        await conn.execute(f"VACUUM (ANALYZE) {', '.join(TABLES)}, departments")
        return {
            **counts,
            "load_seconds": round(loaded - started, 1),
            "index_seconds": round(indexed - loaded, 1),
            "vacuum_seconds": round(time.monotonic() - vacuumed, 1),
            "indexes_rebuilt": [index["name"] for index in indexes],
            "foreign_keys_rechecked": [fk["name"] for fk in foreign],
        }
    finally:
        await conn.close()


def progress(counts: dict[str, int], total: int, started: float) -> None:
    done = counts["letters"]
    if done % 100_000 < CHUNK or done == total:
        rate = done / max(1e-9, time.monotonic() - started)
        print(
            f"  {done:>9,} letters, {counts['letter_events']:>10,} events,"
            f" {counts['replies']:>9,} replies, {counts['ratings']:>8,} ratings"
            f" ({rate:,.0f} letters/s)",
            file=sys.stderr,
            flush=True,
        )


def normalise_url(url: str) -> str:
    if url.startswith(("sqlite+aiosqlite:///", "postgresql://", "postgresql+asyncpg://")):
        return url
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    return f"sqlite+aiosqlite:///{Path(url).resolve()}"  # a bare file path


def generate(args: argparse.Namespace) -> dict[str, Any]:
    url = normalise_url(args.database_url)
    tz = ZoneInfo(args.timezone)
    end = datetime.fromisoformat(args.end) if args.end else datetime.now(UTC)
    if end.tzinfo is None:
        raise SystemExit("--end needs a time zone, e.g. 2026-11-28T12:00:00+08:00")
    end_us = (end - EPOCH) // timedelta(microseconds=1)
    started = time.monotonic()
    asyncio.run(migrate(url))
    if url.startswith("sqlite"):
        result = load_sqlite(sqlite_path(url), args, tz, end_us)
    else:
        result = asyncio.run(load_postgres(url, args, tz, end_us))
    result.update(
        database=url.split("@")[-1],
        end=end.astimezone(UTC).isoformat(),
        seed=args.seed,
        days=args.days,
        events=args.events,
        total_seconds=round(time.monotonic() - started, 1),
    )
    return result


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        required=True,
        help="sqlite+aiosqlite:///PATH (or a file path) or postgresql://user@host/db",
    )
    parser.add_argument("--letters", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--days", type=int, default=730, help="the span of submissions before --end (in days)"
    )
    parser.add_argument("--end", default="", help="the last moment (ISO 8601); default: now")
    parser.add_argument("--timezone", default="Asia/Shanghai", help="the office's time zone")
    parser.add_argument(
        "--events",
        choices=("full", "submitted"),
        default="full",
        help="every step's event (default) or only the submitted one",
    )
    parser.add_argument("--analyze", action="store_true", help="SQLite: run ANALYZE afterwards")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    result = generate(args)
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
