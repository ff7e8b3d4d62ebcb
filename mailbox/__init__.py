"""The public inquiry mailbox: citizens' letters to a government department."""

__version__ = "0.1.0"
