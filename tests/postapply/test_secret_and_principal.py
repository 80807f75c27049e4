"""The SSE-C key's shape and whereabouts, and who the checks run as."""

from __future__ import annotations

import json

from ssepatterns import stack
from ssepatterns.key_scan import artifact_texts, holding_key
from ssepatterns.verify.marks import check
from ssepatterns.verify.observe import key_format


@check("setup.principal-not-root", "setup", "a non-root IAM principal")
def test_checks_run_as_a_non_root_principal(verify, target):
    arn = target.client("sts").get_caller_identity()["Arn"]
    kind = "root" if arn.endswith(":root") else ("IAM user" if ":user/" in arn else "assumed role")
    observed = verify.observe("the account root" if kind == "root" else f"a non-root IAM principal ({kind})")
    assert kind != "root", observed


@check("secret.key-format", "secret", "32 characters, lowercase letters and digits, both present")
def test_key_format(verify, sse_c_key):
    observed = verify.observe(key_format(sse_c_key))
    assert observed == "32 characters, lowercase letters and digits, both present"


@check(
    "secret.absent-from-state-and-plans",
    "secret",
    "the key (raw or base64) is in neither the state nor a saved plan",
)
def test_key_is_absent_from_state_and_plans(verify, target, sse_c_key):
    # The state from its backend (S3 on the aws env; the local backend's file), and every saved plan.
    state = stack.state_text(target.env, stack.terraform_for(target.env, echo=False))
    plans = sorted(target.env.plan_file.parent.glob("*.tfplan"))
    texts = {"state": state.encode(), **artifact_texts(plans)}
    # The right state, with the stack in it: otherwise "absent" would prove nothing.
    assert "sse_c_key_secret" in json.loads(state).get("outputs", {}), "no stack in the state"
    found = holding_key(sse_c_key, texts)
    observed = verify.observe(
        f"found in {', '.join(found)}" if found else f"in neither the state nor {len(plans)} saved plan(s)"
    )
    assert not found, observed
