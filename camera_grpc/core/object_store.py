"""An S3-compatible bucket (AWS S3, MinIO, Ceph, SeaweedFS), through boto3: upload, verify, read, presign.

:class:`ObjectStore` is a thin wrapper over one boto3 client (thread-safe; the uploader thread and request
threads share it). A file below :data:`PART_BYTES` is one ``PutObject`` carrying its SHA-256 (the store
refuses other bytes) and confirmed by the checksum the store answers with. Larger files go through boto3's
managed transfer (``upload_file`` with a ``TransferConfig``): multipart, parts in parallel, each sent with its
SHA-256 (``ChecksumAlgorithm``); after the upload :meth:`put_file` compares the store's own checksum of the
object (``head_object`` with ``ChecksumMode``) to the composite one computed here from the file (SHA-256 of
the parts' SHA-256s, ``-<parts>``). The whole file's SHA-256 always goes along as object metadata
(``sha256``, for any client to check). A mismatch raises :class:`ChecksumMismatchError`,
and the caller keeps the file and tries again.

A multipart upload that a killed process never completed stays invisible (no object, only an incomplete
upload the store keeps); :meth:`abort_incomplete` removes those of a key before it is uploaded again.

Credentials follow boto3's standard chain (``AWS_ACCESS_KEY_ID``..., ``AWS_PROFILE``, instance roles), or a
shared credentials file (``S3_CREDENTIALS_FILE``, profile ``default``). ``S3_CA_FILE`` verifies the
endpoint's TLS. Any failure to talk to the store is an :class:`ObjectStoreError` whose message says what
to check (endpoint, credentials, bucket) — never a boto3 traceback.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import boto3
import botocore.session
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from s3transfer.utils import ChunksizeAdjuster

log = logging.getLogger(__name__)

#: Part size of multipart uploads, bytes; files at least this large are uploaded in parts (S3's smallest
#: part is 5 MiB; 8 MiB is boto3's default).
PART_BYTES = 8 * 1024 * 1024
#: Parts of one file uploaded at once.
UPLOAD_CONCURRENCY = 4
#: Bytes read at a time when hashing a file.
HASH_READ_BYTES = 1024 * 1024
#: Seconds to open a connection to the store, and to wait for its answer to a request.
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 60.0
#: Attempts botocore makes per request (the uploader retries whole uploads with its own backoff).
REQUEST_ATTEMPTS = 2
#: Object metadata (``x-amz-meta-sha256``) holding the whole file's SHA-256, hex.
SHA256_METADATA = "sha256"
#: Pre-signed URLs: default and longest validity, seconds (as camera.v1.GetDownloadUrlRequest says).
DEFAULT_URL_VALID_S = 300
MAX_URL_VALID_S = 86400
#: The profile read from S3_CREDENTIALS_FILE.
CREDENTIALS_PROFILE = "default"
#: Keys per DeleteObjects request (S3's most).
DELETE_BATCH_KEYS = 1000
#: Error codes that mean "who you are or what you may do", not "the store is down".
_ACCESS_CODES = frozenset(
    {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"}
)
_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchBucket"})


class ObjectStoreError(Exception):
    """The store could not be reached or refused a request; the message says what to check."""


class ChecksumMismatchError(ObjectStoreError):
    """The object the store holds is not the file that was uploaded."""


class ObjectMissingError(ObjectStoreError):
    """No such object (or bucket)."""


@dataclass(frozen=True)
class FileDigest:
    """A file's size and SHA-256, whole and as a multipart upload of ``part_bytes`` parts computes it."""

    size_bytes: int
    sha256_hex: str
    part_bytes: int  #: the part size of the upload (the composite checksum depends on it)
    parts: int  #: 1: a single-part upload
    checksum: str  #: what the store reports: base64 SHA-256, or base64 composite SHA-256 + ``-<parts>``


