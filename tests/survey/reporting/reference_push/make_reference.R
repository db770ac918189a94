# Reference values for the push-channel design (issue 24): push responses are their own PSUs
# within their district stratum, places are clusters. Run from the repository root:
#   Rscript tests/survey/reporting/reference_push/make_reference.R
# Reads units.csv and population.csv (from make_data.py), writes reference.csv (%.17g) and
# versions.txt.
#   psu <- ifelse(channel == 2, paste0("r", response), paste0("p", point))   # 2 = push
#   des <- svydesign(ids = ~psu, strata = ~district, weights = ~w, data = d)  # w = 1e9
#   ps  <- postStratify(des, ~district + age_group + sex, pop)
# Per design (plain, poststratified), per metric, overall and by channel (svyby domains):
#   svymean(~y, des[channel == k, ], na.rm = TRUE, deff = TRUE): estimate, se, deff
#   degf(des[channel == k, ]): the domain's own df; when it is 0, the interval uses
#   degf(des) as confint(svyby(...), df = degf(des)) does:
#     rates: svyciprop(~y, des[channel == k, ], method = "logit", df = df, na.rm = TRUE)
#     score: confint(svymean(...), df = df)
suppressMessages(library(survey))
here <- "tests/survey/reporting/reference_push"
options(survey.lonely.psu = "adjust")
d <- read.csv(file.path(here, "units.csv"), stringsAsFactors = FALSE)
pop <- read.csv(file.path(here, "population.csv"), stringsAsFactors = FALSE)
names(pop)[names(pop) == "N"] <- "Freq"
names(pop)[names(pop) == "stratum"] <- "district"
d$psu <- ifelse(d$channel == 2, paste0("r", d$response), paste0("p", d$point))
d$w <- 1e9
des <- svydesign(ids = ~psu, strata = ~district, weights = ~w, data = d)
ps <- postStratify(des, ~district + age_group + sex, pop)
metrics <- c("awareness", "participation", "satisfaction", "satisfaction_score")
out <- list()
add <- function(design_name, metric, domain, stat, value) {
  out[[length(out) + 1]] <<- data.frame(design = design_name, metric = metric,
                                        domain = domain, stat = stat,
                                        value = sprintf("%.17g", value))
}
for (dn in c("none", "poststratify")) {
  full <- if (dn == "none") des else ps
  for (metric in metrics) {
    f <- as.formula(paste0("~", metric))
    for (k in c("all", "1", "2", "3")) {
      sub <- if (k == "all") full else full[full$variables$channel == as.integer(k), ]
      m <- svymean(f, sub, na.rm = TRUE, deff = TRUE)
      df <- degf(sub)
      used <- if (df > 0) df else degf(full)
      if (metric == "satisfaction_score") {
        ci <- confint(m, df = used)
      } else {
        ci <- confint(svyciprop(f, sub, method = "logit", df = used, na.rm = TRUE))
      }
      add(dn, metric, k, "estimate", coef(m))
      add(dn, metric, k, "se", SE(m))
      add(dn, metric, k, "deff", deff(m))
      add(dn, metric, k, "own_df", df)
      add(dn, metric, k, "df", used)
      add(dn, metric, k, "ci_low", ci[1])
      add(dn, metric, k, "ci_high", ci[2])
    }
  }
}
write.csv(do.call(rbind, out), file.path(here, "reference.csv"), row.names = FALSE)
writeLines(c(R.version.string, paste("survey", packageVersion("survey"))),
           file.path(here, "versions.txt"))
