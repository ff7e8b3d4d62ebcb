"""Publication: the public copies of letters, and the words that call for attention first."""
