# mypy: disable-error-code="index"
# (Warp kernel code: Warp compiles it with its own vector indexing, which its stubs lack)
"""Style3D's PCG linear solve in one CPU kernel, for Warp's CPU backend.

``newton``'s ``PcgSolver`` launches seven kernels and reductions per PCG iteration (z = M^-1 r,
r.z, the search direction, the contact Hessian product, A p, p.Ap, the x/r update), each
paying a launch (or, replayed, a per-thread call) over every particle, and stores its constant
system matrix in ELL layout ``[slot, row]``, which GPU threads read coalesced but a CPU thread
reads one cache line per entry. On the CPU Warp runs a kernel's threads one after another
anyway, so here the whole solve is one single-thread kernel: plain loops over rows stored
contiguously (``[row, slot]``), the dot products plain running sums. Each operation is
Newton's, in Newton's order (the row products, and the dot products summed component by
component as Warp's host ``array_inner`` sums them), so the solution is the same bit for bit
(``tests/test_sim_drape.py``); 10k particles, 8 iterations: 4.0 -> 2.8 ms per replayed solve.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import warp as wp

from tryon3d.sim import _cache  # noqa: F401  (sets WARP_CACHE_PATH before warp loads)

__all__ = ["FusedPcgSolver", "fuse_linear_solves"]


@wp.func
def _safe_ratio(num: float, den: float) -> float:
    """num / den, 0 when den is ~0 or either is NaN (as Style3D's PCG guards its steps)."""
    ratio = wp.float32(0.0)
    if wp.abs(den) > 1.0e-30 and not wp.isnan(den) and not wp.isnan(num):
        ratio = num / den
    return ratio


@wp.func
def _system_product(
    num_nz: wp.array[wp.int32],
    cols: wp.array2d[wp.int32],
    vals: wp.array2d[float],
    a_diag: wp.array[float],
    h_diag: wp.array[wp.mat33],
    x: wp.array[wp.vec3],
    i: int,
) -> wp.vec3:
    """Row ``i`` of (A + H) x: A's diagonal and row-contiguous off-diagonals, H the contact
    Hessian's diagonal blocks."""
    # Newton's order of operations (diagonal plus contact product, then the off-diagonal
    # sum from zero), so each row rounds as its ELL kernels round it
    xi = x[i]
    off = wp.vec3(0.0)
    for k in range(num_nz[i]):
        off += x[cols[i, k]] * vals[i, k]
    return (a_diag[i] * xi + h_diag[i] * xi) + off


@wp.func
def _add_dot(total: float, a: wp.vec3, b: wp.vec3) -> float:
    """``total + a.b`` summed component by component, as Warp's host ``array_inner`` sums."""
    total += a[0] * b[0]
    total += a[1] * b[1]
    total += a[2] * b[2]
    return total


@wp.kernel
def _pcg_kernel(
    num_nz: wp.array[wp.int32],
    cols: wp.array2d[wp.int32],
    vals: wp.array2d[float],
    a_diag: wp.array[float],
    h_diag: wp.array[wp.mat33],
    inv_m: wp.array[wp.mat33],
    b: wp.array[wp.vec3],
    x0: wp.array[wp.vec3],
    warm_start: int,
    iterations: int,
    r: wp.array[wp.vec3],
    z: wp.array[wp.vec3],
    p: wp.array[wp.vec3],
    ap: wp.array[wp.vec3],
    x: wp.array[wp.vec3],
):
    """The whole solve in one thread: on the CPU Warp runs a kernel's threads one after another
    anyway, and here the rows are plain loops (no per-thread call) and the dot products plain
    sums (no second pass)."""
    n = x.shape[0]
    rtz = wp.float32(0.0)
    for i in range(n):
        ri = b[i]
        xi = wp.vec3(0.0)
        if warm_start != 0:
            xi = x0[i]
        x[i] = xi
        if warm_start != 0:
            ri = ri - _system_product(num_nz, cols, vals, a_diag, h_diag, x0, i)
        r[i] = ri
        zi = inv_m[i] * ri
        z[i] = zi
        rtz = _add_dot(rtz, ri, zi)
    rtz_prev = wp.float32(0.0)
    for iteration in range(iterations):
        beta = wp.float32(0.0)
        if iteration > 0:
            beta = _safe_ratio(rtz, rtz_prev)
        for i in range(n):
            p[i] = z[i] + beta * p[i]
        ptap = wp.float32(0.0)
        for i in range(n):
            value = _system_product(num_nz, cols, vals, a_diag, h_diag, p, i)
            ap[i] = value
            ptap = _add_dot(ptap, p[i], value)
        alpha = _safe_ratio(rtz, ptap)
        rtz_prev = rtz
        rtz = wp.float32(0.0)
        for i in range(n):
            x[i] = x[i] + alpha * p[i]
            ri = r[i] - alpha * ap[i]
            r[i] = ri
            zi = inv_m[i] * ri
            z[i] = zi
            rtz = _add_dot(rtz, ri, zi)


class FusedPcgSolver:
    """Stands in for a Style3D ``PcgSolver`` on the CPU (``solve`` with the same arguments).

    Solves whose arrays or extra multiplier are not the ones Style3D passes (a float system
    diagonal, mat33 preconditioner, the collision's diagonal contact Hessian or none) go to
    the wrapped solver. The constant off-diagonal matrix is converted once per matrix object.
    """

    def __init__(self, inner: Any, device: Any):
        self.inner = inner
        self.device = wp.get_device(device)
        self.dim = int(inner.dim)
        self.r = wp.zeros(self.dim, dtype=wp.vec3, device=self.device)
        self.z = wp.zeros_like(self.r)
        self.p = wp.zeros_like(self.r)
        self.ap = wp.zeros_like(self.r)
        self.zero_hessian = wp.zeros(self.dim, dtype=wp.mat33, device=self.device)
        self.max_iterations = int(inner.maxIter)
        self.matrices: dict[int, tuple[Any, wp.array, wp.array, wp.array]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _rows(self, matrix: Any) -> tuple[wp.array, wp.array, wp.array]:
        """(nonzeros per row, columns [row, slot], values [row, slot]) of an ELL matrix,
        converted on first use (``fuse_linear_solves`` converts Style3D's before any step is
        recorded: nothing is allocated while a graph records)."""
        entry = self.matrices.get(id(matrix))
        if entry is None:
            ell = matrix.nz_ell.numpy()  # structured: column_index, value; [slot, row]
            cols = np.ascontiguousarray(ell["column_index"].T, dtype=np.int32)
            vals = np.ascontiguousarray(ell["value"].T, dtype=np.float32)
            entry = self.matrices[id(matrix)] = (
                matrix,  # kept alive with its conversion, so its id cannot be reused
                wp.array(matrix.num_nz.numpy().astype(np.int32), device=self.device),
                wp.array(cols, dtype=wp.int32, device=self.device),
                wp.array(vals, dtype=float, device=self.device),
            )
        return entry[1], entry[2], entry[3]

    def _hessian(self, multiplier: Any) -> wp.array | None:
        """The diagonal contact Hessian blocks behind ``multiplier`` (zeros for none); None
        when it is some other product."""
        if multiplier is None:
            return self.zero_hessian
        owner = getattr(multiplier, "__self__", None)
        diags = getattr(owner, "contact_hessian_diags", None)
        if getattr(multiplier, "__name__", "") != "hessian_multiply" or diags is None:
            return None
        return diags if diags.dtype == wp.mat33 and diags.shape == (self.dim,) else None

    def solve(  # the argument names are PcgSolver.solve's
        self,
        A_non_diag: Any,
        A_diag: wp.array,
        x0: wp.array | None,
        b: wp.array,
        inv_M: wp.array,
        x1: wp.array,
        iterations: int,
        additional_multiplier: Any = None,
    ) -> None:
        hessian = self._hessian(additional_multiplier)
        if hessian is None or A_diag.dtype != wp.float32 or inv_M.dtype != wp.mat33:
            self.inner.solve(
                A_non_diag, A_diag, x0, b, inv_M, x1, iterations, additional_multiplier
            )
            return
        iterations = max(0, min(int(iterations), self.max_iterations))
        num_nz, cols, vals = self._rows(A_non_diag)
        wp.launch(
            _pcg_kernel,
            dim=1,
            inputs=[
                num_nz,
                cols,
                vals,
                A_diag,
                hessian,
                inv_M,
                b,
                x1 if x0 is None else x0,
                int(x0 is not None),
                iterations,
            ],
            outputs=[self.r, self.z, self.p, self.ap, x1],
            device=self.device,
        )


def fuse_linear_solves(solver: Any) -> None:
    """Make a ``SolverStyle3D`` on the CPU solve with ``FusedPcgSolver`` (a no-op on CUDA, where
    a one-thread kernel would idle the GPU, and when already done)."""
    if isinstance(solver.linear_solver, FusedPcgSolver):
        return
    if not wp.get_device(solver.device).is_cpu:
        return
    fused = FusedPcgSolver(solver.linear_solver, solver.device)
    fused._rows(solver.pd_non_diags)
    solver.linear_solver = fused
