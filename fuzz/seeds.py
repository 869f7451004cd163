#!/usr/bin/env python3
"""Encode the defects of issue 13 (and other hand-picked cases) as inputs of
the libFuzzer harnesses, in the byte format that fuzz/fuzz_common.h decodes.

    python3 fuzz/seeds.py OUTDIR    # writes OUTDIR/<harness>/issue13-<name>

Each input is then replayed: the ones the library now handles go to
fuzz/corpus/<harness>/ as regression inputs, the ones that still break a
promise to fuzz/crashes/<harness>/ (and a line in the bug list) until fixed.
"""
import os
import struct
import sys

RAW = 232  # fz_double selector of 8 raw little-endian bytes


class Enc:
    def __init__(self):
        self.b = bytearray()

    def byte(self, v):
        self.b.append(v & 0xFF)
        return self

    def dbl(self, x):  # fz_double, exactly x
        self.b.append(RAW)
        self.b += struct.pack('<d', x)
        return self

    def array(self, xs):  # fz_array, mode 0 (any values)
        self.byte(0)
        for x in xs:
            self.dbl(x)
        return self

    def space(self, n, lo, hi, bc, metric=None, max_rank=2):
        """fz_space_decode: explicit bounds (selector 224), bc, metric (mode 7).
        fz_range(1, 1) reads no byte: no rank byte when the harness allows rank 1 only."""
        if max_rank > 1:
            self.byte(len(n) - 1)
        for i in range(len(n)):
            self.byte(n[i] - 1)
            self.byte(224).dbl(lo[i]).dbl(hi[i])
            self.byte(bc[i])
        self.byte(0)  # has_bc
        if metric is None:
            self.byte(0)
        else:
            self.byte(7)
            for g in metric:
                self.dbl(g)
        return self


def heat(n, lo, hi, bc, metric, fd, x, t, times=None):
    e = Enc().byte(0).space(n, lo, hi, bc, metric)
    e.byte(2 if fd else 0)  # flags: SYMBOL_FD | ESTIMATE, or ESTIMATE
    e.byte(1)               # berg_heat_create
    e.array(x)
    e.byte(0).dbl(t)        # t, |t|
    times = times or [t]
    e.byte(len(times) - 1)
    for tj in times:
        e.byte(0).dbl(tj)
    return e.b


def space(n, lo, hi, bc, p, metric=None):
    return Enc().space(n, lo, hi, bc, metric).array(p).b


def fp(n, lo, hi, bc, V, fourier, x, t):
    e = Enc().space(n, lo, hi, bc)
    e.byte(1).array(V)
    e.byte(2 if fourier else 0)
    e.byte(255)  # the input is given (not the stationary state)
    e.array(x)
    e.byte(0).dbl(t)
    return e.b


def sinkhorn(n, lo, hi, bc, log_domain, eps, p, q, cap=200):
    e = Enc().space(n, lo, hi, bc)
    e.byte(1 if log_domain else 0)
    e.byte(255).dbl(eps)
    e.byte(cap & 0xFF).byte(cap >> 8)
    e.array(p).array(q)
    return e.b


def w2(n, lo, hi, bc, p, q, order, t):
    e = Enc().byte(1).byte(0).space([n], [lo], [hi], [bc], max_rank=1)
    e.array(p).array(q)
    e.byte(255).dbl(order)
    e.byte(255).dbl(t)
    return e.b


def fisher_location(n, lo, hi, bc, p):
    return Enc().byte(0).space(n, lo, hi, bc).array(p).b


def bayes(n, lo, hi, prior, y):
    e = Enc().space(n, lo, hi, [1] * len(n))
    e.space([16], [-2.0], [2.0], [1], max_rank=1)
    e.array(prior)
    e.byte(0)  # flags 0
    for _ in n:
        e.byte(0).byte(128 + 32)  # a = 1
    e.byte(0).byte(128)          # b = 0
    e.byte(0).byte(32)           # sigma = 0.05 + 1
    e.byte(0)                    # Gaussian log-density callback
    e.byte(len(y) - 1)
    for v in y:
        e.byte(255).dbl(v)
    return e.b


def channel(n, lo, hi, bc, kind, t, V, x):
    e = Enc().space(n, lo, hi, bc)
    e.byte(kind)
    e.byte(255).dbl(t)
    e.byte(1).array(V)
    e.array(x)
    e.byte(0)  # Petz: recover sigma from E(sigma)
    return e.b


