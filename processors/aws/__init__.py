"""Amazon S3 processors (NiFi's AWS bundle).

List, fetch, put, delete, tag and copy objects; read their metadata and tags.

All use an ``AWSCredentialsProviderControllerService`` for credentials and endpoint, run
their requests concurrently on the engine's event loop (aiobotocore via s3fs), and route
failures with NiFi's ``s3.*`` error attributes.
"""

from .fetch import FetchS3Object
from .list import ListS3
from .manage import (
    CopyS3Object,
    DeleteS3Object,
    GetS3ObjectMetadata,
    GetS3ObjectTags,
    TagS3Object,
)
from .put import PutS3Object

__all__ = [
    "CopyS3Object",
    "DeleteS3Object",
    "FetchS3Object",
    "GetS3ObjectMetadata",
    "GetS3ObjectTags",
    "ListS3",
    "PutS3Object",
    "TagS3Object",
]
