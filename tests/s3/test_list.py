"""ListS3 against a real S3-protocol server: attributes, tracking, restarts, drain mode."""

from __future__ import annotations

import json
import time
from typing import Any

from flowengine.processors.aws import ListS3

import flowengine


def listed(runner: Any) -> list[str]:
    """Keys emitted by the runner so far (and forget them)."""
    keys = [ff["filename"] for ff in runner.flowfiles_for("success")]
    runner.clear_transferred()
    return keys


def restart(runner_for: Any, old: Any, **props: Any) -> Any:
    """A new processor instance and runtime that starts from the old one's saved state."""
    saved = old.state()
    new = runner_for(ListS3, **props)
    new.context.state.set(saved)
    return new


def test_lists_objects_with_nifi_attributes(
    runner_for: Any, s3: Any, bucket: str
) -> None:
    """Each object becomes one empty FlowFile with filename = key and s3.* attributes."""
    s3.put_object(Bucket=bucket, Key="in/a.txt", Body=b"12345")
    s3.put_object(Bucket=bucket, Key="in/sub/b.txt", Body=b"1")
    s3.put_object(Bucket=bucket, Key="other/c.txt", Body=b"1")
    r = runner_for(ListS3, bucket=bucket, prefix="in/", listing_lag="0 sec")
    r.run()
    r.assert_all_transferred("success", 2)
    ff = next(f for f in r.flowfiles_for("success") if f["filename"] == "in/a.txt")
    assert ff.content == b""
    head = s3.head_object(Bucket=bucket, Key="in/a.txt")
    ff.assert_attribute_equals("s3.bucket", bucket)
    ff.assert_attribute_equals("s3.etag", head["ETag"].strip('"'))
    ff.assert_attribute_equals("s3.length", "5")
    ff.assert_attribute_equals("s3.storeClass", "STANDARD")
    assert int(ff["s3.lastModified"]) == int(head["LastModified"].timestamp() * 1000)
    ff.assert_attribute_not_exists("s3.version")


