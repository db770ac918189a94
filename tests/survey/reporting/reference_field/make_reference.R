# Reference values for tests/survey/reporting/test_field_estimates_vs_r.py.
#
# Run from this directory after `python make_sample.py`:  Rscript make_reference.R
# The mock assessment's design: strata = district, PSU = drawn community, probs = p, then
# post-stratified to the population by age group x sex. Writes reference.csv (long: by,
# key, outcome, stat, value with %.17g) and versions.txt.
suppressMessages(library(survey))
d <- read.csv("sample.csv", stringsAsFactors = FALSE)
pop <- read.csv("population.csv", stringsAsFactors = FALSE)
names(pop)[names(pop) == "N"] <- "Freq"
des <- svydesign(ids = ~community, strata = ~district, probs = ~p, data = d)
ps <- postStratify(des, ~age_group + sex, pop)

rows <- list()
emit <- function(by, key, outcome, est, se) {
  rows[[length(rows) + 1]] <<- data.frame(
    by = by, key = key, outcome = outcome,
    stat = c("estimate", "se"), value = sprintf("%.17g", c(est, se)))
}
for (m in c("awareness", "participation", "satisfaction", "satisfaction_score")) {
  f <- as.formula(paste0("~", m))
  r <- svymean(f, ps, na.rm = TRUE)
  emit("all", "all", m, coef(r)[[1]], SE(r)[[1]])
  b <- svyby(f, ~district, ps, svymean, na.rm = TRUE)
  for (i in seq_len(nrow(b))) emit("district", b$district[i], m, b[i, m], SE(b)[i])
}
write.csv(do.call(rbind, rows), "reference.csv", row.names = FALSE, quote = FALSE)
writeLines(c(R.version.string, paste("survey", packageVersion("survey"))), "versions.txt")
