"""Question statistics: per-option shares and means (:mod:`.stats` over :mod:`.frame`),
cross-tabulations (:mod:`.crosstab`), free-text answers (:mod:`.free_text`), their result
types (:mod:`.results`) and the staff-facing entry points within a user's scope
(:mod:`.pages`)."""