def test_delimiter_lists_one_level(runner_for: Any, s3: Any, bucket: str) -> None:
    """With a delimiter only the objects directly under the prefix are listed."""
    for key in ("in/a", "in/b", "in/deep/c"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    r = runner_for(
        ListS3,
        bucket=bucket,
        prefix="in/",
        delimiter="/",
        listing_lag="0 sec",
        list_type="2",
    )
    r.run()
    assert sorted(listed(r)) == ["in/a", "in/b"]


def test_same_second_objects_across_listings_and_restarts(
    runner_for: Any, s3: Any, bucket: str
) -> None:
    """Objects arriving between listings, in the same second, and across a restart are
    each emitted exactly once (timestamp tracking keeps the keys at the newest second)."""
    r = runner_for(ListS3, bucket=bucket, listing_lag="0 sec")
    emitted: list[str] = []
    for i in range(3):
        s3.put_object(Bucket=bucket, Key=f"k{i}", Body=b"x")
    r.run(stop_on_finish=False)
    emitted += listed(r)
    s3.put_object(Bucket=bucket, Key="k3", Body=b"x")  # very likely the same second
    r.run(stop_on_finish=False)
    emitted += listed(r)
    r.run(stop_on_finish=False)  # nothing new
    emitted += listed(r)
    s3.put_object(Bucket=bucket, Key="k4", Body=b"x")
    r.run()
    emitted += listed(r)
    r2 = restart(runner_for, r, bucket=bucket, listing_lag="0 sec")
    s3.put_object(Bucket=bucket, Key="a-before-the-others", Body=b"x")
    r2.run()
    emitted += listed(r2)
    r3 = restart(runner_for, r2, bucket=bucket, listing_lag="0 sec")
    r3.run()
    emitted += listed(r3)
    assert sorted(emitted) == ["a-before-the-others", "k0", "k1", "k2", "k3", "k4"]


def test_listing_lag_holds_back_young_objects(
    runner_for: Any, s3: Any, bucket: str
) -> None:
    """Objects younger than the lag wait for a later listing, then come out once."""
    s3.put_object(Bucket=bucket, Key="young", Body=b"x")
    r = runner_for(ListS3, bucket=bucket, listing_lag="3 sec")
    r.run()
    assert listed(r) == []
    r2 = restart(runner_for, r, bucket=bucket, listing_lag="0 sec")
    r2.run()
    assert listed(r2) == ["young"]


def test_late_visible_object_caught_by_entity_tracking(
    runner_for: Any, s3: Any, bucket: str
) -> None:
    """An object dated before the newest one already listed (like a multipart upload that
    took minutes) is missed by timestamp tracking but emitted by entity tracking."""
    ts = runner_for(ListS3, bucket=bucket, listing_lag="0 sec")
    ent = runner_for(
        ListS3, bucket=bucket, listing_lag="0 sec", listing_strategy="entities"
    )
    s3.put_object(Bucket=bucket, Key="first", Body=b"x")
    ts.run(stop_on_finish=False)
    ent.run(stop_on_finish=False)
    assert listed(ts) == ["first"]
    assert listed(ent) == ["first"]
    s3.put_object(Bucket=bucket, Key="upload-backdated-30s", Body=b"x")
    ts.run()
    ent.run()
    assert listed(ts) == []  # NiFi's timestamp tracking misses it
    assert listed(ent) == ["upload-backdated-30s"]
    ent2 = restart(
        runner_for, ent, bucket=bucket, listing_lag="0 sec", listing_strategy="entities"
    )
    ent2.run()
    assert listed(ent2) == []


def test_entity_tracking_re_emits_changed_objects(
    runner_for: Any, s3: Any, bucket: str
) -> None:
    """With entity tracking an overwritten object (new ETag) is listed again."""
    s3.put_object(Bucket=bucket, Key="x", Body=b"one")
    r = runner_for(
        ListS3, bucket=bucket, listing_lag="0 sec", listing_strategy="entities"
    )
    r.run(stop_on_finish=False)
    assert listed(r) == ["x"]
    s3.put_object(Bucket=bucket, Key="x", Body=b"two")
    r.run()
    assert listed(r) == ["x"]


def test_batches_commit_before_the_listing_ends(
    runner_for: Any, s3: Any, bucket: str
) -> None:
    """A listing larger than the batch size commits in batches and emits each once."""
    for i in range(25):
        s3.put_object(Bucket=bucket, Key=f"o{i:02d}", Body=b"x")
    r = runner_for(ListS3, bucket=bucket, listing_lag="0 sec", listing_batch_size="10")
    r.run()
    assert sorted(listed(r)) == [f"o{i:02d}" for i in range(25)]
    assert r.state()["key-0"].startswith("o")
    assert "listing.pending" not in r.state()


def test_changing_prefix_resets_tracking(runner_for: Any, s3: Any, bucket: str) -> None:
    """Tracking restarts when the prefix changes (NiFi resets state on such changes)."""
    s3.put_object(Bucket=bucket, Key="a/1", Body=b"x")
    r = runner_for(ListS3, bucket=bucket, listing_lag="0 sec")
    r.run()
    assert listed(r) == ["a/1"]
    r2 = restart(runner_for, r, bucket=bucket, prefix="a/", listing_lag="0 sec")
    r2.run()
    assert listed(r2) == ["a/1"]


def test_versions_are_listed(runner_for: Any, s3: Any, bucket: str) -> None:
    """With Use Versions every version is emitted with s3.version and s3.isLatest."""
    s3.put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    s3.put_object(Bucket=bucket, Key="v", Body=b"1")
    s3.put_object(Bucket=bucket, Key="v", Body=b"2")
    r = runner_for(ListS3, bucket=bucket, listing_lag="0 sec", use_versions="true")
    r.run()
    ffs = r.flowfiles_for("success")
    assert len(ffs) == 2
    assert sorted(f["s3.isLatest"] for f in ffs) == ["false", "true"]
    assert all(f.get("s3.version") for f in ffs)


def test_tags_and_user_metadata_attributes(
    runner_for: Any, s3: Any, bucket: str
) -> None:
    """Write Object Tags / Write User Metadata add s3.tag.* and s3.user.metadata.*."""
    s3.put_object(
        Bucket=bucket, Key="t", Body=b"x", Metadata={"m": "1"}, Tagging="color=red"
    )
    r = runner_for(
        ListS3,
        bucket=bucket,
        listing_lag="0 sec",
        write_object_tags="true",
        write_user_metadata="true",
    )
    r.run()
    ff = r.flowfiles_for("success")[0]
    ff.assert_attribute_equals("s3.tag.color", "red")
    ff.assert_attribute_equals("s3.user.metadata.m", "1")


def test_missing_bucket_yields_with_a_bulletin(runner_for: Any) -> None:
    """A listing error emits nothing, posts a bulletin and yields."""
    r = runner_for(ListS3, bucket="no-such-bucket-here", listing_lag="0 sec")
    r.run()
    assert r.transfer_counts() == {}
    assert "NoSuchBucket" in r.bulletins[-1].message
    assert r.is_yielded


def test_drain_mode_waits_out_the_lag_then_lists_once(
    moto: Any, s3: Any, bucket: str
) -> None:
    """Run-until-drained: objects present at start are all emitted after the lag, once."""
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"d{i}", Body=b"x")
    flow = flowengine.Flow("drain")
    flow.add_service(
        "aws", "AWSCredentialsProviderControllerService", moto.service_properties()
    )
    flow.add_processor(
        "list",
        "ListS3",
        {"bucket": bucket, "listing_lag": "1 sec", "aws_credentials_provider": "aws"},
    )
    flow.add_output_port("out")
    flow.connect("list", "out", ["success"])
    started = time.monotonic()
    result = flow.run(until_drained=True, timeout=30)
    assert result.drained
    assert time.monotonic() - started >= 0.5
    assert sorted(ff.attributes["filename"] for ff in result.outputs["out"]) == [
        f"d{i}" for i in range(5)
    ]


