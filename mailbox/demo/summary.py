"""What the demo command prints once it is done: what was made and how to log in."""

from __future__ import annotations

from mailbox.demo.fill import DemoResult
from mailbox.demo.staff import WITHOUT_REVIEW
from mailbox.domain.states import LetterState


def describe(result: DemoResult, base_url: str) -> str:
    states = ", ".join(
        f"{state} {result.states[state]}" for state in LetterState if result.states.get(state)
    )
    width = max(len(account.username) for account in result.accounts)
    users = "\n".join(
        f"    {account.username:<{width}}  {account.job}" for account in result.accounts
    )
    return f"""\
Demo data: {result.departments} departments, {len(result.accounts)} staff accounts and \
{result.letters} letters submitted from {result.first_day} to {result.last_day} \
(made in {result.seconds:.1f} s).
Letters by state now: {states}.
Replies to the {WITHOUT_REVIEW} channel go out without review, to show both ways.
The {result.mails} mails the demo queued to its fictional writers and staff are marked as \
sent: nothing is mailed.

Log in at {base_url}/staff/login as one of
{users}
with this password (all demo accounts share it; it is shown only now):

    {result.password}

Then look at {base_url}/staff/reports for the yearly figures and {base_url}/stats for the \
public ones.
"""
