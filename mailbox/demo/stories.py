"""Each demo letter's life, told step by step through the real services, on its own clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from random import Random
from typing import TypedDict
from zoneinfo import ZoneInfo

from mailbox.clock import Clock, FixedClock
from mailbox.db.database import Database
from mailbox.db.queries.channels import ChannelRow
from mailbox.demo import texts
from mailbox.demo.office import OfficeHours
from mailbox.demo.plan import Extension, FollowUp, Intake, LetterPlan, Stop
from mailbox.demo.scheduler import Scheduler
from mailbox.demo.staff import Staff
from mailbox.demo.writing import (
    ReplyFor,
    corrected_text,
    department_name,
    letter_input,
    letter_text,
    new_writer,
    repeat_text,
    reply_text,
    spam_text,
    topic_of,
)
from mailbox.domain.states import Source
from mailbox.services import handling, intake
from mailbox.services.handling import Rating
from mailbox.services.submission import submit_letter
from mailbox.services.transitions import Actor
from mailbox.settings import Settings

INTAKE_GAPS = {0: 40, 1: 40, 2: 14, 3: 4, 5: 2}  # working days from submission to intake


class Acting(TypedDict):
    """The arguments of a staff member's step on this letter."""

    db: Database
    clock: Clock
    actor: Actor
    tracking_no: str


@dataclass(frozen=True)
class Demo:
    """What every story shares."""

    db: Database
    settings: Settings
    scheduler: Scheduler
    hours: OfficeHours
    staff: Staff
    channels: dict[str, ChannelRow]
    seed: int


