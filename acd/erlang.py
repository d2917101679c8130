"""Reference figures for one skill group: Erlang C (M/M/c) and Erlang A (M/M/c+M).

Computed from the birth-death chain of the number of calls in the system (arrivals at rate
lam; service at min(n, c)*mu; abandonment at (n - c)*theta while waiting), so one routine
covers both: theta = 0 is Erlang C. A tagged caller arriving to find k callers ahead of the
free agent moves up at rate c*mu + (j-1)*theta from position j and gives up at rate theta; its
chance of being answered within t comes from uniformizing that small chain. Definitions match
the simulator: service level = answered within t / offered; ASA = mean wait of answered calls.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Figures:
    p_wait: float
    service_level: float
    abandon_rate: float
    asa_s: float
    occupancy: float


def _stationary(lam: float, mu: float, theta: float, c: int, tail: int) -> list[float]:
    # work with logs: pi_n / pi_0 = prod lam / death_rate(i)
    logs = [0.0]
    for n in range(1, c + tail + 1):
        death = min(n, c) * mu + max(n - c, 0) * theta
        logs.append(logs[-1] + math.log(lam) - math.log(death))
    top = max(logs)
    weights = [math.exp(v - top) for v in logs]
    total = sum(weights)
    return [w / total for w in weights]


def _served_within(t: float, c: int, mu: float, theta: float, positions: int) -> list[float]:
    """P(answered within t) for a caller arriving at queue position k = 1..positions."""
    rates = [c * mu + (j - 1) * theta for j in range(1, positions + 1)]
    big = max(r + theta for r in rates)
    mean = big * t
    f = [1.0] + [0.0] * positions  # f[0]: already answered
    total = [0.0] * (positions + 1)
    weight = math.exp(-mean)
    m = 0
    while True:
        for j in range(positions + 1):
            total[j] += weight * f[j]
        m += 1
        if m > mean + 12 * math.sqrt(mean + 1) + 20:
            break
        f = [1.0] + [(rates[j - 1] / big) * f[j - 1] + (1 - (rates[j - 1] + theta) / big) * f[j]
                     for j in range(1, positions + 1)]
        weight *= mean / m
    return total[1:]


def figures(agents: int, calls_per_hour: float, aht_s: float, threshold_s: float,
            patience_s: float | None = None) -> Figures:
    c, lam, mu = agents, calls_per_hour / 3600.0, 1.0 / aht_s
    theta = 0.0 if patience_s is None else 1.0 / patience_s
    if theta == 0 and lam >= c * mu:
        raise ValueError("without abandonment the load must be below the number of agents")
    pi = _stationary(lam, mu, theta, c, tail=5000)
    remaining, last = 1.0, len(pi)
    for n, p in enumerate(pi):  # ignore states the system is practically never in
        remaining -= p
        if n >= c and remaining < 1e-13:
            last = n + 1
            break
    pi = pi[:last]
    served_by_t = _served_within(threshold_s, c, mu, theta, max(1, last - c))
    p_wait = sum(pi[c:])
    answered = answered_in_t = wait_sum = 0.0
    for n, p in enumerate(pi):
        if n < c:
            answered += p
            answered_in_t += p
            continue
        k = n - c + 1
        product, inverse_sum = 1.0, 0.0
        for j in range(1, k + 1):
            r = c * mu + (j - 1) * theta
            product *= r / (r + theta)
            inverse_sum += 1.0 / (r + theta)
        answered += p * product
        wait_sum += p * product * inverse_sum
        answered_in_t += p * served_by_t[k - 1]
    occupancy = lam * answered / (c * mu)
    return Figures(p_wait=p_wait, service_level=answered_in_t, abandon_rate=1.0 - answered,
                   asa_s=wait_sum / answered, occupancy=occupancy)