@dataclass(frozen=True)
class StoredObject:
    """An object in the bucket, as ``head_object`` describes it."""

    key: str
    size_bytes: int
    sha256_hex: str  #: from the object's metadata ("" if it has none)
    checksum: str  #: the store's SHA-256 checksum ("" if it keeps none)


def digest_file(path: Path, part_bytes: int = PART_BYTES) -> FileDigest:
    """Read ``path`` once: its size, SHA-256 and the checksum an upload in ``part_bytes`` parts gets."""
    size = path.stat().st_size
    part = ChunksizeAdjuster().adjust_chunksize(part_bytes, size)
    whole = hashlib.sha256()
    part_digests: list[bytes] = []
    with path.open("rb") as file:
        while True:
            current = hashlib.sha256()
            got = 0
            while got < part and (chunk := file.read(min(HASH_READ_BYTES, part - got))):
                whole.update(chunk)
                current.update(chunk)
                got += len(chunk)
            if got == 0:
                break
            part_digests.append(current.digest())
            if got < part:
                break
    if size < part_bytes:  # boto3 uploads files below the threshold in one request
        checksum = base64.b64encode(whole.digest()).decode()
        parts = 1
    else:
        composite = hashlib.sha256(b"".join(part_digests)).digest()
        parts = len(part_digests)
        checksum = f"{base64.b64encode(composite).decode()}-{parts}"
    return FileDigest(size, whole.hexdigest(), part, parts, checksum)


