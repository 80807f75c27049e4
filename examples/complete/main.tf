# Every S3 server-side encryption pattern, as a consumer's own root would deploy it. In your root,
# give the module's source as a git URL pinned to a tag (see README.md); here it is the relative
# path, so that this example is validated and planned against the code beside it.

data "aws_caller_identity" "current" {}

module "sse_patterns" {
  source = "../../terraform/modules/sse-patterns"

  prefix = var.prefix
  # Bucket names are global: the account and region make them unique and let regions coexist.
  global_name_infix  = "${data.aws_caller_identity.current.account_id}-${var.region}"
  lambda_package_dir = var.lambda_package_dir

  tags = {
    project = "sse-demo"
  }
}
