"""The critical path of an apply: operations from stamped output, dependencies from a state, the chain."""

from __future__ import annotations

import pytest

from tools.bench.critical_path import Operation, critical_path, parse_operations, state_dependencies


def test_operations_pair_starts_with_completions_and_drop_what_never_completed():
    stamped = "\n".join(
        [
            '10.0\tmodule.m["k"].aws_kms_key.this: Creating...',
            "10.5\tdata.aws_iam_policy_document.x: Reading...",
            "10.6\tdata.aws_iam_policy_document.x: Read complete after 0s [id=1]",
            '12.0\tmodule.m["k"].aws_kms_key.this: Still creating... [10s elapsed]',
            '22.0\tmodule.m["k"].aws_kms_key.this: Creation complete after 12s [id=k]',
            "23.0\t\x1b[0m\x1b[1maws_lambda_function.f: Creating...\x1b[0m",
            "not stamped: Creating...",
        ]
    )
    operations = parse_operations(stamped)
    assert [(op.address, op.started, op.ended) for op in operations] == [
        ('module.m["k"].aws_kms_key.this', 10.0, 22.0),
        ("data.aws_iam_policy_document.x", 10.5, 10.6),
    ]


def test_state_dependencies_are_keyed_by_instance_address():
    state = {
        "resources": [
            {
                "module": 'module.p.module.b["x"]',
                "mode": "managed",
                "type": "aws_s3_bucket_policy",
                "name": "this",
                "instances": [{"dependencies": ['module.p.module.b["x"].aws_s3_bucket.this']}],
            },
            {
                "mode": "managed",
                "type": "aws_s3_bucket",
                "name": "n",
                "instances": [{"index_key": 0}, {"index_key": "k"}],
            },
        ]
    }
    assert state_dependencies(state) == {
        'module.p.module.b["x"].aws_s3_bucket_policy.this': {'module.p.module.b["x"].aws_s3_bucket.this'},
        "aws_s3_bucket.n[0]": set(),
        'aws_s3_bucket.n["k"]': set(),
    }


def test_the_critical_path_follows_dependencies_and_weighs_only_the_providers_time():
    op = Operation
    operations = [
        op("module.k.aws_kms_key.this", 0.0, 12.0),
        op('module.b["s3"].aws_s3_bucket.this', 0.0, 1.0),  # independent of the key
        op('module.c["cmk"].aws_s3_bucket.this', 0.0, 1.0),
        op('module.c["cmk"].aws_s3_bucket_server_side_encryption_configuration.this[0]', 12.0, 12.5),
        op('module.c["cmk"].terraform_data.helper', 12.5, 14.0),  # ours: weighs nothing
        op("aws_lambda_function.f", 1.0, 11.0),  # waited for the bucket it does not read: 1 + 10 < 12.5
    ]
    dependencies = {
        'module.c["cmk"].aws_s3_bucket_server_side_encryption_configuration.this[0]': {
            "module.k.aws_kms_key.this",
            'module.c["cmk"].aws_s3_bucket.this',
        },
        'module.c["cmk"].terraform_data.helper': {
            'module.c["cmk"].aws_s3_bucket_server_side_encryption_configuration.this'
        },
        "aws_lambda_function.f": {'module.b["s3"].aws_s3_bucket.this'},
    }
    path = critical_path(operations, dependencies)
    assert path is not None
    assert [address for address, _, _ in path.chain] == [
        "module.k.aws_kms_key.this",
        'module.c["cmk"].aws_s3_bucket_server_side_encryption_configuration.this[0]',
        'module.c["cmk"].terraform_data.helper',
    ]
    assert (path.walk_seconds, path.chain_seconds) == (14.0, 12.5)
    assert path.ratio == pytest.approx(14.0 / 12.5)
    assert path.chain[-1][2] is False  # the helper is flagged as ours
    assert critical_path([], dependencies) is None
