"""
Download, here, the Python 3.12 wheels that a GPU machine without a package registry needs on
top of its image (torch 2.11, transformers 5.x, ...) to run the plugin, and make them small
enough to travel with the working tree (64 MiB): `make gpu-wheels`.

    python scripts/gpu_wheels.py [--out .gpu-wheels] [--pins requirements/gpu-wheels.txt]

Every pin of `requirements/gpu-wheels.txt` is fetched with `pip download --no-deps` for CPython
3.12 on manylinux x86-64; the two sdist-only pins (fairscale, word2number: pure Python) are
built into wheels here. Two slimming steps, each changing no code that runs: compiled
extensions are shipped with their debug sections (spaCy's alone are ~150 MB unpacked), which
`strip --strip-debug` removes; botocore's API models of the ~400 AWS services other than S3
and STS go (cached_path imports boto3 for s3:// paths only; nothing here reads from S3). The
wheel's RECORD is rewritten with the new hashes. `scripts/gpu_env.sh` installs the result on
the GPU machine with `pip install --no-index --no-deps`.
"""

import argparse
import base64
import csv
import hashlib
import io
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PLATFORMS = [
    "manylinux_2_28_x86_64",
    "manylinux_2_27_x86_64",
    "manylinux_2_24_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
    "manylinux_2_5_x86_64",
    "manylinux1_x86_64",
]


def read_pins(path: Path) -> list[str]:
    """`name==version` lines of a requirements file, comments dropped."""
    pins = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            pins.append(line)
    return pins


def download(pin: str, out: Path) -> None:
    """A cp312 manylinux wheel of `pin`, or a wheel built here from its (pure Python) sdist."""
    pip = [sys.executable, "-m", "pip"]
    binary = [*pip, "download", "--quiet", "--no-deps", "--only-binary=:all:"]
    binary += ["--python-version", "3.12", "--implementation", "cp", "-d", str(out)]
    for platform in PLATFORMS:
        binary += ["--platform", platform]
    if subprocess.run([*binary, pin], capture_output=True).returncode == 0:
        return
    # No wheel: build one, and accept it only when it is pure Python (py3-none-any).
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [*pip, "wheel", "--quiet", "--no-deps", "--no-binary", ":all:", "-w", tmp, pin],
            check=True,
        )
        for wheel in Path(tmp).glob("*.whl"):
            if not wheel.name.endswith("-none-any.whl"):
                raise SystemExit(f"{pin}: no cp312 wheel and the sdist builds {wheel.name}")
            shutil.copy(wheel, out / wheel.name)


def record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


# botocore/data/<service>/ folders kept; the top-level files (endpoints, partitions) stay too.
BOTOCORE_SERVICES = {"s3", "sts"}


def is_shared_library(name: str) -> bool:
    return name.endswith(".so") or ".so." in name


def dropped(name: str) -> bool:
    """Files left out of the slim wheels: botocore's models of services other than S3/STS."""
    parts = name.split("/")
    return (
        len(parts) > 3 and parts[:2] == ["botocore", "data"] and parts[2] not in BOTOCORE_SERVICES
    )


def slim_wheel(wheel: Path) -> int:
    """
    Rewrite `wheel` without the `dropped` files, with `strip --strip-debug` applied to its
    shared libraries and a RECORD with the new hashes and sizes. Returns the bytes saved (0
    when the wheel is left as it was).
    """
    with zipfile.ZipFile(wheel) as source:
        names = [name for name in source.namelist() if not dropped(name)]
        if len(names) == len(source.namelist()) and not any(map(is_shared_library, names)):
            return 0
        contents = {name: source.read(name) for name in names}
        infos = {info.filename: info for info in source.infolist()}
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in contents.items():
            if not is_shared_library(name):
                continue
            path = Path(tmp) / "lib.so"
            path.write_bytes(data)
            subprocess.run(["strip", "--strip-debug", str(path)], check=True)
            contents[name] = path.read_bytes()
    record_name = next(n for n in names if n.endswith(".dist-info/RECORD"))
    rows = []
    for name in names:
        if name == record_name:
            rows.append([name, "", ""])
        else:
            rows.append([name, record_hash(contents[name]), str(len(contents[name]))])
    record = io.StringIO()
    csv.writer(record, lineterminator="\n").writerows(rows)
    contents[record_name] = record.getvalue().encode()
    before = wheel.stat().st_size
    slim = wheel.with_suffix(".tmp")
    with zipfile.ZipFile(slim, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=infos[name].date_time)
            info.external_attr = infos[name].external_attr
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, contents[name])
    slim.replace(wheel)
    return before - wheel.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(".gpu-wheels"))
    parser.add_argument("--pins", type=Path, default=Path("requirements/gpu-wheels.txt"))
    args = parser.parse_args()
    if shutil.which("strip") is None:
        raise SystemExit("gpu_wheels: `strip` (binutils) is needed to make the wheels small")
    pins = read_pins(args.pins)
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    for pin in pins:
        download(pin, args.out)
    wheels = sorted(args.out.glob("*.whl"))
    names = {w.name.split("-")[0].lower().replace("_", "-") for w in wheels}
    missing = [p for p in pins if p.split("==")[0].lower().replace("_", "-") not in names]
    if missing or len(wheels) != len(pins):
        raise SystemExit(
            f"gpu_wheels: {len(wheels)} wheels for {len(pins)} pins; missing {missing}"
        )
    saved = sum(slim_wheel(w) for w in wheels)
    total = sum(w.stat().st_size for w in wheels)
    print(
        f"gpu_wheels: {len(wheels)} wheels in {args.out}, {total / 2**20:.1f} MiB "
        f"({saved / 2**20:.1f} MiB saved by slimming)"
    )
    if total > 56 * 2**20:
        raise SystemExit("gpu_wheels: over 56 MiB: with the tree they would not fit in 64 MiB")


if __name__ == "__main__":
    main()
