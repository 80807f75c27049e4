#!/bin/sh
# The local-exec interpreter of the SSE-C setting: run put_blocked_encryption_types.py (next to this
# file) with the python3 on PATH, or say in one line that there is none. POSIX sh, no other
# command needed: ./inv puts the project's virtualenv (boto3, botocore) first on PATH.
if ! command -v python3 >/dev/null 2>&1; then
  echo "put_blocked_encryption_types: python3 not found on PATH: the SSE-C setting needs python3 with boto3 (./inv puts its virtualenv first on PATH)" >&2
  exit 127
fi
case $0 in
  */*) here=${0%/*} ;;
  *) here=. ;;
esac
exec python3 "$here/put_blocked_encryption_types.py" "$@"
