"""What each figure means (DESIGN §5), in both languages: shown on the report page, in the
XLSX export's definitions sheet and on /stats."""

from __future__ import annotations

# name → ((Chinese name, Chinese definition), (English name, English definition))
DEFINITIONS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "received": (
        ("收到", "期间内提交的来信，不含垃圾信件和已合并的重复来信。"),
        ("Received", "Letters submitted in the period, without spam and merged duplicates."),
    ),
    "accepted": (
        ("受理", "收到的来信中截至统计时点已受理的；受理后重办的仍只计一次。"),
        ("Accepted", "Of those, accepted by the as-of moment; a reopened letter counts once."),
    ),
    "rejected": (
        ("不予受理", "收到的来信中截至统计时点不予受理的。"),
        ("Rejected", "Of those, rejected by the as-of moment."),
    ),
    "awaiting_intake": (
        ("待受理", "收到 − 受理 − 不予受理。"),
        ("Awaiting intake", "Received − accepted − rejected."),
    ),
    "replied": (
        ("答复/办结", "已受理且截至统计时点已发出答复的来信（以首次答复为准）。"),
        ("Replied", "Accepted letters whose (first) reply was released by the as-of moment."),
    ),
    "reply_rate": (
        ("回复率", "答复 ÷ 受理。"),
        ("Reply rate", "Replied ÷ accepted."),
    ),
    "response_rate": (
        ("答复率（含不予受理告知）", "（答复 + 不予受理）÷ 收到。"),
        ("Response rate", "(Replied + rejected) ÷ received."),
    ),
    "on_time": (
        ("按时答复", "首次答复时间不晚于当时有效的答复期限（含已批准的延期）的来信。"),
        (
            "On time",
            "Replied no later than the deadline in force then (after granted extensions).",
        ),
    ),
    "on_time_rate": (
        ("按时答复率", "按时答复 ÷ 答复。"),
        ("On-time rate", "On time ÷ replied."),
    ),
    "overdue_open": (
        ("超期未答复", "已受理、截至统计时点未答复且已过答复期限的来信。"),
        ("Overdue, open", "Accepted, not replied by the as-of moment, past the deadline."),
    ),
    "avg_days": (
        ("平均办理时间（天）", "从提交到首次答复的平均自然日数，保留一位小数。"),
        (
            "Average days",
            "Mean calendar days from submission to the first reply, to one decimal.",
        ),
    ),
    "avg_working_days": (
        ("平均办理工作日", "同上，按工作日计算。"),
        ("Average working days", "The same in working days."),
    ),
    "published": (
        ("公开答复数量", "经来信人同意、截至统计时点已公开的答复。"),
        ("Published", "Replied letters published (with consent) by the as-of moment."),
    ),
    "rated": (
        ("评价数", "截至统计时点收到的评价（重办后再次评价的另计一次）。"),
        ("Ratings", "Ratings given by the as-of moment (a reopened letter may be rated twice)."),
    ),
    "satisfied": (
        ("满意数", "评价中“满意”和“基本满意”的数量。"),
        ("Satisfied", "Ratings of 满意 (satisfied) and 基本满意 (basically satisfied)."),
    ),
    "satisfaction_rate": (
        ("满意率", "满意数 ÷ 评价数。"),
        ("Satisfaction rate", "Satisfied ÷ ratings."),
    ),
}
