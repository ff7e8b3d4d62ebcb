"""`python -m mailbox demo`: an empty database filled with an office and a year of letters."""
