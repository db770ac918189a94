"""Files: the report tables (:mod:`.tables`) written as XLSX (:mod:`.xlsx`), CSV and JSON
(:mod:`.files`), the Word/HTML briefing (:mod:`.briefing`), and the raw responses as CSV,
SPSS and Stata (:mod:`.raw`, :mod:`.stat_files`)."""
