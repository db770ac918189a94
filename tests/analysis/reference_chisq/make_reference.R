# Reference values of R's svychisq(statistic = "F") (Rao-Scott) for
# tests/analysis/test_chisq.py.
#
# Run from this directory:  Rscript make_reference.R
# Reads the generated survey of ../reference (survey.csv, population.csv, margins.csv, made
# by ../reference/make_data.py) and writes chisq_r.csv (case, design, lonely, row, col, stat,
# value; values printed with %.17g) and versions.txt. Designs as in ../reference:
# svydesign(ids = ~point, strata = ~district, weights = ~weight), postStratify to
# district x age_group x gender, rake to the district, age_group and gender margins; an
# unstratified design (clusters only) too. Stratum F has one cluster (lonely PSU).
suppressMessages(library(survey))

d <- read.csv("../reference/survey.csv", stringsAsFactors = FALSE)
pop <- read.csv("../reference/population.csv", stringsAsFactors = FALSE)
mar <- read.csv("../reference/margins.csv", stringsAsFactors = FALSE)
for (v in c("district", "channel", "age_group", "gender", "point")) d[[v]] <- factor(d[[v]])
d$week <- factor(d$week)
d$aware_f <- factor(d$aware)
d$participated_f <- factor(d$participated)
# a three-level score band with missing values where the score is missing
d$band <- cut(d$score, c(-Inf, 50, 75, Inf), labels = c("low", "mid", "high"))

designs <- function() {
  des <- svydesign(ids = ~point, strata = ~district, weights = ~weight, data = d)
  popdf <- pop
  names(popdf)[names(popdf) == "N"] <- "Freq"
  ps <- postStratify(des, ~district + age_group + gender, popdf)
  mlist <- lapply(c("district", "age_group", "gender"), function(v) {
    m <- mar[mar$margin == v, ]
    out <- data.frame(level = m$level, Freq = m$N, stringsAsFactors = FALSE)
    names(out)[1] <- v
    out
  })
  rk <- rake(des, list(~district, ~age_group, ~gender), mlist,
             control = list(maxit = 1000, epsilon = 1e-12))
  clusters <- svydesign(ids = ~point, weights = ~weight, data = d)
  list(plain = des, ps = ps, rake = rk, clusters = clusters)
}

tables <- list(
  c("aware_f", "channel"),
  c("age_group", "channel"),
  c("participated_f", "district"),
  c("week", "gender"),
  c("aware_f", "participated_f"),
  c("band", "age_group")
)

rows <- list()
for (lonely in c("adjust", "remove")) {
  options(survey.lonely.psu = lonely)
  ds <- designs()
  for (name in names(ds)) {
    for (t in tables) {
      f <- as.formula(paste0("~", t[1], "+", t[2]))
      r <- svychisq(f, ds[[name]], statistic = "F")
      vals <- c(statistic = unname(r$statistic), ndf = unname(r$parameter[1]),
                ddf = unname(r$parameter[2]), p_value = r$p.value)
      for (s in names(vals)) {
        rows[[length(rows) + 1]] <- data.frame(
          case = paste(t, collapse = "~"), design = name, lonely = lonely,
          row = t[1], col = t[2], stat = s, value = sprintf("%.17g", vals[[s]]),
          stringsAsFactors = FALSE)
      }
    }
  }
}
write.csv(do.call(rbind, rows), "chisq_r.csv", row.names = FALSE)
writeLines(c(R.version.string, paste("survey", packageVersion("survey")),
             "svychisq(~row + col, design, statistic = \"F\"), na.rm = TRUE (the default)"),
           "versions.txt")
