"""What happens to each demo letter, decided up front from the seed: a pure function."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from random import Random
from typing import Any

from mailbox.demo.office import OfficeHours
from mailbox.demo.texts import DEPARTMENTS
from mailbox.domain.states import Channel, Source
from mailbox.services.handling import Rating

MIN_LETTERS_A_YEAR = 50  # room for every path below and some ordinary letters


class Intake(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    SPAM = "spam"
    SPAM_RESTORED = "spam_restored"  # marked as spam by mistake, restored, then accepted


class Extension(StrEnum):
    GRANTED = "granted"
    REFUSED = "refused"


class FollowUp(StrEnum):
    REOPEN = "reopen"
    CLOSE = "close"


class Stop(StrEnum):
    """Where a letter of the last days stops, so that the end shows every open state."""

    PENDING = "pending"
    ASSIGNED = "assigned"
    RETURNED = "returned"
    EXTENSION = "extension"  # an extension request waits for the dispatcher
    REVIEW = "review"
    REPLIED = "replied"
    FOLLOW_UP = "follow_up"  # rated 不满意, waiting for the dispatcher


@dataclass(frozen=True)
class LetterPlan:
    index: int
    submitted_at: datetime
    channel: Channel
    department: str  # the code of the department whose topic the letter is about
    topic: int
    source: Source
    publish_consent: bool
    intake: Intake = Intake.ACCEPT
    reject_reason: str = ""
    repeat: bool = False  # the writer writes again a few days later; the repeat is merged
    wrong_department: str | None = None  # accepted there first, returned, reassigned
    extension: Extension | None = None
    sent_back: bool = False  # by review, once
    late: bool = False
    corrected: bool = False
    rating: Rating | None = None  # None: nobody rates, the rating window expires
    follow_up: FollowUp | None = None  # after 不满意
    second_rating: Rating | None = None  # of the reply after reopening
    stop: Stop | None = None  # a letter of the last days: each step on the next working day


# Every path at least once, in the previous year so that it has run its course by today.
SHOWCASE: tuple[dict[str, Any], ...] = (
    {"intake": Intake.REJECT, "reject_reason": "not_ours"},
    {"intake": Intake.REJECT, "reject_reason": "unclear"},
    {"intake": Intake.REJECT, "reject_reason": "in_litigation"},
    {"intake": Intake.REJECT, "reject_reason": "petition"},
    {"intake": Intake.SPAM},
    {"intake": Intake.SPAM_RESTORED, "rating": Rating.SATISFIED},
    {"repeat": True, "rating": Rating.SATISFIED},
    {"rating": Rating.SATISFIED},
    {"late": True, "rating": Rating.BASICALLY_SATISFIED},
    {"extension": Extension.GRANTED, "rating": Rating.SATISFIED},
    {"extension": Extension.REFUSED, "late": True},
    {"wrong_department": "", "rating": Rating.BASICALLY_SATISFIED},  # "": pick one
    {"sent_back": True, "channel": Channel.DIRECTOR, "rating": Rating.SATISFIED},
    {"channel": Channel.CONSULT, "rating": Rating.SATISFIED},  # released without review
    {
        "rating": Rating.UNSATISFIED,
        "follow_up": FollowUp.REOPEN,
        "second_rating": Rating.SATISFIED,
    },
    {"rating": Rating.UNSATISFIED, "follow_up": FollowUp.CLOSE},
    {"corrected": True, "rating": Rating.BASICALLY_SATISFIED},
)
# The last working days: letters stopped in each open state. (stop, steps before it)
TAIL: tuple[tuple[Stop, int], ...] = (
    (Stop.PENDING, 0),
    (Stop.PENDING, 0),
    (Stop.ASSIGNED, 1),
    (Stop.RETURNED, 2),
    (Stop.EXTENSION, 2),
    (Stop.REVIEW, 2),
    (Stop.REPLIED, 3),
    (Stop.FOLLOW_UP, 4),
)

CHANNELS = {
    Channel.DIRECTOR: 45,
    Channel.CONSULT: 30,
    Channel.COMPLAINT: 14,
    Channel.SUGGESTION: 11,
}
SOURCES = {Source.WEB: 86, Source.POST: 5, Source.PHONE: 6, Source.VISIT: 3}
INTAKES = {Intake.ACCEPT: 84, Intake.REJECT: 10, Intake.SPAM: 5, Intake.SPAM_RESTORED: 1}
REJECT_REASONS = {
    "not_ours": 40,
    "unclear": 20,
    "petition": 15,
    "in_litigation": 10,
    "duplicate": 10,
    "abusive": 5,
}
RATINGS: dict[Rating | None, int] = {
    None: 40,
    Rating.SATISFIED: 38,
    Rating.BASICALLY_SATISFIED: 14,
    Rating.UNSATISFIED: 8,
}


def _pick(rng: Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def plan_letters(
    *, seed: int, letters_a_year: int, start: date, end: datetime, hours: OfficeHours
) -> list[LetterPlan]:
    """The letters submitted from `start` to the day before `end`, in submission order."""
    if letters_a_year < MIN_LETTERS_A_YEAR:
        raise ValueError(f"at least {MIN_LETTERS_A_YEAR} letters a year")
    rng = Random(seed)
    year_ends = datetime.combine(date(start.year + 1, 1, 1), time(0), hours.tz)
    last = hours.day_of(end) - timedelta(days=1)
    days = [start + timedelta(days=n) for n in range((last - start).days + 1)]
    total = round(letters_a_year * len(days) / 365)
    weights = [1.0 if hours.is_working_day(day) else 0.3 for day in days]
    moments = sorted(
        hours.writer_time(day, rng)
        for day in rng.choices(days, weights=weights, k=total - len(TAIL))
    )
    plans = [_ordinary(rng, index, moment) for index, moment in enumerate(moments)]
    _showcase(rng, plans, [n for n, plan in enumerate(plans) if plan.submitted_at < year_ends])
    plans += _tail(rng, len(plans), hours, end)
    return sorted(plans, key=lambda plan: plan.submitted_at)


def _ordinary(rng: Random, index: int, moment: datetime) -> LetterPlan:
    channel = _pick(rng, CHANNELS)
    department = _pick(rng, {d.code: d.weight for d in DEPARTMENTS})
    topics = next(d.topics for d in DEPARTMENTS if d.code == department)
    plan = LetterPlan(
        index=index,
        submitted_at=moment,
        channel=channel,
        department=department,
        topic=rng.randrange(len(topics)),
        source=_pick(rng, SOURCES),
        publish_consent=rng.random() < 0.35,
        intake=_pick(rng, INTAKES),
    )
    if plan.intake is Intake.REJECT:
        return replace(plan, reject_reason=_pick(rng, REJECT_REASONS))
    if plan.intake is Intake.SPAM:
        return plan
    rating = _pick(rng, RATINGS)
    unsatisfied = rating is Rating.UNSATISFIED
    extension = rng.random() < 0.08
    return replace(
        plan,
        repeat=rng.random() < 0.03,
        wrong_department=_other(rng, department) if rng.random() < 0.06 else None,
        extension=(rng.choice(list(Extension)) if extension else None),
        sent_back=rng.random() < 0.12,
        late=rng.random() < 0.1,
        corrected=rng.random() < 0.02,
        rating=rating,
        follow_up=rng.choice(list(FollowUp)) if unsatisfied else None,
        second_rating=_pick(rng, RATINGS) if unsatisfied else None,
    )


def _other(rng: Random, department: str) -> str:
    return rng.choice([d.code for d in DEPARTMENTS if d.code != department])


def _plain(plan: LetterPlan, channel: Channel | None = None) -> LetterPlan:
    """The same letter, accepted and answered on time, nothing else."""
    return LetterPlan(
        plan.index,
        plan.submitted_at,
        channel or plan.channel,
        plan.department,
        plan.topic,
        plan.source,
        plan.publish_consent,
    )


def _showcase(rng: Random, plans: list[LetterPlan], previous_year: list[int]) -> None:
    """Give letters spread over most of the previous year one showcase path each."""
    spread = len(previous_year) * 0.65 / len(SHOWCASE)
    chosen = [
        previous_year[int(len(previous_year) * 0.05 + n * spread)] for n in range(len(SHOWCASE))
    ]
    if len(set(chosen)) < len(SHOWCASE):
        raise ValueError("too few letters in the previous year for every path")
    for index, override in zip(chosen, SHOWCASE, strict=True):
        plan = _plain(plans[index], Channel.DIRECTOR)  # reviewed, unless the path says otherwise
        if override.get("wrong_department") == "":
            override = {**override, "wrong_department": _other(rng, plan.department)}
        plans[index] = replace(plan, **override)


def _tail(rng: Random, first_index: int, hours: OfficeHours, end: datetime) -> list[LetterPlan]:
    today = hours.day_of(end)
    plans = []
    for number, (stop, steps) in enumerate(TAIL):
        day = hours.working_day(today, -(steps + 1))
        plan = _plain(_ordinary(rng, first_index + number, hours.at_office(day, rng)))
        plans.append(
            replace(
                plan,
                channel=Channel.DIRECTOR,  # a reviewed channel, for the review stop
                wrong_department=_other(rng, plan.department) if stop is Stop.RETURNED else None,
                extension=Extension.GRANTED if stop is Stop.EXTENSION else None,
                rating=Rating.UNSATISFIED if stop is Stop.FOLLOW_UP else None,
                stop=stop,
            )
        )
    return plans
