"""The Python input policy: float32/float64/int accepted (one copy when the
dtype or layout needs it), complex refused with a TypeError naming the
argument, Fortran-order and non-contiguous arrays copied, outputs in the
shape of the input. Every check compares against the float64 C-order call,
so a conversion that changed a value fails."""
import numpy as np
import pytest

import berg
from berg import _lib


@pytest.fixture(scope="module")
def grid():
    sp = berg.Space((8, 6), (-2.0, -1.5), (2.0, 1.5), bc="periodic")
    x, y = sp.grid()
    p = np.exp(-(x ** 2 + 2 * y ** 2))
    p /= sp.integrate(p)
    return sp, p


def test_float64_c_order_is_used_without_a_copy():
    a = np.linspace(0.0, 1.0, 6)
    assert _lib.as_array(a, (6,), "p") is a
    b = np.zeros((2, 3))
    assert _lib.as_array(b, (2, 3), "p") is b


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int32, np.int64, np.uint8, bool])
def test_real_dtypes_are_converted_once(dtype):
    a = (np.arange(6) % 2).astype(dtype)
    arr = _lib.as_array(a, (6,), "p")
    assert arr.dtype == np.float64 and arr.flags.c_contiguous
    assert not np.shares_memory(arr, a)
    np.testing.assert_array_equal(arr, a.astype(np.float64))


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_is_refused_naming_the_argument(dtype):
    with pytest.raises(TypeError, match=r"^rho is complex"):
        _lib.as_array(np.ones(4, dtype=dtype), (4,), "rho")


def test_complex_python_numbers_and_strings_are_refused():
    with pytest.raises(TypeError, match="p is complex"):
        _lib.as_array([1.0, 2j], (2,), "p")
    with pytest.raises(TypeError, match="p must be an array of real numbers"):
        _lib.as_array(["a", "b"], (2,), "p")
    with pytest.raises(TypeError, match="p must be an array of real numbers"):
        _lib.as_array(np.array([1.0, None], dtype=object), (2,), "p")


def test_complex_refused_by_the_public_api(grid):
    sp, p = grid
    heat = berg.Heat(sp, estimate=True)
    wave = np.exp(1j * sp.grid()[0])
    with pytest.raises(TypeError, match="^p is complex"):
        heat.apply(wave, 0.01)
    with pytest.raises(TypeError, match="^p is complex"):
        berg.entropy(sp, p.astype(complex))
    with pytest.raises(TypeError, match="^q is complex"):
        berg.kl_divergence(sp, p, p.astype(complex))
    with pytest.raises(TypeError, match="^f is complex"):
        sp.integrate(wave)


def test_complex_out_array_is_refused(grid):
    sp, p = grid
    heat = berg.Heat(sp, estimate=True)
    with pytest.raises(TypeError, match="^out is complex"):
        heat.apply(p, 0.01, out=np.empty(sp.shape, dtype=complex))


def test_float32_int_fortran_and_strided_give_the_float64_answer(grid):
    sp, p = grid
    heat = berg.Heat(sp, estimate=True)
    ref = heat.apply(p, 0.05)
    p32 = p.astype(np.float32)
    np.testing.assert_allclose(heat.apply(p32, 0.05), heat.apply(p32.astype(np.float64), 0.05),
                               rtol=0, atol=0)
    fortran = np.asfortranarray(p)
    assert not fortran.flags.c_contiguous
    np.testing.assert_array_equal(heat.apply(fortran, 0.05), ref)
    wide = np.zeros((sp.shape[0], 2 * sp.shape[1]))
    wide[:, ::2] = p
    strided = wide[:, ::2]
    assert not strided.flags.c_contiguous
    np.testing.assert_array_equal(heat.apply(strided, 0.05), ref)
    counts = np.arange(sp.size).reshape(sp.shape) % 3
    np.testing.assert_array_equal(heat.apply(counts, 0.05), heat.apply(counts.astype(float), 0.05))
    # the caller's arrays are not modified by the copies
    np.testing.assert_array_equal(wide[:, ::2], p)
    np.testing.assert_array_equal(np.asarray(fortran), p)


