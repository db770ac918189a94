# Reference numbers from R's survey package for tests/analysis/test_design_vs_r.py.
#
# Run from this directory:  Rscript make_reference.R
# Reads survey.csv, population.csv, margins.csv (made by make_data.py) and writes
# reference.csv (long: case, design, by, key, outcome, method, stat, value; values printed
# with %.17g), weights.csv (per-row calibrated/trimmed weights) and versions.txt.
#
# Conventions used throughout:
#   * domains are estimated as svyby does: design[rows of the domain, ] then the statistic
#     (one svyby call per case is also run and checked equal to the loop);
#   * svyciprop(method = "xlogit"/"beta"/"mean"/"logit", na.rm = TRUE), df = degf(subset);
#   * svymean(..., na.rm = TRUE, deff = TRUE) for estimate, SE and design effect;
#   * means (score): confint(svymean(...), df = degf(subset)).
suppressMessages(library(survey))

d <- read.csv("survey.csv", stringsAsFactors = FALSE)
pop <- read.csv("population.csv", stringsAsFactors = FALSE)
mar <- read.csv("margins.csv", stringsAsFactors = FALSE)
for (v in c("district", "channel", "age_group", "gender", "point")) d[[v]] <- factor(d[[v]])
d$week <- factor(d$week)

options(survey.lonely.psu = "adjust")
des <- svydesign(ids = ~point, strata = ~district, weights = ~weight, data = d)

popdf <- pop
names(popdf)[names(popdf) == "N"] <- "Freq"
des_ps <- postStratify(des, ~district + age_group + gender, popdf)

mlist <- lapply(c("district", "age_group", "gender"), function(v) {
  m <- mar[mar$margin == v, ]
  out <- data.frame(level = m$level, Freq = m$N, stringsAsFactors = FALSE)
  names(out)[1] <- v
  out
})
des_rk <- rake(des, list(~district, ~age_group, ~gender), mlist,
               control = list(maxit = 1000, epsilon = 1e-12))

w_ps <- weights(des_ps)
trim_lower <- 150  # bounds away from any weight value (ties would be fragile)
trim_upper <- 900
des_tr <- trimWeights(des_ps, lower = trim_lower, upper = trim_upper)

rows <- list()
emit <- function(case, design, by, key, outcome, method, values) {
  for (s in names(values)) {
    rows[[length(rows) + 1]] <<- data.frame(
      case = case, design = design, by = by, key = key, outcome = outcome, method = method,
      stat = s, value = sprintf("%.17g", as.numeric(values[[s]])), stringsAsFactors = FALSE)
  }
}

prop_stats <- function(sub, outcome, method) {
  f <- as.formula(paste0("~", outcome))
  r <- suppressWarnings(tryCatch(
    svyciprop(f, sub, method = method, na.rm = TRUE),
    error = function(e) NULL))
  if (is.null(r)) return(c(estimate = NaN, se = NaN, ci_low = NaN, ci_high = NaN))
  ci <- attr(r, "ci")
  c(estimate = as.numeric(r), se = sqrt(as.numeric(attr(r, "var"))),
    ci_low = as.numeric(ci[1]), ci_high = as.numeric(ci[2]))
}

mean_stats <- function(sub, outcome) {
  f <- as.formula(paste0("~", outcome))
  m <- suppressWarnings(svymean(f, sub, na.rm = TRUE, deff = TRUE))
  df <- degf(sub)
  ci <- suppressWarnings(confint(m, df = df))
  vals <- model.frame(f, sub$variables, na.action = na.pass)[[1]]
  inset <- weights(sub, "sampling") != 0 & !is.na(vals)
  c(estimate = as.numeric(coef(m)), se = as.numeric(SE(m)), deff = as.numeric(deff(m)),
    df = df, ci_low = ci[1], ci_high = ci[2], n = sum(inset))
}

domains <- function(design, by) {
  if (by == "all") return(list(all = rep(TRUE, nrow(design$variables))))
  vars <- strsplit(by, "\\+")[[1]]
  key <- do.call(paste, c(lapply(vars, function(v) as.character(design$variables[[v]])),
                          sep = "|"))
  levs <- sort(unique(key))
  setNames(lapply(levs, function(l) key == l), levs)
}

designs <- list(plain = des, ps = des_ps, rake = des_rk, trim = des_tr)
for (dname in names(designs)) {
  design <- designs[[dname]]
  for (by in c("all", "district", "district+channel")) {
    doms <- domains(design, by)
    for (key in names(doms)) {
      sub <- design[doms[[key]], ]
      for (outcome in c("aware", "participated")) {
        emit("domain", dname, by, key, outcome, "svymean", mean_stats(sub, outcome))
        for (method in c("xlogit", "beta", "mean", "logit")) {
          if (method == "logit" && dname != "plain") next
          emit("domain", dname, by, key, outcome, method, prop_stats(sub, outcome, method))
        }
      }
      emit("domain", dname, by, key, "score", "svymean", mean_stats(sub, "score"))
    }
  }
}

# one genuine svyby call per design, checked against the loop above
for (dname in names(designs)) {
  b <- svyby(~aware, ~district + channel, designs[[dname]], svyciprop, method = "xlogit",
             na.rm = TRUE, vartype = c("se", "ci"))
  b2 <- svyby(~score, ~district, designs[[dname]], svymean, na.rm = TRUE, deff = TRUE)
  emit("svyby_check", dname, "district+channel", "max_abs_est", "aware", "xlogit",
       c(value = max(abs(coef(b)))))
  for (i in seq_len(nrow(b))) {
    key <- paste(b$district[i], b$channel[i], sep = "|")
    emit("svyby", dname, "district+channel", key, "aware", "xlogit",
         c(estimate = coef(b)[i], se = SE(b)[i], ci_low = b$ci_l[i], ci_high = b$ci_u[i]))
  }
  for (i in seq_len(nrow(b2))) {
    emit("svyby", dname, "district", as.character(b2$district[i]), "score", "svymean",
         c(estimate = coef(b2)[i], se = SE(b2)[i], deff = deff(b2)[i]))
  }
}

