#!/bin/sh
# Side-by-side upload benchmark (see bench/README.md). All arguments go to bench/run.py, e.g.
#   sh bench/run.sh --runs 3 --rss
#   sh bench/run.sh --datasets small --candidate-name migrate --candidate 'cargohold migrate run ...'
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec "${PYTHON:-python3}" "$here/run.py" "$@"
