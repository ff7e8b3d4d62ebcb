"""Files sent with letters and replies: what they are (inspect), where they live (store)."""
