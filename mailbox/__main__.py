"""`python -m mailbox`: the command line."""

from mailbox.cli import main

raise SystemExit(main())
