"""Charts: light SVG for pages (:mod:`.svg`), matplotlib images for the PNG/SVG downloads and
the Word briefing (:mod:`.images`), and the question charts (:mod:`.question_charts`)."""