P, N, D = 0, 1, 2
TINY = 5e-324
SEEDS = {
    'heat': {
        'one-cell-periodic-width-1e-300-metric-fd': heat([1], [0.0], [1e-300], [P], [2.0], True, [1.0], 1.0),
        'apply-near-1e307': heat([8], [0.0], [1.0], [P], None, False,
                                 [1e307, -1e307, 1e307, 5e306, -1e307, 1e307, 0.0, 1e307], 0.01),
        'apply-times-subnormal-time': heat([8], [0.0], [1.0], [N], None, False, [1.0] * 8, 1.0,
                                           [1.0, 1e-310, 0.5]),
        'dirichlet-4-cells-mass': heat([4], [0.0], [1.0], [D], None, False, [1.0] * 4, 0.01),
    },
    'space': {
        'normalize-13-cells-width-2.2e-308': space([13], [0.0], [2.2e-308], [P], [1.0] * 13),
        'box-1e300-2e300': space([4], [1e300], [2e300], [N], [1.0, 2.0, 3.0, 4.0]),
        'subnormal-values': space([4], [0.0], [1.0], [P], [1e-310] * 4),
    },
    'fp': {
        'stationary-box-tiny-to-huge': fp([4], [TINY], [1.7976931348623157e308], [N], [0.0] * 4, False, [1.0] * 4, 1.0),
        'box-1e-8-by-1e8-t1': fp([4, 4], [0.0, 0.0], [1e-8, 1e8], [N, N], [0.0] * 16, False,
                                 [1.0] * 16, 1.0),
        'box-1e8-by-1e-8-t1e3': fp([4, 4], [0.0, 0.0], [1e8, 1e-8], [N, N], [0.0] * 16, False,
                                   [1.0] * 16, 1e3),
        'dirichlet-tiny-mass': fp([2], [0.0], [1.0], [D], [0.0, 0.0], False, [1e-308, 1e-308], 1.0),
        'dblmax-input': fp([2], [0.0], [1.0], [N], [0.0, 0.0], False, [1.7976931348623157e308, 0.0], 1.0),
        'barrier-4.9e300': fp([4], [0.0], [1.0], [N], [0.0, 4.9e300, 0.0, 0.0], False, [1.0] * 4, 1.0),
        'metastable-4-cells-t1e20': fp([4], [0.0], [1.0], [P], [0.0, 30.0, 0.0, 30.0], False,
                                       [1.0, 0.0, 0.0, 0.0], 1e20),
    },
    'sinkhorn': {
        'box-1e300-2e300': sinkhorn([8], [1e300], [2e300], [N], False, 1.0, [1.0] * 8, [1.0] * 8),
        'eps-dblmax': sinkhorn([8], [0.0], [1.0], [N], False, 1.7976931348623157e308,
                               [1.0] * 8, [1, 2, 3, 4, 5, 6, 7, 8]),
        'log-domain-eps-2.2e-308': sinkhorn([8], [0.0], [1.0], [N], True, 2.2e-308,
                                            [1.0] * 8, [1, 2, 3, 4, 5, 6, 7, 8]),
        'log-domain-mass-overflow': sinkhorn([4], [0.0], [4.0], [N], True, 0.5,
                                             [1.7976931348623157e308] * 4, [1.0] * 4),
    },
    'w2': {
        'subnormal-density': w2(8, 0.0, 1.0, N, [1e-310] * 8, [1e-310, 0, 0, 0, 0, 0, 0, 1e-310], 3.0, 0.5),
        'order-1000': w2(8, 0.0, 1.0, N, [1.0] * 8, [1, 2, 3, 4, 5, 6, 7, 8], 1000.0, 0.5),
        'order-1e300': w2(8, 0.0, 1.0, N, [1.0] * 8, [8, 7, 6, 5, 4, 3, 2, 1], 1e300, 0.25),
    },
    'fisher': {
        'location-subnormal-density': fisher_location([8], [0.0], [1.0], [N], [1e-310] * 8),
        'location-box-1e300': fisher_location([8], [1e300], [2e300], [N], [1, 2, 3, 4, 4, 3, 2, 1]),
    },
    'bayes': {
        'prior-near-1e300': bayes([8], [-1.0], [1.0], [1e300] * 8, [0.5]),
        'prior-subnormal': bayes([8], [-1.0], [1.0], [1e-310] * 8, [0.5]),
    },
    'channel': {
        'heat-petz-mass-overflow': channel([4], [0.0], [1.0], [P], 0, 0.1, [0.0] * 4,
                                           [1.7976931348623157e308] * 4),
        'fp-petz-steep': channel([4], [0.0], [1.0], [N], 1, 0.1, [0.0, 700.0, 0.0, 700.0],
                                 [1.0, 1.0, 1.0, 1.0]),
    },
}


def main():
    out = sys.argv[1]
    for harness, seeds in SEEDS.items():
        os.makedirs(os.path.join(out, harness), exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(out, harness, 'issue13-' + name), 'wb') as f:
                f.write(bytes(data))


if __name__ == '__main__':
    main()
