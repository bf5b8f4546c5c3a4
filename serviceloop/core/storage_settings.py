"""The media storage's entry of Django's STORAGES, built from the environment (README, *Configuration*).

Apart from settings.py so that tests can build the same entry from variables of their own; it imports
nothing of Django's storages, so reading the settings stays cheap.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured


def media_storage(environ: Mapping[str, str]) -> dict[str, object]:
    """The storage of attachments: a directory (one machine, or a volume every web process mounts) or
    an S3-compatible bucket (docs/operations-storage.md). Files are never served from the store itself:
    our views read them after a visibility check, so the bucket stays private and URLs unsigned."""
    kind = environ.get("SERVICELOOP_MEDIA_STORAGE", "filesystem").strip().lower()
    if kind == "filesystem":
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    if kind != "s3":
        raise ImproperlyConfigured(
            f"SERVICELOOP_MEDIA_STORAGE={kind!r} is not known: use 'filesystem' (the default) or 's3'."
        )
    bucket = environ.get("SERVICELOOP_S3_BUCKET", "").strip()
    if not bucket:
        raise ImproperlyConfigured("SERVICELOOP_MEDIA_STORAGE=s3 needs SERVICELOOP_S3_BUCKET (the bucket's name).")
    if importlib.util.find_spec("storages") is None or importlib.util.find_spec("boto3") is None:
        raise ImproperlyConfigured(
            "SERVICELOOP_MEDIA_STORAGE=s3 needs django-storages and boto3: pip install 'serviceloop[s3]'."
        )
    endpoint = environ.get("SERVICELOOP_S3_ENDPOINT_URL", "").strip()
    options: dict[str, object] = {
        "bucket_name": bucket,
        "location": environ.get("SERVICELOOP_S3_PREFIX", "").strip().strip("/"),
        # Objects stay private; we never hand out the store's URLs, so no signed querystrings either.
        "default_acl": environ.get("SERVICELOOP_S3_ACL", "private").strip() or None,
        "querystring_auth": False,
        # Names carry a random directory already; refusing to overwrite costs one HEAD and rules out
        # ever replacing another ticket's file.
        "file_overwrite": False,
    }
    if endpoint:
        # MinIO, Ceph and most other S3-compatible stores answer on one host name: path-style addressing.
        options["endpoint_url"] = endpoint
        options["addressing_style"] = "path"
    if environ.get("SERVICELOOP_S3_REGION", ""):
        options["region_name"] = environ.get("SERVICELOOP_S3_REGION", "").strip()
    access_key = environ.get("SERVICELOOP_S3_ACCESS_KEY_ID", "").strip()
    secret_key = environ.get("SERVICELOOP_S3_SECRET_ACCESS_KEY", "").strip()
    if bool(access_key) != bool(secret_key):
        raise ImproperlyConfigured(
            "Set both SERVICELOOP_S3_ACCESS_KEY_ID and SERVICELOOP_S3_SECRET_ACCESS_KEY, or neither "
            "(boto3 then finds credentials itself: AWS_* variables, its config files, an instance role)."
        )
    if access_key:
        options["access_key"] = access_key
        options["secret_key"] = secret_key
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}