class LetterStory:
    def __init__(self, demo: Demo, plan: LetterPlan) -> None:
        self.demo = demo
        self.plan = plan
        self.rng = Random(f"{demo.seed}/{plan.index}")
        self.clock = FixedClock(plan.submitted_at)
        self.topic = topic_of(plan.department, plan.topic)
        self.writer = new_writer(self.rng)
        spam = plan.intake is Intake.SPAM
        self.title, self.body = (
            spam_text(self.rng) if spam else letter_text(self.rng, self.topic, plan.channel)
        )
        self.department = plan.wrong_department or plan.department  # where it is now
        self.tracking_no = ""
        self.due_at: datetime | None = None
        self.replied_at = plan.submitted_at  # of the latest reply

    async def run(self) -> None:
        plan, staff = self.plan, self.demo.staff
        await self._at(plan.submitted_at)
        self.tracking_no = await self._submit(self.title, self.body, self.clock)
        if plan.repeat:
            self.demo.scheduler.spawn(self._repeat())
        if plan.stop is Stop.PENDING or not await self._intake():
            return
        if plan.stop is Stop.ASSIGNED:
            return
        if plan.wrong_department:
            await self._office(1)
            right = texts.RETURN_REASON.format(department=department_name(plan.department))
            await handling.return_to_office(
                **self._as(staff.handlers[self.department]), reason=right
            )
            if plan.stop is Stop.RETURNED:
                return
            await self._office(self.rng.choice((0, 1)))
            self.department = plan.department
            await intake.reassign(
                **self._as(staff.dispatcher), department_id=staff.department_ids[self.department]
            )
        if plan.extension and not await self._extension(plan.extension is Extension.GRANTED):
            return
        if not await self._answer(late=plan.late, sent_back=plan.sent_back):
            return
        if plan.corrected:
            await self._office(1)
            await handling.correct_reply(
                **self._as(staff.reviewers[self.department]),
                body=corrected_text(self._reply_for(), self.topic),
                note=texts.CORRECTION_NOTE,
            )
        if plan.rating is not None:  # else nobody rates, and the rating window expires
            await self._follow_up(plan.rating)

    async def _intake(self) -> bool:
        """Accepted: True; rejected or left as spam: False."""
        plan, dispatcher = self.plan, self.demo.staff.dispatcher
        gaps = list(INTAKE_GAPS)
        await self._office(self.rng.choices(gaps, weights=list(INTAKE_GAPS.values()))[0])
        if plan.intake is Intake.REJECT:
            await intake.reject(**self._as(dispatcher), reason_code=plan.reject_reason)
            return False
        if plan.intake in (Intake.SPAM, Intake.SPAM_RESTORED):
            await intake.mark_spam(**self._as(dispatcher))
            if plan.intake is Intake.SPAM:
                return False
            await self._office(self.rng.randint(1, 3))
            await intake.restore(**self._as(dispatcher))
            await self._office(0)
        self.due_at = await intake.accept(
            **self._as(dispatcher),
            settings=self.demo.settings,
            department_id=self.demo.staff.department_ids[self.department],
        )
        return True

    async def _extension(self, grant: bool) -> bool:
        staff = self.demo.staff
        await self._office(self.rng.choice((1, 2)))
        request_id = await handling.request_extension(
            **self._as(staff.handlers[self.department]),
            working_days=self.rng.randint(5, 10),
            reason=self.rng.choice(texts.EXTENSION_REASONS),
        )
        if self.plan.stop is Stop.EXTENSION:
            return False
        await self._office(self.rng.choice((0, 1)))
        due_at = await handling.decide_extension(
            self.demo.db,
            settings=self.demo.settings,
            clock=self.clock,
            actor=staff.dispatcher,
            request_id=request_id,
            grant=grant,
            note=self.rng.choice(texts.GRANT_NOTES if grant else texts.REFUSE_NOTES),
        )
        self.due_at = due_at or self.due_at
        return True

    async def _answer(self, *, late: bool, sent_back: bool, again: bool = False) -> bool:
        """Draft, review and release; False when the letter stops in review."""
        hours, handler = self.demo.hours, self.demo.staff.handlers[self.department]
        reviewer = self.demo.staff.reviewers[self.department]
        reviewed = self.demo.channels[self.plan.channel].review_required
        release_day = self._release_day(late)
        first = hours.working_day(hours.day_of(self._now()), 1)
        steps = (2 if sent_back else 1) if reviewed else 0
        await self._at(
            hours.at_office(max(first, hours.working_day(release_day, -steps)), self.rng)
        )
        text = reply_text(self._reply_for(), self.topic, again=again)
        await handling.save_draft(**self._as(handler), body=text)
        if not reviewed:
            await handling.release_directly(**self._as(handler), settings=self.demo.settings)
            self.replied_at = self._now()
            return True
        await handling.submit_for_review(**self._as(handler))
        if self.plan.stop is Stop.REVIEW:
            return False
        if sent_back:
            await self._office(1)
            comment = self.rng.choice(texts.SEND_BACK_COMMENTS)
            await handling.send_back(**self._as(reviewer), comment=comment)
            await self._office(0)
            await handling.save_draft(**self._as(handler), body=f"{text}\n（已按审核意见修改）")
            await handling.submit_for_review(**self._as(handler))
        if hours.day_of(self._now()) < release_day:
            await self._at(hours.at_office(release_day, self.rng))
        else:
            await self._office(0)
        await handling.approve(**self._as(reviewer), settings=self.demo.settings)
        self.replied_at = self._now()
        return True

    def _release_day(self, late: bool) -> date:
        hours = self.demo.hours
        first = hours.working_day(hours.day_of(self._now()), 1)
        if self.plan.stop is not None:
            return first
        assert self.due_at is not None
        due_day = hours.day_of(self.due_at - timedelta(seconds=1))
        if late:
            return hours.working_day(due_day, self.rng.randint(1, 8))
        if first >= due_day:
            return first
        spare = hours.calendar.working_days_between(first, due_day)
        return hours.working_day(first, self.rng.randint(0, spare))

    async def _follow_up(self, rating: Rating, *, again: bool = False) -> None:
        """The writer rates; after 不满意 the office reopens the letter or closes it with a
        note (always the latter when the second answer is not liked either)."""
        plan, dispatcher = self.plan, self.demo.staff.dispatcher
        if not await self._rate(rating) or rating is not Rating.UNSATISFIED:
            return
        follow_up = FollowUp.CLOSE if again else plan.follow_up
        if plan.stop is Stop.FOLLOW_UP or follow_up is None:
            return
        await self._office(self.rng.choice((1, 2)))
        if follow_up is FollowUp.CLOSE:
            note = self.rng.choice(texts.CLOSE_NOTES)
            await handling.close_with_note(**self._as(dispatcher), note=note)
            return
        self.due_at = await handling.reopen(
            **self._as(dispatcher),
            settings=self.demo.settings,
            note=self.rng.choice(texts.REOPEN_NOTES),
        )
        if await self._answer(late=False, sent_back=False, again=True) and plan.second_rating:
            await self._follow_up(plan.second_rating, again=True)

    async def _rate(self, rating: Rating) -> bool:
        """The writer rates within the rating window, at any hour; False if it is too late."""
        if self.plan.stop is not None:
            await self._office(1)
        else:
            window_ends = self.replied_at + timedelta(days=self.demo.settings.rating_days)
            latest = min(self._now() + timedelta(days=12), window_ends - timedelta(hours=1))
            seconds = int((latest - self._now()).total_seconds() * self.rng.uniform(0.02, 1))
            if seconds < 60:
                return False
            await self._at(self._now() + timedelta(seconds=seconds))
        await handling.rate(
            self.demo.db,
            clock=self.clock,
            tracking_no=self.tracking_no,
            rating=rating,
            comment=self.rng.choice(texts.RATING_COMMENTS[rating]),
        )
        return True

    async def _repeat(self) -> None:
        """The writer sends the same letter again; the dispatcher merges it into the first."""
        rng = Random(f"{self.demo.seed}/{self.plan.index}/repeat")
        clock = FixedClock(self._now())  # a story of its own, beside the first letter's
        hours, scheduler = self.demo.hours, self.demo.scheduler
        day = hours.day_of(clock.now()) + timedelta(days=rng.randint(1, 5))
        await scheduler.at(clock, hours.writer_time(day, rng))
        title, body = repeat_text(self.title, self.body, self.plan.submitted_at, self._tz())
        repeat_no = await self._submit(title, body, clock)
        await scheduler.at(clock, hours.after(clock.now(), rng.choice((0, 1)), rng))
        await intake.merge(
            self.demo.db,
            clock=clock,
            actor=self.demo.staff.dispatcher,
            tracking_no=repeat_no,
            original_tracking_no=self.tracking_no,
        )

    async def _submit(self, title: str, body: str, clock: FixedClock) -> str:
        plan, writer = self.plan, self.writer
        receipt = await submit_letter(
            self.demo.db,
            settings=self.demo.settings,
            clock=clock,
            channel=self.demo.channels[plan.channel],
            letter=letter_input(writer, title, body, plan.publish_consent),
            source=plan.source,
            locale="zh_CN",
            client_ip=writer.client_ip if plan.source is Source.WEB else "",
            challenge="off",
        )
        return receipt.tracking_no

    def _reply_for(self) -> ReplyFor:
        channel = self.demo.channels[self.plan.channel]
        return ReplyFor(
            self.writer.name,
            self.title,
            channel.code,
            channel.name,
            self.department,
            self.plan.submitted_at,
            self._tz(),
        )

    def _as(self, actor: Actor) -> Acting:
        return Acting(db=self.demo.db, clock=self.clock, actor=actor, tracking_no=self.tracking_no)

    async def _office(self, working_days: int) -> None:
        """Wait for office time, `working_days` on; a letter of the last days never waits
        longer than the next working day."""
        days = 1 if self.plan.stop is not None else working_days
        await self._at(self.demo.hours.after(self._now(), days, self.rng))

    async def _at(self, moment: datetime) -> None:
        await self.demo.scheduler.at(self.clock, moment)

    def _now(self) -> datetime:
        return self.clock.now()

    def _tz(self) -> ZoneInfo:
        return self.demo.settings.tz


DAILY_JOB = time(0, 30)


async def rating_windows(demo: Demo, first_day: date) -> None:
    """The daily job that closes letters whose rating window has ended."""
    day = first_day
    clock = FixedClock(datetime.combine(day, time(0), demo.settings.tz))
    while True:
        await demo.scheduler.at(clock, datetime.combine(day, DAILY_JOB, demo.settings.tz))
        await handling.close_unrated(demo.db, clock=clock)
        day += timedelta(days=1)


def next_daily_job(moment: datetime, tz: ZoneInfo) -> datetime:
    """The scheduler's windows run from one daily job to the next. Stories are independent
    within a day: each acts on its own letters, a writer rates at least an hour before the
    rating window ends, and the daily job closes only letters whose window ended before it
    ran, which their stories no longer touch."""
    local = moment.astimezone(tz)
    day = local.date() + timedelta(days=local.time() >= DAILY_JOB)
    return datetime.combine(day, DAILY_JOB, tz)
