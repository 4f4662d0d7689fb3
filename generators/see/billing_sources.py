"""Finding a FOCUS billing export: local files and directories (each file once, by device and
inode) or an s3:// prefix, whose objects are copied, bounded in number and size, under names
of our own (an S3 key is outside text: it never names a local path)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from generators.errors import ToolError
from generators.safe_text import message, visible

SUFFIXES = (".parquet", ".csv", ".csv.gz")



# An export bucket is written by others: what one run copies is bounded. AWS's FOCUS export of a
# large account is a few files per day; a month of 10 M hourly rows is ~300 MB of Parquet
# (benchmarks/showback_scale.py), so these leave room for the largest real ones.
MAX_S3_OBJECTS = 20_000
MAX_S3_BYTES = 32 * 1024**3


def _bad_key(key: str) -> str | None:
    """Why an S3 key cannot be a billing file's name, or None. Keys are written by whoever can
    write the bucket: they never become paths here (files are saved under names of our own), but
    a key with `..`, a leading `/`, an empty part or a control character is no export's."""
    if visible(key) != key:
        return "it holds control or bidirectional-formatting characters"
    if key.startswith("/"):
        return "it starts with /"
    if any(part in ("", ".", "..") for part in key.split("/")):
        return "it has an empty, '.' or '..' part"
    return None


def download_s3(source: str, into: Path, new_client: Any = None) -> dict[Path, str]:
    """Copy the FOCUS files under s3://bucket/prefix into `into`, a private directory (the
    default AWS credential chain; AWS_ENDPOINT_URL is honoured). Each object is saved under a
    name of our own (its index and suffix), never under its key, so no key can write outside
    `into` or collide with another; returns {local path: s3://bucket/key} for messages."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    shown = message(source)
    bucket, _, prefix = source.removeprefix("s3://").partition("/")
    if not bucket:
        raise ToolError(f"--billing {shown}: expected s3://bucket/prefix")
    if new_client is None:
        import boto3

        new_client = lambda: boto3.client("s3")  # noqa: E731
    client = new_client()
    saved: dict[Path, str] = {}
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        objects = [item for page in pages for item in page.get("Contents", []) if str(item.get("Key", "")).endswith(SUFFIXES)]
        for item in objects:
            reason = _bad_key(item["Key"])
            if reason:
                raise ToolError(f"--billing {shown}: refusing the object {message(item['Key'])!r}: {reason}")
        if len(objects) > MAX_S3_OBJECTS:
            raise ToolError(f"--billing {shown}: {len(objects):,} FOCUS files under that prefix, more than {MAX_S3_OBJECTS:,}; name a "
                "narrower prefix (one billing period)")
        size = sum(int(item.get("Size", 0)) for item in objects)
        if size > MAX_S3_BYTES:
            raise ToolError(f"--billing {shown}: {size / 1024**3:,.1f} GiB under that prefix, more than {MAX_S3_BYTES // 1024**3} GiB; "
                "name a narrower prefix or use --engine athena")
        for index, item in enumerate(objects):
            key = item["Key"]
            suffix = next(s for s in SUFFIXES if key.endswith(s))
            path = into / f"{index:06d}{suffix}"
            client.download_file(bucket, key, str(path))
            saved[path] = f"s3://{bucket}/{key}"
    except NoCredentialsError as error:
        raise ToolError(f"--billing {shown}: no AWS credentials found") from error
    except (ClientError, BotoCoreError) as error:
        code = getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__)
        raise ToolError(f"--billing {shown}: cannot read the bucket ({message(code, 80)}): check the name, region and your access") from error
    if not saved:
        raise ToolError(f"--billing {shown}: no FOCUS files (.parquet, .csv, .csv.gz) under that prefix")
    return saved


def billing_files(sources: Iterable[str]) -> list[Path]:
    """The FOCUS files under each source (a directory, searched recursively, or a file), each
    once: a file named twice (`--billing DIR DIR/sub`, or through a link) is read once, by its
    resolved path."""
    found: dict[tuple[int, int], Path] = {}  # by (device, inode): the file itself, however it is named
    for source in sources:
        path = Path(source)
        if path.is_dir():
            candidates = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES))
        elif path.is_file():
            if not path.name.endswith(SUFFIXES):
                raise ToolError(f"--billing {message(source)}: not a FOCUS file (.parquet, .csv or .csv.gz)")
            candidates = [path]
        else:
            raise ToolError(f"--billing {message(source)}: no such file or directory")
        for candidate in candidates:
            identity = candidate.stat()
            found.setdefault((identity.st_dev, identity.st_ino), candidate)
    if not found:
        raise ToolError(f"--billing {message(', '.join(sources))}: no FOCUS files (.parquet, .csv, .csv.gz) found")
    return list(found.values())
