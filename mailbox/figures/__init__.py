"""The yearly figures of DESIGN §5: the period, the counts, how they are shown and exported."""
