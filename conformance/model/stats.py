"""The two statistics behind sampled runs: a rate's confidence interval and the test that compares two rates.

Both are closed formulas over small integer counts (K is 5 to a few dozen), computed exactly here rather than
pulling in SciPy for two functions.
"""

from __future__ import annotations

import math

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal: a two-sided 95 % interval
GATE_ALPHA = 0.01  # a behaviour rate moves only when chance alone would do so less than once in a hundred runs


def wilson(passed: int, total: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a pass rate: unlike the normal approximation it stays inside [0, 1] and is
    not empty at 0/K or K/K, which is where most behaviour rates of a small sample sit."""
    if total <= 0:
        return 0.0, 1.0
    p = passed / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def fisher_less(passed_a: int, total_a: int, passed_b: int, total_b: int) -> float:
    """One-sided Fisher exact test: the probability, with both margins fixed, that sample B passes this few times
    or fewer if A and B share one pass rate. Small means B's rate is lower than A's beyond chance."""
    passes = passed_a + passed_b
    total = total_a + total_b
    denominator = math.comb(total, total_b)
    low = max(0, passes - total_a)
    return sum(math.comb(passes, k) * math.comb(total - passes, total_b - k)
               for k in range(low, passed_b + 1)) / denominator


def holm(p_values: list[float], alpha: float = GATE_ALPHA) -> list[bool]:
    """Holm-Bonferroni: which of several tests reject while the chance of any false call stays below ``alpha``.

    A gate compares dozens of behaviour rates at once; at p < 0.01 each, one of them would move by chance every
    few runs. Holm keeps the whole comparison's false-alarm rate at ``alpha`` and is uniformly more powerful than
    plain Bonferroni.
    """
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    rejected = [False] * len(p_values)
    for rank, index in enumerate(order):
        if p_values[index] >= alpha / (len(p_values) - rank):
            break
        rejected[index] = True
    return rejected
