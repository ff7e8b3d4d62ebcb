"""The figures of DESIGN §5 for one group of letters: the counts the database adds up, and the
rates and averages made from them (exact, unrounded: rounding is for display)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

SECONDS_A_DAY = 86_400


@dataclass(frozen=True)
class Counts:
    received: int = 0
    accepted: int = 0
    rejected: int = 0
    replied: int = 0
    on_time: int = 0
    overdue_open: int = 0
    published: int = 0
    rated: int = 0
    satisfied: int = 0
    # Sums for the averages, over replied letters.
    reply_seconds: int = 0
    reply_working_days: int = 0
    with_working_days: int = 0  # replied letters whose working days are known

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    @property
    def awaiting_intake(self) -> int:
        return self.received - self.accepted - self.rejected

    @property
    def reply_rate(self) -> Fraction | None:
        return _ratio(self.replied, self.accepted)

    @property
    def response_rate(self) -> Fraction | None:
        return _ratio(self.replied + self.rejected, self.received)

    @property
    def on_time_rate(self) -> Fraction | None:
        return _ratio(self.on_time, self.replied)

    @property
    def satisfaction_rate(self) -> Fraction | None:
        return _ratio(self.satisfied, self.rated)

    @property
    def avg_days(self) -> Decimal | None:
        """Mean calendar days from submission to the first reply, to one decimal (half up)."""
        if not self.replied:
            return None
        return _one_decimal(Fraction(self.reply_seconds, self.replied * SECONDS_A_DAY))

    @property
    def avg_working_days(self) -> Decimal | None:
        if not self.with_working_days:
            return None
        return _one_decimal(Fraction(self.reply_working_days, self.with_working_days))

    def figures(self) -> dict[str, int | float | None]:
        """Every figure of DESIGN §5 by its name: counts, rates as fractions in 0..1, averages."""
        rates = {
            "reply_rate": self.reply_rate,
            "response_rate": self.response_rate,
            "on_time_rate": self.on_time_rate,
            "satisfaction_rate": self.satisfaction_rate,
        }
        averages = {"avg_days": self.avg_days, "avg_working_days": self.avg_working_days}
        return {
            "received": self.received,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "awaiting_intake": self.awaiting_intake,
            "replied": self.replied,
            "reply_rate": _float(rates["reply_rate"]),
            "response_rate": _float(rates["response_rate"]),
            "on_time": self.on_time,
            "on_time_rate": _float(rates["on_time_rate"]),
            "overdue_open": self.overdue_open,
            "avg_days": _float(averages["avg_days"]),
            "avg_working_days": _float(averages["avg_working_days"]),
            "published": self.published,
            "rated": self.rated,
            "satisfied": self.satisfied,
            "satisfaction_rate": _float(rates["satisfaction_rate"]),
        }


def _ratio(part: int, whole: int) -> Fraction | None:
    return Fraction(part, whole) if whole else None


def _one_decimal(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def _float(value: Fraction | Decimal | None) -> float | None:
    return None if value is None else float(value)


def percent(rate: Fraction | float | None, decimals: int = 1) -> str:
    """A rate as people write it: rounded half up, without a trailing .0 ("89.5%", "100%")."""
    if rate is None:
        return "–"
    exact = Fraction(rate) * 100
    step = Decimal(1).scaleb(-decimals)
    shown = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
        step, rounding=ROUND_HALF_UP
    )
    text = f"{shown:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


FIGURE_NAMES = tuple(Counts().figures())
RATE_NAMES = ("reply_rate", "response_rate", "on_time_rate", "satisfaction_rate")