class ObjectStore:
    """One bucket of an S3-compatible store (thread-safe)."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        credentials_file: Path | None = None,
        ca_file: Path | None = None,
        part_bytes: int = PART_BYTES,
        concurrency: int = UPLOAD_CONCURRENCY,
        access_key: tuple[str, str] | None = None,
    ) -> None:
        """``access_key``: (access key id, secret) instead of the standard chain (tests and benches)."""
        self.bucket = bucket
        self.endpoint = endpoint_url or f"https://s3.{region}.amazonaws.com"
        self.part_bytes = part_bytes
        core = botocore.session.Session()
        if credentials_file is not None:
            core.set_config_variable("credentials_file", str(credentials_file.expanduser()))
            core.set_config_variable("profile", CREDENTIALS_PROFILE)
        session = boto3.Session(botocore_session=core)
        config = Config(
            region_name=region,
            signature_version="s3v4",
            # An endpoint of our own (MinIO, SeaweedFS, an IP address) serves buckets as paths.
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=READ_TIMEOUT_S,
            retries={"total_max_attempts": REQUEST_ATTEMPTS, "mode": "standard"},
            max_pool_connections=max(10, concurrency * 2),
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        keys = {"aws_access_key_id": access_key[0], "aws_secret_access_key": access_key[1]} if access_key else {}
        self._client = session.client(
            "s3",
            endpoint_url=endpoint_url,
            verify=str(ca_file.expanduser()) if ca_file is not None else None,
            config=config,
            **keys,
        )
        self._transfer = TransferConfig(
            multipart_threshold=part_bytes, multipart_chunksize=part_bytes, max_concurrency=concurrency
        )

    @classmethod
    def from_settings(cls, settings: Any) -> ObjectStore:
        """The store of ``STORAGE_BACKEND=s3`` settings (:class:`camera_grpc.config.Settings`)."""
        return cls(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            credentials_file=settings.s3_credentials_file,
            ca_file=settings.s3_ca_file,
        )

    def describe(self) -> str:
        """``bucket <name> at <endpoint>``, for messages."""
        return f"bucket {self.bucket} at {self.endpoint}"

    def check(self) -> None:
        """Raise ObjectStoreError unless the bucket is there and these credentials may use it."""
        self._call("head_bucket", Bucket=self.bucket)

    def put_file(
        self, path: Path, key: str, *, content_type: str, metadata: Mapping[str, str] | None = None
    ) -> StoredObject:
        """Upload ``path`` as ``key`` and confirm it by checksum (blocking); ChecksumMismatchError if the store
        holds other bytes, ObjectStoreError if it cannot be reached."""
        digest = digest_file(path, self.part_bytes)
        metadata = {**(metadata or {}), SHA256_METADATA: digest.sha256_hex}
        if digest.size_bytes < self.part_bytes:
            return self._put_small(path, key, digest, content_type, metadata)
        extra = {"ContentType": content_type, "ChecksumAlgorithm": "SHA256", "Metadata": metadata}
        try:
            self._client.upload_file(str(path), self.bucket, key, ExtraArgs=extra, Config=self._transfer)
        except (BotoCoreError, ClientError) as exc:
            raise _store_error(exc, f"upload of {key} to {self.describe()}") from None
        except Exception as exc:  # s3transfer wraps some failures in its own exceptions
            raise ObjectStoreError(f"upload of {key} to {self.describe()} failed: {exc}") from None
        stored = self.head(key)
        if stored is None:
            raise ChecksumMismatchError(f"{key} is not in {self.describe()} after its upload")
        self.confirm(stored, digest)
        return stored

    def _put_small(
        self, path: Path, key: str, digest: FileDigest, content_type: str, metadata: Mapping[str, str]
    ) -> StoredObject:
        """One PUT carrying the file's SHA-256 (the store refuses other bytes), confirmed by the checksum the
        store answers with (a HEAD only if it answers none)."""
        with path.open("rb") as body:
            response = self._call(
                "put_object",
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ChecksumSHA256=digest.checksum,
                ContentType=content_type,
                Metadata=dict(metadata),
            )
        answered = response.get("ChecksumSHA256", "") or ""
        stored = StoredObject(key, digest.size_bytes, digest.sha256_hex, answered) if answered else self.head(key)
        if stored is None:
            raise ChecksumMismatchError(f"{key} is not in {self.describe()} after its upload")
        self.confirm(stored, digest)
        return stored

    @staticmethod
    def confirm(stored: StoredObject, digest: FileDigest) -> None:
        """ChecksumMismatchError unless ``stored`` holds the bytes ``digest`` describes."""
        if stored.size_bytes != digest.size_bytes:
            raise ChecksumMismatchError(
                f"{stored.key}: the store holds {stored.size_bytes} bytes, the file has {digest.size_bytes}"
            )
        if stored.checksum:
            if stored.checksum != digest.checksum:
                raise ChecksumMismatchError(
                    f"{stored.key}: the store's SHA-256 checksum {stored.checksum} is not the file's {digest.checksum}"
                )
        elif stored.sha256_hex != digest.sha256_hex:  # a store that keeps no checksums: the metadata at least
            raise ChecksumMismatchError(f"{stored.key}: its sha256 metadata is not the file's")

    def head(self, key: str) -> StoredObject | None:
        """The object ``key`` (None if there is none)."""
        try:
            response = self._call("head_object", Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        except ObjectMissingError:
            return None
        return StoredObject(
            key=key,
            size_bytes=int(response["ContentLength"]),
            sha256_hex=response.get("Metadata", {}).get(SHA256_METADATA, ""),
            checksum=response.get("ChecksumSHA256", "") or "",
        )

    def get_bytes(self, key: str) -> bytes:
        """The content of ``key`` (ObjectMissingError if there is none)."""
        response = self._call("get_object", Bucket=self.bucket, Key=key)
        try:
            return bytes(response["Body"].read())
        except (BotoCoreError, ClientError, OSError) as exc:
            raise ObjectStoreError(f"reading {key} from {self.describe()} failed: {exc}") from None

    def open_from(self, key: str, offset: int, *, read_error: type[Exception] = ObjectStoreError) -> BinaryIO:
        """The bytes of ``key`` from ``offset`` on, as a stream read as it arrives (a ranged GET; nothing is
        requested at the end of the object). ObjectMissingError if there is no such object; a failure while
        reading the stream raises ``read_error`` (its message says what to check)."""
        if offset > 0:
            stored = self.head(key)
            if stored is None:
                raise ObjectMissingError(f"{key} is not in {self.describe()}")
            if offset >= stored.size_bytes:
                return io.BytesIO()
        params = {"Range": f"bytes={offset}-"} if offset > 0 else {}
        response = self._call("get_object", Bucket=self.bucket, Key=key, **params)
        return _ObjectStream(response["Body"], f"reading {key} from {self.describe()}", read_error)

    def delete_keys(self, keys: Iterable[str]) -> int:
        """Delete the objects ``keys`` (absent ones are no error); returns how many were asked for."""
        keys = list(keys)
        for start in range(0, len(keys), DELETE_BATCH_KEYS):
            batch = [{"Key": key} for key in keys[start : start + DELETE_BATCH_KEYS]]
            response = self._call("delete_objects", Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
            failed = response.get("Errors", ())
            if failed:
                first = failed[0]
                raise ObjectStoreError(
                    f"deleting {first.get('Key')} from {self.describe()}: {first.get('Code')} {first.get('Message')}"
                )
        return len(keys)

    def presign(self, key: str, valid_for_s: int = DEFAULT_URL_VALID_S) -> str:
        """A URL that GETs ``key`` without credentials for ``valid_for_s`` seconds (no request is made)."""
        try:
            url: str = self._client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=valid_for_s
            )
        except (BotoCoreError, ClientError) as exc:
            raise _store_error(exc, f"signing a URL of {key}") from None
        return url

    def keys(self, prefix: str) -> Iterator[str]:
        """Keys under ``prefix``, in the store's order (paginated)."""
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", ()):
                    yield item["Key"]
        except (BotoCoreError, ClientError) as exc:
            raise _store_error(exc, f"listing {prefix} in {self.describe()}") from None

    def abort_incomplete(self, key: str) -> int:
        """Abort the multipart uploads of ``key`` never completed (a killed upload's); returns how many."""
        response = self._call("list_multipart_uploads", Bucket=self.bucket, Prefix=key)
        aborted = 0
        for upload in response.get("Uploads", ()):
            if upload.get("Key") != key:
                continue
            self._call("abort_multipart_upload", Bucket=self.bucket, Key=key, UploadId=upload["UploadId"])
            aborted += 1
        return aborted

    def _call(self, operation: str, **params: Any) -> Any:
        try:
            return getattr(self._client, operation)(**params)
        except (BotoCoreError, ClientError) as exc:
            raise _store_error(exc, f"{operation} on {self.describe()}") from None

    def close(self) -> None:
        """Close the client's connections."""
        self._client.close()


class _ObjectStream(io.RawIOBase):
    """An object's body as a readable, not seekable, binary stream; a failed read raises the error type given
    (with a message saying what to check), never a botocore exception."""

    def __init__(self, body: Any, doing: str, error: type[Exception]) -> None:
        super().__init__()
        self._body = body
        self._doing = doing
        self._error = error

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._body.read(len(buffer))
        except (BotoCoreError, ClientError, OSError) as exc:
            raise self._error(str(_store_error(exc, self._doing))) from None
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


def _store_error(exc: Exception, doing: str) -> ObjectStoreError:
    """An ObjectStoreError whose message says what failed and what to check."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        message = error.get("Message", "") or code
        if code in _ACCESS_CODES:
            return ObjectStoreError(
                f"{doing}: access denied ({message}); check the credentials (S3_CREDENTIALS_FILE or AWS_*) and "
                "their permissions on the bucket"
            )
        if code in _MISSING_CODES:
            return ObjectMissingError(f"{doing}: not found ({message})")
        return ObjectStoreError(f"{doing}: {code} {message}".rstrip())
    return ObjectStoreError(f"{doing}: the store is unreachable ({exc}); check S3_ENDPOINT_URL and the network")
