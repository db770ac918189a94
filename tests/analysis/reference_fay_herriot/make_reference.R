# Reference values for the Fay-Herriot model (analysis/_fay_herriot.py), issue 24.
#
# An implementation independent of the Python one: the package `sae` is not installed here
# (and cannot be), so this script maximises the REML log-likelihood directly with
# optimize() (golden-section search) instead of Fisher scoring, and builds the EBLUP and the
# Prasad-Rao MSE with R's own matrix algebra from the textbook formulas:
#
#   Rao, J.N.K. and Molina, I. (2015). Small Area Estimation, 2nd ed. Wiley. Chapter 6:
#   l_R(s2) = -1/2 [ sum log(s2 + psi) + log det(X'V^-1 X) + y' P y ]       (REML)
#   gamma   = s2 / (s2 + psi);  EBLUP = gamma y + (1 - gamma) x' beta
#   mse     = g1 + g2 + 2 g3 with g1 = gamma psi, g2 = (1-gamma)^2 x'(X'V^-1X)^-1 x,
#             g3 = psi^2 / (s2 + psi)^3 * 2 / sum (s2 + psi)^-2                  (REML)
#   out-of-sample areas: x' beta, mse = s2 + x'(X'V^-1X)^-1 x
#
# Run from the repository root:  Rscript tests/analysis/reference_fay_herriot/make_reference.R
# It writes, per case, <case>_data.csv (inputs) and <case>_r.csv (results, %.17g), and
# versions.txt.
here <- "tests/analysis/reference_fay_herriot"

reml_loglik <- function(s2, y, psi, X) {
  v <- s2 + psi
  Vi <- diag(1 / v)
  XtViX <- t(X) %*% Vi %*% X
  P <- Vi - Vi %*% X %*% solve(XtViX) %*% t(X) %*% Vi
  -0.5 * (sum(log(v)) + as.numeric(determinant(XtViX, logarithm = TRUE)$modulus) +
            as.numeric(t(y) %*% P %*% y))
}

fit_fh <- function(d, xcols) {
  X_all <- cbind(1, as.matrix(d[, xcols, drop = FALSE]))
  obs <- !is.na(d$y)
  y <- d$y[obs]; psi <- d$psi[obs]; X <- X_all[obs, , drop = FALSE]
  upper <- 10 * (var(y) + max(psi))
  opt <- optimize(reml_loglik, c(0, upper), y = y, psi = psi, X = X, maximum = TRUE,
                  tol = 1e-14)
  s2 <- opt$maximum
  # golden section cannot place a flat maximum closer than ~sqrt(eps) relative: polish it
  # by bracketing the root of the REML score (its derivative, computed here by central
  # differences of the log-likelihood, not the analytic score) with uniroot()
  score <- function(s) {
    h <- 1e-6 * max(s, 1e-8)
    (reml_loglik(s + h, y, psi, X) - reml_loglik(s - h, y, psi, X)) / (2 * h)
  }
  if (s2 > 1e-10) {
    lo <- s2 * 0.999; hi <- s2 * 1.001
    if (score(lo) > 0 && score(hi) < 0) s2 <- uniroot(score, c(lo, hi), tol = 1e-16)$root
  }
  # the boundary: if the likelihood still rises towards 0, the REML estimate is 0
  if (reml_loglik(0, y, psi, X) >= opt$objective) s2 <- 0
  v <- s2 + psi
  Vi <- diag(1 / v)
  Vbeta <- solve(t(X) %*% Vi %*% X)
  beta <- Vbeta %*% t(X) %*% Vi %*% y
  synth <- as.numeric(X_all %*% beta)
  lever <- rowSums((X_all %*% Vbeta) * X_all)
  var_s2 <- 2 / sum(1 / v^2)
  est <- synth; mse <- s2 + lever; gam <- rep(0, nrow(d))
  g <- s2 / v
  est[obs] <- g * y + (1 - g) * synth[obs]
  mse[obs] <- g * psi + (1 - g)^2 * lever[obs] + 2 * psi^2 / v^3 * var_s2
  gam[obs] <- g
  z <- qnorm(0.975)
  data.frame(area = d$area, estimate = est, mse = mse, lower = est - z * sqrt(mse),
             upper = est + z * sqrt(mse), gamma = gam, synthetic = as.integer(!obs),
             sigma2_u = s2, loglik = opt$objective)
}

write_case <- function(name, d, xcols) {
  write.csv(d, file.path(here, paste0(name, "_data.csv")), row.names = FALSE, na = "")
  out <- fit_fh(d, xcols)
  num <- sapply(out, is.numeric)
  out[num] <- lapply(out[num], function(v) sprintf("%.17g", v))
  write.csv(out, file.path(here, paste0(name, "_r.csv")), row.names = FALSE, quote = FALSE)
}

# Case "streets": 60 streets in 4 districts, rates with a previous-period covariate and a
# population-structure share; 6 streets have no direct estimate.
set.seed(20261207)
m <- 60
district <- rep(c("A", "B", "C", "D"), length.out = m)
prev <- runif(m, 0.6, 0.95)
old <- runif(m, 0.1, 0.4)
n <- sample(5:120, m, replace = TRUE)
truth <- 0.2 + 0.7 * prev - 0.1 * old + c(A = 0, B = 0.03, C = -0.02, D = 0.01)[district] +
  rnorm(m, 0, 0.03)
psi <- truth * (1 - truth) / n
y <- truth + rnorm(m, 0, sqrt(psi))
y[c(3, 17, 29, 41, 52, 60)] <- NA
streets <- data.frame(area = sprintf("s%02d", 1:m), y = y, psi = psi,
                      dB = as.integer(district == "B"), dC = as.integer(district == "C"),
                      dD = as.integer(district == "D"), prev = prev, old = old)
write_case("streets", streets, c("dB", "dC", "dD", "prev", "old"))

# Case "boundary": no area effect at all and large sampling variances, so the REML
# estimate of sigma2_u is 0 (every EBLUP is the synthetic value).
set.seed(7)
m <- 25
xb <- rnorm(m)
psi <- runif(m, 0.5, 2)
y <- 1 + 0.5 * xb + rnorm(m, 0, sqrt(psi))
y[c(5, 20)] <- NA
write_case("boundary", data.frame(area = sprintf("b%02d", 1:m), y = y, psi = psi, x = xb), "x")

writeLines(c(R.version.string, "method: optimize() on the REML log-likelihood, tol 1e-14, polished by uniroot() on its numerical derivative"),
           file.path(here, "versions.txt"))