# lonely PSU rules (district F has a single point)
for (rule in c("certainty", "remove", "average", "adjust")) {
  options(survey.lonely.psu = rule)
  for (dname in c("plain", "ps")) {
    design <- designs[[dname]]
    for (by in c("all", "district")) {
      doms <- domains(design, by)
      for (key in names(doms)) {
        sub <- design[doms[[key]], ]
        for (outcome in c("aware", "score")) {
          m <- suppressWarnings(svymean(as.formula(paste0("~", outcome)), sub, na.rm = TRUE))
          emit(paste0("lonely_", rule), dname, by, key, outcome, "svymean",
               c(estimate = as.numeric(coef(m)), se = as.numeric(SE(m))))
        }
      }
    }
  }
}
options(survey.lonely.psu = "fail")
fail <- tryCatch({svymean(~aware, des, na.rm = TRUE); "no error"},
                 error = function(e) conditionMessage(e))
emit("lonely_fail", "plain", "all", "message", "aware", fail, c(value = 1))
options(survey.lonely.psu = "adjust")

# contrasts: difference second - first, SE from the joint influence functions
contrast_cases <- list(
  list(name = "week3-week1", outcome = "aware", first = quote(week == "1"),
       second = quote(week == "3")),
  list(name = "B-A", outcome = "score", first = quote(district == "A"),
       second = quote(district == "B")),
  list(name = "A:week2-week1", outcome = "participated",
       first = quote(district == "A" & week == "1"),
       second = quote(district == "A" & week == "2"))
)
for (dname in c("plain", "ps", "rake")) {
  design <- designs[[dname]]
  for (cc in contrast_cases) {
    f <- as.formula(paste0("~", cc$outcome))
    i1 <- eval(cc$first, design$variables)
    i2 <- eval(cc$second, design$variables)
    union <- design[i1 | i2, ]
    df <- degf(union)
    # svyglm on a domain indicator (independent machinery)
    union$variables$.second <- as.numeric(eval(cc$second, union$variables))
    g <- svyglm(as.formula(paste0(cc$outcome, " ~ .second")), design = union)
    diff_glm <- coef(g)[[".second"]]
    se_glm <- SE(g)[[".second"]]
    vals <- c(difference_glm = diff_glm, se_glm = se_glm, df = df)
    if (dname != "plain") {
      # influence functions of the two domain means over the whole calibrated design
      m1 <- svymean(f, design[i1, ], na.rm = TRUE, influence = TRUE)
      m2 <- svymean(f, design[i2, ], na.rm = TRUE, influence = TRUE)
      inf <- cbind(attr(m1, "influence"), attr(m2, "influence"))
      v <- svyrecvar(inf, design$cluster, design$strata, design$fpc,
                     postStrata = design$postStrata)
      diff <- as.numeric(coef(m2) - coef(m1))
      se <- sqrt(v[1, 1] + v[2, 2] - 2 * v[1, 2])
      vals <- c(vals, estimate_1 = as.numeric(coef(m1)), estimate_2 = as.numeric(coef(m2)), difference = diff, se = se,
                cov = v[1, 2])
    } else {
      diff <- diff_glm
      se <- se_glm
      vals <- c(vals, difference = diff, se = se)
    }
    tt <- qt(0.975, df)
    vals <- c(vals, ci_low = diff - tt * se, ci_high = diff + tt * se,
              p_value = 2 * pt(-abs(diff / se), df))
    emit("contrast", dname, "", cc$name, cc$outcome, "influence", vals)
  }
}
emit("trim_bounds", "trim", "", "", "", "", c(lower = trim_lower, upper = trim_upper))

# finite-population correction: 3 times as many points in each district as were sampled
d$npop <- 3 * ave(as.numeric(d$point), d$district, FUN = function(p) length(unique(p)))
for (rule in c("adjust", "certainty")) {
  options(survey.lonely.psu = rule)
  des_fpc <- svydesign(ids = ~point, strata = ~district, weights = ~weight, fpc = ~npop,
                       data = d)
  for (by in c("all", "district")) {
    doms <- domains(des_fpc, by)
    for (key in names(doms)) {
      sub <- des_fpc[doms[[key]], ]
      for (outcome in c("aware", "score")) {
        m <- suppressWarnings(svymean(as.formula(paste0("~", outcome)), sub, na.rm = TRUE))
        emit(paste0("fpc_", rule), "fpc", by, key, outcome, "svymean",
             c(estimate = as.numeric(coef(m)), se = as.numeric(SE(m))))
      }
    }
  }
}
options(survey.lonely.psu = "adjust")

out <- do.call(rbind, rows)
write.csv(out, "reference.csv", row.names = FALSE)
wt <- data.frame(w_ps = sprintf("%.17g", weights(des_ps)), w_rake = sprintf("%.17g", weights(des_rk)),
                 w_trim = sprintf("%.17g", weights(des_tr)))
write.csv(wt, "weights.csv", row.names = FALSE)
writeLines(c(R.version.string, paste("survey", as.character(packageVersion("survey"))),
             paste("options: survey.lonely.psu = adjust unless stated; survey.adjust.domain.lonely =",
                   getOption("survey.adjust.domain.lonely"))),
           "versions.txt")
