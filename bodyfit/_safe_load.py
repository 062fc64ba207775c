"""Reading model files that come from third parties without running code from them.

``np.load(..., allow_pickle=True)`` and ``pickle.load`` execute whatever a crafted file asks
for. Here numeric ``.npy`` members are read from their header and raw bytes, sizes are checked
against a cap before anything is decompressed (zip bombs), and the few object members that
official SMPL-X files carry (name-to-index dicts) go through an unpickler that can only build
numpy arrays and plain containers.
"""

from __future__ import annotations

import io
import math
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np

#: Largest model file content read [bytes]; the official SMPL-X files hold about 170 MB.
DEFAULT_MAX_MODEL_BYTES = 1 << 30
MAX_MODEL_BYTES_ENV = "TRYON3D_MAX_MODEL_BYTES"
_MAX_MEMBERS = 256

# The only globals a model pickle may name: numpy array and dtype reconstruction, and the
# builtin containers. Anything else (os.system, builtins.eval, subprocess...) is refused.
_ALLOWED_GLOBALS = frozenset(
    {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("builtins", "slice"),
        ("builtins", "complex"),
        ("__builtin__", "set"),
        ("__builtin__", "frozenset"),
    }
)


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        if module == "numpy.dtypes" and name.endswith("DType"):  # numpy 2's dtype classes
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"refused to load {module}.{name} (only numpy arrays and plain data are allowed)"
        )

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("refused a persistent reference")


def max_model_bytes() -> int:
    """The cap on a model file's content [bytes]: ``TRYON3D_MAX_MODEL_BYTES`` or 1 GiB."""
    text = os.environ.get(MAX_MODEL_BYTES_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_MODEL_BYTES
    try:
        value = int(float(text))
    except ValueError:
        raise ValueError(f"{MAX_MODEL_BYTES_ENV} must be a number of bytes, got {text!r}") from None
    if value <= 0:
        raise ValueError(f"{MAX_MODEL_BYTES_ENV} must be positive, got {text!r}")
    return value


def restricted_loads(data: bytes, *, label: str) -> object:
    """Unpickle ``data`` allowing only numpy arrays and plain containers.

    Raises:
        ValueError: the pickle names anything else, or is damaged; names ``label``.
    """
    try:
        return _RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load()
    except pickle.UnpicklingError as exc:
        raise ValueError(f"{label}: {exc}") from None
    except (
        EOFError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        KeyError,
        OverflowError,
        MemoryError,
    ) as exc:
        raise ValueError(f"{label} is damaged ({type(exc).__name__})") from None


def _too_big(label: str, size: int, cap: int) -> ValueError:
    return ValueError(
        f"{label} declares {size / 1e6:.0f} MB of data, over the {cap / 1e6:.0f} MB limit "
        f"(set {MAX_MODEL_BYTES_ENV} to raise it)"
    )


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str) -> np.ndarray:
    with archive.open(info) as member:
        try:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
            else:
                raise ValueError(f"unsupported .npy version {version}")
        except (ValueError, EOFError, SyntaxError) as exc:
            raise ValueError(
                f"{label} is not a valid .npy array ({str(exc).splitlines()[0]})"
            ) from None
        payload = info.file_size - member.tell()
        if dtype.hasobject:
            return np.asarray(restricted_loads(member.read(payload), label=label))
        count = math.prod(shape)
        nbytes = count * dtype.itemsize
        if nbytes != payload:
            raise ValueError(
                f"{label} declares shape {shape} ({nbytes} bytes) but holds {payload} bytes"
            )
        data = member.read(nbytes)
    if len(data) != nbytes:
        raise ValueError(f"{label} is truncated")
    array = np.frombuffer(data, dtype=dtype)
    return (array.reshape(shape[::-1]).T if fortran else array.reshape(shape)).copy()


def read_npz_safely(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file, without unpickling anything but plain data.

    Args:
        path: the ``.npz`` file.

    Returns:
        Member name (without ``.npy``) to array.

    Raises:
        ValueError: not a zip, truncated, damaged, over the size cap, or an object member that
            names anything but numpy arrays and plain containers. One line, naming the file.
    """
    path = Path(path)
    label = f"model file {str(path)!r}"
    cap = max_model_bytes()
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ValueError(f"cannot read {label}: {exc.strerror or exc}") from None
    if size == 0:
        raise ValueError(f"{label} is empty")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > _MAX_MEMBERS:
                raise ValueError(
                    f"{label} has {len(infos)} members, more than a model file's {_MAX_MEMBERS}"
                )
            total = sum(info.file_size for info in infos)
            if total > cap:  # checked on the declared sizes, before anything is inflated
                raise _too_big(label, total, cap)
            arrays = {}
            for info in infos:
                name = info.filename.removesuffix(".npy")
                arrays[name] = _read_member(archive, info, f"{label} member {name!r}")
            return arrays
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{label} is not a valid .npz (zip) file: {exc}") from None
    except (EOFError, zipfile.LargeZipFile, NotImplementedError, RuntimeError) as exc:
        raise ValueError(f"{label} is damaged ({type(exc).__name__}: {exc})") from None
    except OSError as exc:
        raise ValueError(f"cannot read {label}: {exc.strerror or exc}") from None


def read_pickle_safely(path: str | os.PathLike) -> object:
    """A ``.pkl`` model file through the restricted unpickler (numpy arrays, plain containers).

    Raises:
        ValueError: over the size cap, damaged, or naming anything else (chumpy, scipy, code).
    """
    path = Path(path)
    label = f"model file {str(path)!r}"
    cap = max_model_bytes()
    try:
        size = path.stat().st_size
        if size > cap:
            raise _too_big(label, size, cap)
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read {label}: {exc.strerror or exc}") from None
    if not data:
        raise ValueError(f"{label} is empty")
    return restricted_loads(data, label=label)
