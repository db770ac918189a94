"""From answers to a problem list (issue 27): weak spots (:mod:`.weak_spots`: satisfaction
items x streets significantly below the city), residents' comments by topic
(:mod:`.comment_topics`), "did it get better" (:mod:`.effect`: before/after a problem's
deadline), the ledger's XLSX (:mod:`.ledger_xlsx`) and the staff-facing entry points within
a user's scope (:mod:`.ledger_pages`). The ledger's rows and rules are
:mod:`survey.services.problems`."""
