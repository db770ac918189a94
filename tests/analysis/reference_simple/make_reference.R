# Reference values for analysis/_proportions.py and analysis/_means.py, from base R only.
# Run from the repository root:
#   Rscript tests/analysis/reference_simple/make_reference.R
# It rewrites proportion_ci_r.csv and mean_ci_r.csv in this folder. Values are written
# with %.17g. The first line of each CSV records the R version that made it.
#
# Methods (x successes out of n, level 1 - alpha):
#   clopper-pearson: binom.test(x, n, conf.level = level)$conf.int
#   wilson:          prop.test(x, n, conf.level = level, correct = FALSE)$conf.int
#                    (the score interval without continuity correction)
#   jeffreys:        qbeta(c(alpha/2, 1 - alpha/2), x + 0.5, n - x + 0.5), with lower 0 at
#                    x = 0 and upper 1 at x = n (Brown, Cai & DasGupta 2001, section 4.1.2)
#   agresti-coull:   ptilde +/- z sqrt(ptilde (1 - ptilde) / ntilde), ntilde = n + z^2,
#                    ptilde = (x + z^2 / 2) / ntilde, clipped to [0, 1]
#   wald:            p +/- z sqrt(p (1 - p) / n), clipped to [0, 1]
# Means: t.test(y, conf.level = level)$conf.int on seeded data (set.seed below).

here <- "tests/analysis/reference_simple"
version_line <- paste0("# made by ", R.version.string)

cases <- data.frame(
  x = c(0, 1, 15, 81, 0, 20, 5, 3, 999, 50, 1, 7),
  n = c(20, 29, 148, 263, 1, 20, 10, 7, 1000, 100, 2, 400),
  level = c(0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.9, 0.99, 0.95, 0.8, 0.95, 0.999)
)
rows <- list()
for (i in seq_len(nrow(cases))) {
  x <- cases$x[i]; n <- cases$n[i]; level <- cases$level[i]
  alpha <- 1 - level
  z <- qnorm(1 - alpha / 2)
  p <- x / n
  cp <- binom.test(x, n, conf.level = level)$conf.int
  wi <- suppressWarnings(prop.test(x, n, conf.level = level, correct = FALSE))$conf.int
  je <- qbeta(c(alpha / 2, 1 - alpha / 2), x + 0.5, n - x + 0.5)
  if (x == 0) je[1] <- 0
  if (x == n) je[2] <- 1
  nt <- n + z^2
  pt <- (x + z^2 / 2) / nt
  ac <- pmin(pmax(pt + c(-1, 1) * z * sqrt(pt * (1 - pt) / nt), 0), 1)
  wa <- pmin(pmax(p + c(-1, 1) * z * sqrt(p * (1 - p) / n), 0), 1)
  ci <- list("clopper-pearson" = cp, "wilson" = wi, "jeffreys" = je,
             "agresti-coull" = ac, "wald" = wa)
  for (m in names(ci)) {
    rows[[length(rows) + 1]] <- data.frame(
      method = m, x = x, n = n, level = level,
      ci_low = sprintf("%.17g", ci[[m]][1]), ci_high = sprintf("%.17g", ci[[m]][2])
    )
  }
}
out <- do.call(rbind, rows)
con <- file(file.path(here, "proportion_ci_r.csv"), "w")
writeLines(version_line, con)
write.csv(out, con, row.names = FALSE, quote = FALSE)
close(con)

set.seed(20240501)
groups <- list(
  a = round(runif(30, 0, 100)),
  b = round(rnorm(12, 80, 10), 1),
  c = c(55, 60),
  d = round(rbeta(250, 5, 1.5) * 100)
)
rows <- list()
for (g in names(groups)) {
  y <- groups[[g]]
  for (level in c(0.95, 0.9)) {
    tt <- t.test(y, conf.level = level)
    rows[[length(rows) + 1]] <- data.frame(
      group = g, level = level, n = length(y),
      sum = sprintf("%.17g", sum(y)), sum_sq = sprintf("%.17g", sum(y^2)),
      estimate = sprintf("%.17g", unname(tt$estimate)),
      se = sprintf("%.17g", tt$stderr),
      ci_low = sprintf("%.17g", tt$conf.int[1]), ci_high = sprintf("%.17g", tt$conf.int[2]),
      df = unname(tt$parameter),
      values = paste(sprintf("%.17g", y), collapse = " ")
    )
  }
}
out <- do.call(rbind, rows)
con <- file(file.path(here, "mean_ci_r.csv"), "w")
writeLines(version_line, con)
write.csv(out, con, row.names = FALSE, quote = FALSE)
close(con)
