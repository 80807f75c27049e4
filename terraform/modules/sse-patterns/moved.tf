# The buckets of the customer managed key were instances of module.bucket until they got a module call
# of their own (so that the other buckets need not wait for the key): a stack deployed before that
# moves them, it does not replace them (test_c in tests/faults/test_faults.py).
moved {
  from = module.bucket["sse_kms_cmk"]
  to   = module.customer_managed_key_bucket["sse_kms_cmk"]
}

moved {
  from = module.bucket["dsse_kms"]
  to   = module.customer_managed_key_bucket["dsse_kms"]
}
