"""The media storage's STORAGES entry, built from environment variables (no database, no store)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from serviceloop.core.storage_settings import media_storage

S3 = {"SERVICELOOP_MEDIA_STORAGE": "s3", "SERVICELOOP_S3_BUCKET": "media"}


def test_without_variables_attachments_stay_in_the_media_directory() -> None:
    assert media_storage({}) == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_an_s3_bucket_is_private_unsigned_and_never_overwritten() -> None:
    entry = media_storage({**S3, "SERVICELOOP_S3_PREFIX": "/prod/media/"})
    assert entry["BACKEND"] == "storages.backends.s3.S3Storage"
    assert entry["OPTIONS"] == {
        "bucket_name": "media",
        "location": "prod/media",
        "default_acl": "private",
        "querystring_auth": False,
        "file_overwrite": False,
    }


def test_an_s3_compatible_store_is_addressed_path_style_at_its_endpoint() -> None:
    options = media_storage({**S3, "SERVICELOOP_S3_ENDPOINT_URL": "http://minio:9000"})["OPTIONS"]
    assert (options["endpoint_url"], options["addressing_style"]) == ("http://minio:9000", "path")  # type: ignore[index]


def test_an_empty_acl_sends_none_for_buckets_with_acls_disabled() -> None:
    assert media_storage({**S3, "SERVICELOOP_S3_ACL": ""})["OPTIONS"]["default_acl"] is None  # type: ignore[index]


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"SERVICELOOP_MEDIA_STORAGE": "s3"}, "needs SERVICELOOP_S3_BUCKET"),
        ({"SERVICELOOP_MEDIA_STORAGE": "azure"}, "'azure' is not known"),
        ({**S3, "SERVICELOOP_S3_SECRET_ACCESS_KEY": "x"}, "Set both SERVICELOOP_S3_ACCESS_KEY_ID"),
    ],
)
def test_a_storage_that_cannot_work_is_refused_with_what_to_set(environment: dict[str, str], message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        media_storage(environment)