def test_objects_written_during_listings_and_restarts_are_emitted_once(
    runner_for: Any, s3: Any, bucket: str, moto: Any
) -> None:
    """A writer adds objects (random key order, many in the same second) while ListS3
    lists again and again, restarting every other time: in the end every object has
    been emitted exactly once."""
    import random
    import threading

    written: list[str] = []
    writer_client = moto.boto3()

    def writer() -> None:
        rnd = random.Random(5)
        for i in range(120):
            key = f"{rnd.randrange(10**6):06d}-{i}"
            writer_client.put_object(Bucket=bucket, Key=key, Body=b"x")
            written.append(key)

    props = {"bucket": bucket, "listing_lag": "1 sec", "listing_batch_size": "7"}
    t = threading.Thread(target=writer)
    t.start()
    emitted: list[str] = []
    r = runner_for(ListS3, **props)
    n = 0
    while t.is_alive():
        r.run()
        emitted += listed(r)
        n += 1
        if n % 2 == 0:
            r = restart(runner_for, r, **props)
    t.join()
    time.sleep(1.2)
    r.run()
    emitted += listed(r)
    assert n >= 2
    assert len(emitted) == len(set(emitted)), "an object was emitted twice"
    assert sorted(emitted) == sorted(written)


def test_listing_lag_catches_objects_visible_later_than_their_timestamp(
    runner_for: Any, s3: Any, bucket: str
) -> None:
    """With timestamps and no lag, an object that shows up 8 s after its lastModified,
    once a newer object has been listed, is lost; a 10 s lag holds the newer object
    back, so the late one is still emitted (once)."""
    no_lag = runner_for(ListS3, bucket=bucket, listing_lag="0 sec")
    lag = runner_for(ListS3, bucket=bucket, listing_lag="10 sec")
    s3.put_object(Bucket=bucket, Key="a-backdated-20s", Body=b"x")
    s3.put_object(Bucket=bucket, Key="c-now", Body=b"x")
    no_lag.run()
    lag.run()
    assert sorted(listed(no_lag)) == ["a-backdated-20s", "c-now"]
    emitted = listed(lag)
    assert "a-backdated-20s" in emitted
    s3.put_object(Bucket=bucket, Key="b-backdated-8s", Body=b"x")  # visible late
    no_lag.run()
    assert listed(no_lag) == []  # lost: older than the newest one already listed
    time.sleep(2.2)  # b is now older than the lag
    lag.run()
    emitted += listed(lag)
    assert "b-backdated-8s" in emitted
    assert len(emitted) == len(set(emitted))


def test_record_writer_lists_into_one_flowfile(
    runner_for: Any, s3: Any, bucket: str
) -> None:
    """With a Record Writer the listing is one FlowFile of records (NiFi's schema)."""
    for i in range(3):
        s3.put_object(Bucket=bucket, Key=f"r{i}", Body=b"x" * (i + 1), Tagging=f"n={i}")
    r = runner_for(
        ListS3,
        bucket=bucket,
        listing_lag="0 sec",
        record_writer="json",
        write_object_tags="true",
    )
    r.add_service("json", "JsonRecordSetWriter", {})
    r.run()
    r.assert_all_transferred("success", 1)
    ff = r.flowfiles_for("success")[0]
    ff.assert_attribute_equals("record.count", "3")
    records = json.loads(ff.text)
    assert [rec["key"] for rec in records] == ["r0", "r1", "r2"]
    assert [rec["size"] for rec in records] == [1, 2, 3]
    assert records[2]["bucket"] == bucket
    assert "n" in json.dumps(records[1]["tags"])
    r2 = restart(runner_for, r, bucket=bucket, listing_lag="0 sec")
    r2.run()
    assert listed(r2) == []
