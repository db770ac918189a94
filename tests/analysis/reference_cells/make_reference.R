# Reference values for post-stratification with small cells (issue 12, item 2): what R's
# postStratify gives when some cells have fewer than 5 respondents. R merges nothing.
# Run from the repository root:
#   Rscript tests/analysis/reference_cells/make_reference.R
# It rewrites small_cells_r.csv in this folder (values %.17g; the first line records the R
# and survey versions).
#
# Data: tests/analysis/reference/survey.csv with cell F/18-34/m cut to its first 3 rows
# and cell E/60+/m cut to its first 2 rows (file order), population.csv as it is.
#   des <- svydesign(ids = ~point, strata = ~district, weights = ~weight, data = d)
#   ps  <- postStratify(des, ~district + age_group + gender, pop)
#   svymean(~aware, ps, na.rm = TRUE) overall and svymean(~aware, ps[district == k, ],
#   na.rm = TRUE) per district (the svyby domains), with survey.lonely.psu = "adjust".
suppressMessages(library(survey))
here <- "tests/analysis/reference_cells"
d <- read.csv("tests/analysis/reference/survey.csv", stringsAsFactors = FALSE)
pop <- read.csv("tests/analysis/reference/population.csv", stringsAsFactors = FALSE)
names(pop)[names(pop) == "N"] <- "Freq"

cut_cell <- function(d, district, age_group, gender, keep) {
  idx <- which(d$district == district & d$age_group == age_group & d$gender == gender)
  drop <- idx[-seq_len(keep)]
  if (length(drop)) d[-drop, ] else d
}
d <- cut_cell(d, "F", "18-34", "m", 3)
d <- cut_cell(d, "E", "60+", "m", 2)

options(survey.lonely.psu = "adjust")
des <- svydesign(ids = ~point, strata = ~district, weights = ~weight, data = d)
ps <- postStratify(des, ~district + age_group + gender, pop)

rows <- list()
emit <- function(key, m) {
  rows[[length(rows) + 1]] <<- data.frame(
    key = key, n_rows = nrow(d), estimate = sprintf("%.17g", as.numeric(coef(m))),
    se = sprintf("%.17g", as.numeric(SE(m))), stringsAsFactors = FALSE)
}
emit("all", svymean(~aware, ps, na.rm = TRUE))
for (k in sort(unique(d$district))) {
  emit(k, svymean(~aware, ps[d$district == k, ], na.rm = TRUE))
}
out <- do.call(rbind, rows)
path <- file.path(here, "small_cells_r.csv")
writeLines(paste0("# made by ", R.version.string, ", survey ",
                  as.character(packageVersion("survey"))), path)
suppressWarnings(write.table(out, path, sep = ",", row.names = FALSE, append = TRUE))
