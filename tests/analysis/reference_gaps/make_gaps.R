# Reference values for analysis.svy_gaps: gap of each channel's mean to the overall mean.
# Run from this directory: Rscript make_gaps.R  (reads ../reference/survey.csv and
# ../reference/population.csv, writes gaps.csv and versions.txt)
#
# The gap m_g - m is the nonlinear contrast of four totals over the WHOLE design (no
# subsetting), so R linearises it with the calibration residuals of the totals:
#   svycontrast(svytotal(~yg + ig + ya + ia), quote(yg / ig - ya / ia))
# with ya = y (0 where missing), ia = 1 where y is observed, yg = ya * [channel == g],
# ig = ia * [channel == g] (available-case means, as na.rm = TRUE).
suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")
data <- read.csv("../reference/survey.csv", stringsAsFactors = FALSE)
pop <- read.csv("../reference/population.csv", stringsAsFactors = FALSE)
plain <- svydesign(ids = ~point, strata = ~district, weights = ~weight, data = data)
ps <- postStratify(plain, ~district + age_group + gender,
                   pop[, c("district", "age_group", "gender", "N")] |> setNames(c("district", "age_group", "gender", "Freq")))
designs <- list(plain = plain, ps = ps)
rows <- list()
for (dname in names(designs)) {
  d <- designs[[dname]]
  for (outcome in c("aware", "score")) {
    for (g in sort(unique(data$channel))) {
      y <- d$variables[[outcome]]
      obs <- !is.na(y)
      dd <- update(d,
                   ya = ifelse(obs, y, 0), ia = as.numeric(obs),
                   yg = ifelse(obs, y, 0) * (channel == g), ig = as.numeric(obs) * (channel == g))
      tot <- svytotal(~yg + ig + ya + ia, dd)
      con <- svycontrast(tot, quote(yg / ig - ya / ia))
      rows[[length(rows) + 1]] <- data.frame(
        design = dname, outcome = outcome, channel = g,
        gap = sprintf("%.17g", coef(con)), se = sprintf("%.17g", SE(con)))
    }
  }
}
write.csv(do.call(rbind, rows), "gaps.csv", row.names = FALSE, quote = FALSE)
writeLines(c(R.version.string, paste("survey", packageVersion("survey")),
             "survey.lonely.psu = adjust"), "versions.txt")