def test_scalar_functionals_accept_every_layout(grid):
    sp, p = grid
    ref = berg.entropy(sp, p)
    assert berg.entropy(sp, np.asfortranarray(p)) == ref
    assert berg.entropy(sp, p.ravel()) == ref
    assert berg.entropy(sp, p.tolist()) == ref


def test_outputs_have_the_input_shape(grid):
    sp, p = grid
    heat = berg.Heat(sp, estimate=True)
    flat = p.ravel()
    out_flat = heat.apply(flat, 0.05)
    out_grid = heat.apply(p, 0.05)
    assert out_flat.shape == flat.shape and out_grid.shape == sp.shape
    np.testing.assert_array_equal(out_flat, out_grid.ravel())
    q, mass = sp.normalize(2 * flat)
    assert q.shape == flat.shape and abs(mass - 2) < 1e-12
    assert sp.project_tangent(flat).shape == flat.shape
    assert berg.discrete_laplacian(sp, flat).shape == flat.shape


def test_a_given_out_of_the_input_shape_is_filled(grid):
    sp, p = grid
    heat = berg.Heat(sp, estimate=True)
    flat = p.ravel()
    out = np.empty_like(flat)
    assert heat.apply(flat, 0.05, out=out) is out
    np.testing.assert_array_equal(out, heat.apply(p, 0.05).ravel())
    with pytest.raises(ValueError, match="out must be a writeable C-contiguous float64"):
        heat.apply(p, 0.05, out=np.empty(sp.size + 1))


def test_wrong_sizes_are_refused_naming_the_argument(grid):
    sp, p = grid
    with pytest.raises(ValueError, match=r"^p has shape \(47,\), expected \(8, 6\)"):
        berg.Heat(sp, estimate=True).apply(p.ravel()[:-1], 0.05)


def test_in_place_arrays_are_never_copied():
    x = np.zeros((4, 1), dtype=np.float32)
    with pytest.raises(ValueError, match="x .*writeable C-contiguous float64"):
        _lib.inout_array(x, name="x (updated in place)")
    with pytest.raises(TypeError, match="x is complex"):
        _lib.inout_array(np.zeros(4, dtype=complex), name="x")


def test_complex_parameters_are_refused():
    with pytest.raises(TypeError, match="^lower is complex"):
        berg.Space((4,), 0j, 1.0)
    with pytest.raises(TypeError, match="^metric is complex"):
        berg.Space((4,), 0.0, 1.0, metric=[[1 + 1j]])
    sp = berg.Space((8,), 0.0, 1.0)
    with pytest.raises(TypeError, match="^times is complex"):
        berg.Heat(sp, estimate=True).apply_times(np.ones(8), [0.1j])
    with pytest.raises(TypeError, match="^m1 is complex"):
        berg.w2_gaussian(1j, 1.0, 0.0, 1.0)


def test_complex_callback_results_are_refused():
    """A callback that returns complex values fails the call (CallbackError
    chained to the TypeError naming the callback), never drops the
    imaginary part."""
    with pytest.raises(berg.CallbackError) as info:
        berg.fisher_jacobian([1.0, 2.0], 1, G=lambda u: [u[0] * 1j])
    assert isinstance(info.value.__cause__, TypeError)
    assert str(info.value.__cause__).startswith("G(u) is complex")
    x = np.zeros((4, 1))
    with pytest.raises(berg.CallbackError) as info:
        berg.Particles(1, seed=1).euler(x, 0.01, 1, lambda p: p + 1j)
    assert str(info.value.__cause__).startswith("grad(x) is complex")
    np.testing.assert_array_equal(x, 0.0)  # nothing the caller owns changed
